/**
 * NspawnMachine's step scripts on the CoreOS host: fetch (URL images), verify, import,
 * settings, enable and start; each with its delete. All idempotent.
 */
import {
  command,
  installStdinFunction,
  say,
  script,
  sourcesLibrary,
  StepId,
  stepOf,
  warn,
  withStdin,
} from "../../shell";
import {
  nspawnSettingsPath,
  renderNspawnSettings,
  renderUnitOverride,
  unitOverrideDir,
  unitOverridePath,
} from "../nspawn";
import {
  inFrrFunctions,
  MACHINE_STATE,
  MACHINE_VARIABLE,
  machineVariable,
  removeStateDirs,
  waitUntilFunction,
} from "./lib";

/** The short id of an image in names on the host: the first 16 hex digits of its id. */
export function shortImageId(imageId: string): string {
  return imageId.slice(0, 16);
}

/**
 * The name of image `imageId` of a machine while it does not run: imported beside the
 * running machine, or kept after it for a rollback. The running image is `machine` itself.
 */
export function sideImageName(machine: string, imageId: string): string {
  return `${machine}-${shortImageId(imageId)}`;
}

/** Where the image tarball waits on the host (world-writable /var/tmp: the SSH user copies it). */
export function remoteTarPath(machine: string, imageId: string, extension: string): string {
  return `/var/tmp/frr-nspawn-${machine}-${shortImageId(imageId)}${extension}`;
}

/** The image's extension (`.tar`, `.tar.gz`, `.tar.xz`) from its file name; import-tar reads all three. */
export function tarExtension(path: string): string {
  const match = /(\.tar(\.gz|\.xz|\.bz2)?|\.tgz)$/.exec(path);
  return match === null ? ".tar" : match[1];
}

/*
 * frr-nspawn's records of a machine's images, in its state folder `$s` (lib.ts
 * MACHINE_STATE): `$s/active` holds the short id of the image the machine runs;
 * `$s/previous` the one it ran before (kept as `<machine>-<id>`); `$s/images/` one empty
 * file per image frr-nspawn imported, named by its short id; `$s/image.sha256` was written
 * by earlier versions (the SHA-256 of the one image).
 */

/**
 * Lines defining `adopt_legacy_state`: adopts an earlier version's record
 * (`image.sha256`) of the machine named by MACHINE_VARIABLE as its active image.
 */
export function adoptLegacyFunction(): string[] {
  return [
    "adopt_legacy_state() {",
    `    local s=${MACHINE_STATE} legacy`,
    '    if [ -e "$s/image.sha256" ] && [ ! -e "$s/active" ]; then',
    '        legacy=$(cut -c1-16 "$s/image.sha256")',
    '        mkdir -p "$s/images"',
    '        : > "$s/images/$legacy"',
    `        printf '%s\\n' "$legacy" > "$s/active"`,
    '        rm -f "$s/image.sha256"',
    "    fi",
    "}",
  ];
}

/**
 * Lines defining `fetch_image URL TAR SHA256`, the fetch step's body: downloads a URL
 * image on the host (curl or wget), keeping a finished copy (nothing to do when TAR is
 * there and matches).
 */
export function fetchImageFunction(): string[] {
  return [
    "fetch_image() {",
    '    if [ -e "$2" ] && echo "$3  $2" | sha256sum --check --status -; then',
    `        ${say(`image already downloaded`)}`,
    "        exit 0",
    "    fi",
    "    if command -v curl >/dev/null; then",
    '        curl --fail --silent --show-error --location --retry 3 --output "$2.part" "$1"',
    "    elif command -v wget >/dev/null; then",
    '        wget --quiet --tries=3 --output-document "$2.part" "$1"',
    "    else",
    `        ${warn(`neither curl nor wget is on this host; copy the image with image: { path, sha256 } instead`)}`,
    "        exit 1",
    "    fi",
    '    mv -f "$2.part" "$2"',
    "}",
  ];
}

/** The fetch step: {@link fetchImageFunction} for `url` into `tar`. */
export function renderFetch(step: StepId, url: string, tar: string, sha256: string): string {
  return script({ ...stepOf(step), description: `download the FRR image to ${tar}` }, [
    ...(sourcesLibrary(step) ? [] : fetchImageFunction()),
    command("fetch_image", url, tar, sha256),
  ]);
}

/**
 * What the tarball must hash to: a known digest (`{ path, sha256 }`, `{ url, sha256 }`),
 * or the build's own checksum file, copied beside the tarball (an FrrImage: its digest is
 * only known once it is built, so no script embeds it).
 */
export type ExpectedDigest = { sha256: string } | { sha256File: string };

/**
 * Lines defining `verify_tar TAR SHA256` and `verify_tar_file TAR FILE`, the verify
 * step's body: checks the tarball's SHA-256 on the host before anything imports it,
 * against a known digest, or against the first word of FILE (the build's checksum
 * file, copied beside the tarball); and `remove_tar TAR`, its delete: the tarball goes,
 * with its checksum file (a copy has no delete of its own).
 */
export function verifyTarFunctions(): string[] {
  const retry = "Remove the file and run pulumi up again to copy it anew.";
  return [
    "verify_tar() {",
    '    if ! printf \'%s  %s\\n\' "$2" "$1" | sha256sum --check --status -; then',
    `        echo "frr-nspawn: $1 is missing or does not match sha256 $2; nothing was imported. ${retry}" >&2`,
    "        exit 1",
    "    fi",
    `    ${say(`checksum verified`)}`,
    "}",
    "verify_tar_file() {",
    "    local expected",
    '    if ! read -r expected _ < "$2"; then',
    `        echo "frr-nspawn: the build's checksum file $2 is missing or empty; nothing was imported. ${retry}" >&2`,
    "        exit 1",
    "    fi",
    "    if ! [[ $expected =~ ^[0-9a-f]{64}$ ]]; then",
    `        echo "frr-nspawn: $2 holds no SHA-256; nothing was imported. ${retry}" >&2`,
    "        exit 1",
    "    fi",
    '    verify_tar "$1" "$expected"',
    "}",
    "remove_tar() {",
    '    rm -f "$1" "$1.part" "$1.sha256" "$1.sha256.part"',
    "}",
  ];
}

/** The verify step: {@link verifyTarFunctions} against `expected`. */
export function renderVerify(step: StepId, tar: string, expected: ExpectedDigest): string {
  return script({ ...stepOf(step), description: `check the SHA-256 of ${tar}` }, [
    ...(sourcesLibrary(step) ? [] : verifyTarFunctions()),
    "sha256" in expected
      ? command("verify_tar", tar, expected.sha256)
      : command("verify_tar_file", tar, expected.sha256File),
  ]);
}

/** Delete of the verify step: {@link verifyTarFunctions}' `remove_tar`. */
export function renderRemoveTar(step: StepId, tar: string): string {
  return script({ ...stepOf(step), description: `remove ${tar}` }, [
    ...(sourcesLibrary(step) ? [] : verifyTarFunctions()),
    command("remove_tar", tar),
  ]);
}

/**
 * Lines defining `machine_gone` and `stop_machine` (for the machine named by
 * MACHINE_VARIABLE): power off and wait (polling 5 times a second, at most 90 s), then
 * terminate if it will not stop. The same text inline and in the host library.
 */
export function stopMachineFunctions(): string[] {
  const m = `"$${MACHINE_VARIABLE}"`;
  return [
    "machine_gone() {",
    `    ! machinectl show ${m} >/dev/null 2>&1`,
    "}",
    "stop_machine() {",
    "    local deadline=$((SECONDS + 90))",
    "    if machine_gone; then return 0; fi",
    `    machinectl poweroff ${m} || true`,
    "    until machine_gone; do",
    '        if [ "$SECONDS" -ge "$deadline" ]; then',
    `            echo "frr-nspawn: timed out after 90s waiting for machine $${MACHINE_VARIABLE} to power off: terminating it" >&2`,
    `            machinectl terminate ${m} || true`,
    `            wait_until 30 "machine $${MACHINE_VARIABLE} to terminate" machine_gone`,
    "            return",
    "        fi",
    "        sleep 0.2",
    "    done",
    "}",
  ];
}

/**
 * Lines defining `import_image ID TAR` (for the machine named by MACHINE_VARIABLE): the
 * import step's body. Imports TAR as image `<machine>-<ID>`, beside the running machine,
 * which it does not touch; the start step switches the machine to it. Nothing to do when
 * that image is imported already (it runs, or was kept for a rollback). `importctl -m
 * import-tar` where it exists (systemd 256 on; 257's machinectl says import-tar moved
 * there), `machinectl import-tar` on older hosts. Like every step body, it ends the
 * script: `exit 1` on failure.
 */
export function importImageFunction(): string[] {
  return [
    "import_image() {",
    `    local id=$1 tar=$2 m=$${MACHINE_VARIABLE} s=${MACHINE_STATE}`,
    "    local image=$m-$id",
    "    adopt_legacy_state",
    '    if [ "$(cat "$s/active" 2>/dev/null)" = "$id" ]; then',
    '        echo "frr-nspawn: image $id already runs machine $m"',
    "        exit 0",
    "    fi",
    '    if [ -e "/var/lib/machines/$image" ]; then',
    '        if [ -e "$s/images/$id" ]; then',
    '            echo "frr-nspawn: image $image is already imported"',
    "            exit 0",
    "        fi",
    '        echo "frr-nspawn: an image named $image exists that frr-nspawn did not import; remove it (machinectl remove $image) and run again" >&2',
    "        exit 1",
    "    fi",
    '    mkdir -p "$s/images"',
    "    if command -v importctl >/dev/null 2>&1; then",
    '        importctl -m import-tar "$tar" "$image"',
    "    else",
    '        machinectl import-tar "$tar" "$image"',
    "    fi",
    '    : > "$s/images/$id"',
    '    echo "frr-nspawn: imported $image; the start step switches machine $m to it"',
    "}",
  ];
}

/** The import step: {@link importImageFunction} for `tar` as image `imageId` of `machine`. */
export function renderImport(step: StepId, machine: string, imageId: string, tar: string): string {
  return script(
    {
      ...stepOf(step),
      lock: true,
      description: `import ${tar} as machine image ${sideImageName(machine, imageId)}`,
    },
    [
      machineVariable(machine),
      ...(sourcesLibrary(step) ? [] : [...adoptLegacyFunction(), ...importImageFunction()]),
      command("import_image", shortImageId(imageId), tar),
    ],
  );
}

/**
 * Lines defining `remove_image ID` (for the machine named by MACHINE_VARIABLE): the
 * import step's delete (an image that was replaced, or destroy). Removes that image
 * unless the machine runs it or keeps it for a rollback, and only if frr-nspawn imported it.
 */
export function removeImageFunction(): string[] {
  return [
    "remove_image() {",
    `    local id=$1 m=$${MACHINE_VARIABLE} s=${MACHINE_STATE}`,
    "    adopt_legacy_state",
    '    if [ ! -e "$s/images/$id" ]; then',
    '        echo "frr-nspawn: frr-nspawn has no image $id of machine $m; nothing to remove"',
    "        exit 0",
    "    fi",
    '    if [ "$(cat "$s/active" 2>/dev/null)" = "$id" ]; then',
    `        echo "frr-nspawn: image $id runs machine $m: the start step's delete removes it"`,
    "        exit 0",
    "    fi",
    '    if [ "$(cat "$s/previous" 2>/dev/null)" = "$id" ]; then',
    '        echo "frr-nspawn: image $m-$id is kept for a rollback"',
    "        exit 0",
    "    fi",
    '    if [ -e "/var/lib/machines/$m-$id" ]; then',
    '        machinectl remove "$m-$id"',
    "    fi",
    '    rm -f "$s/images/$id"',
    "}",
  ];
}

/** Delete of the import step: {@link removeImageFunction} for image `imageId` of `machine`. */
export function renderRemoveImage(step: StepId, machine: string, imageId: string): string {
  return script(
    {
      ...stepOf(step),
      lock: true,
      description: `remove machine image ${sideImageName(machine, imageId)} unless it runs or is kept`,
    },
    [
      machineVariable(machine),
      ...(sourcesLibrary(step) ? [] : [...adoptLegacyFunction(), ...removeImageFunction()]),
      command("remove_image", shortImageId(imageId)),
    ],
  );
}

/** How the machine is given the host's network and its capabilities. */
import type { SettingsMode } from "../../enums";
export type { SettingsMode };

/**
 * Lines defining `settings_apply FILE OTHER` (FILE's content on stdin), the settings
 * step's body: writes the settings file (or the seed's unit drop-in), removes the other
 * mode's file OTHER, reloads systemd; the machine named by MACHINE_VARIABLE is restarted
 * when it runs and its settings changed; and `settings_remove FILE OTHER`, its delete.
 * Both files' folders are /etc/systemd/nspawn and the machine's unit drop-in folder.
 */
export function settingsFunctions(): string[] {
  const m = `$${MACHINE_VARIABLE}`;
  // nspawn.ts's folder, with the machine's name as the shell reads it.
  const dropIns = unitOverrideDir(m);
  return [
    "settings_apply() {",
    "    local before after",
    `    mkdir -p /etc/systemd/nspawn "${dropIns}"`,
    // Missing files read as empty: a first run is a change too.
    '    before=$(cat "$1" "$2" 2>/dev/null | sha256sum || true)',
    '    install_stdin "$1" 0644',
    '    rm -f "$2"',
    `    rmdir --ignore-fail-on-non-empty "${dropIns}"`,
    "    systemctl daemon-reload",
    '    after=$(sha256sum < "$1")',
    `    if [ "$before" != "$after" ] && [ "$(machinectl show "${m}" --property=State --value 2>/dev/null)" = running ]; then`,
    `        echo "frr-nspawn: settings changed: restarting machine ${m}"`,
    `        systemctl restart "systemd-nspawn@${m}.service"`,
    "    fi",
    "}",
    "settings_remove() {",
    '    rm -f "$1" "$2"',
    `    rmdir "${dropIns}" 2>/dev/null || true`,
    // Created by the settings step; an empty one goes too.
    "    rmdir /etc/systemd/nspawn 2>/dev/null || true",
    "    systemctl daemon-reload",
    "}",
  ];
}

/** The settings step: {@link settingsFunctions}' apply with the file of `mode`. */
export function renderSettings(
  step: StepId,
  machine: string,
  mode: SettingsMode,
  capabilities: readonly string[],
): string {
  const file = mode === "nspawn-file" ? nspawnSettingsPath(machine) : unitOverridePath(machine);
  const other = mode === "nspawn-file" ? unitOverridePath(machine) : nspawnSettingsPath(machine);
  const content =
    mode === "nspawn-file" ? renderNspawnSettings(capabilities) : renderUnitOverride();
  return script(
    { ...stepOf(step), lock: true, description: `${mode} settings for machine ${machine}` },
    [
      machineVariable(machine),
      ...(sourcesLibrary(step) ? [] : [...installStdinFunction(), ...settingsFunctions()]),
      ...withStdin(command("settings_apply", file, other), content, `the content for ${file}`),
    ],
  );
}

/** Delete of the settings step: {@link settingsFunctions}' remove. */
export function renderRemoveSettings(step: StepId, machine: string): string {
  return script(
    { ...stepOf(step), lock: true, description: `remove the settings of machine ${machine}` },
    [
      machineVariable(machine),
      ...(sourcesLibrary(step) ? [] : settingsFunctions()),
      command("settings_remove", nspawnSettingsPath(machine), unitOverridePath(machine)),
    ],
  );
}

/**
 * Lines defining `wait_booted SECONDS` (for the machine named by MACHINE_VARIABLE): polls
 * (5 times a second) until the machine's own systemd has finished booting; fails at once
 * if the machine's unit stops. The same text inline and in the host library.
 */
export function waitBootedFunction(): string[] {
  return [
    "wait_booted() {",
    "    local deadline=$((SECONDS + $1)) state unit",
    "    while :; do",
    "        state=$(in_frr systemctl is-system-running 2>/dev/null || true)",
    '        if [ "$state" = running ] || [ "$state" = degraded ]; then return 0; fi',
    `        unit=$(systemctl show --property=ActiveState --value "systemd-nspawn@$${MACHINE_VARIABLE}.service" 2>/dev/null || true)`,
    '        if [ "$unit" = failed ] || [ "$unit" = inactive ]; then',
    `            echo "frr-nspawn: machine $${MACHINE_VARIABLE} stopped while booting (unit $unit)" >&2`,
    "            return 1",
    "        fi",
    '        if [ "$SECONDS" -ge "$deadline" ]; then',
    `            echo "frr-nspawn: timed out after $1s waiting for machine $${MACHINE_VARIABLE} to boot" >&2`,
    "            return 1",
    "        fi",
    "        sleep 0.2",
    "    done",
    "}",
  ];
}

/**
 * Lines defining `frr_active` and `switch_off` (for the machine named by
 * MACHINE_VARIABLE). FRR first, as a restart stops it (its sessions are closed properly);
 * then the rest of the old machine is ended at once instead of shut down unit by unit:
 * nothing else in it matters, and every second here is a second without routing. The
 * same text inline and in the host library.
 */
export function switchOffFunctions(): string[] {
  return [
    "frr_active() {",
    "    in_frr systemctl is-active --quiet frr 2>/dev/null",
    "}",
    "switch_off() {",
    "    local deadline=$((SECONDS + 30))",
    "    if machine_gone; then return 0; fi",
    "    if frr_active; then in_frr timeout 60 systemctl stop frr || true; fi",
    `    machinectl terminate "$${MACHINE_VARIABLE}" || true`,
    "    until machine_gone; do",
    '        if [ "$SECONDS" -ge "$deadline" ]; then',
    `            echo "frr-nspawn: machine $${MACHINE_VARIABLE} did not end within 30s of machinectl terminate" >&2`,
    "            return 1",
    "        fi",
    "        sleep 0.1",
    "    done",
    "}",
  ];
}

/**
 * Lines defining `carry_frr_config FROM TO`: FRR's `frr.conf` and (when frr-nspawn wrote
 * it) `daemons` go from one rootfs to the other, so that the new image's FRR starts with
 * the running configuration; each file keeps the new image's owner and mode, and the
 * new image's own `daemons` is kept as the original to restore.
 */
export function carryConfigFunction(): string[] {
  return [
    "carry_frr_config() {",
    "    local from=$1/etc/frr to=$2/etc/frr file",
    '    [ -d "$from" ] && [ -d "$to" ] || return 0',
    '    if [ -e "$from/daemons.frr-nspawn-orig" ] && [ -e "$to/daemons" ] && [ ! -e "$to/daemons.frr-nspawn-orig" ]; then',
    '        cp -p "$to/daemons" "$to/daemons.frr-nspawn-orig"',
    "    fi",
    "    for file in frr.conf daemons; do",
    '        [ -e "$from/$file" ] || continue',
    '        if [ "$file" = daemons ] && [ ! -e "$from/daemons.frr-nspawn-orig" ]; then continue; fi',
    '        if [ ! -e "$to/$file" ]; then',
    '            install -m 0640 /dev/null "$to/$file"',
    '            chown --reference="$to" "$to/$file"',
    "        fi",
    '        cat "$from/$file" > "$to/$file"',
    "    done",
    "}",
  ];
}

/**
 * Lines defining `start_image ID BOOT_SECONDS` (for the machine named by
 * MACHINE_VARIABLE): the start step's body. Enables (start at boot) and starts the machine
 * on image ID, and waits until its own systemd is up. When the machine runs another image,
 * this is the switch: the new image (imported beside it) gets the running FRR
 * configuration, the old machine stops only then, the images swap names (the old one is
 * kept as `<machine>-<id>` for a rollback) and the new one boots. If it does not boot, or
 * its FRR does not start where the old one's ran, the old image is put back and started,
 * and the step fails. Older kept images go. It ends the script.
 */
export function startImageFunction(): string[] {
  const m = `$${MACHINE_VARIABLE}`;
  return [
    "start_image() {",
    `    local id=$1 boot=$2 m=${m} s=${MACHINE_STATE} root=/var/lib/machines/${m}`,
    `    local side=/var/lib/machines/${m}-$1 active kept frr_was_active=no moved_new=no saved_err_trap`,
    "    adopt_legacy_state",
    '    active=$(cat "$s/active" 2>/dev/null || true)',
    '    if [ "$active" = "$id" ]; then',
    '        machinectl enable "$m" >/dev/null',
    "        if ! machine_running; then",
    '            machinectl start "$m"',
    "        fi",
    '        if ! wait_booted "$boot"; then',
    '            journalctl --no-pager -n 30 -u "systemd-nspawn@$m.service" >&2 || true',
    "            exit 1",
    "        fi",
    '        echo "frr-nspawn: machine $m runs image $id"',
    "        exit 0",
    "    fi",
    '    if [ -z "$active" ] && [ -e "$root" ]; then',
    '        echo "frr-nspawn: an image named $m exists that frr-nspawn did not import; remove it (machinectl remove $m) or choose another machineName" >&2',
    "        exit 1",
    "    fi",
    '    if [ ! -e "$side" ] || [ ! -e "$s/images/$id" ]; then',
    '        echo "frr-nspawn: image $m-$id is not imported (the import step does that); run pulumi up again" >&2',
    "        exit 1",
    "    fi",
    '    if [ -n "$active" ] && [ -e "$root-$active" ]; then',
    '        echo "frr-nspawn: $root-$active is in the way of keeping the running image; remove it and run again" >&2',
    "        exit 1",
    "    fi",
    '    echo "frr-nspawn: preparing image $id beside the running machine"',
    '    carry_frr_config "$root" "$side"',
    "    if machine_running && frr_active; then frr_was_active=yes; fi",
    // From here on, any failure puts the previous image back and starts it.
    "    put_back() {",
    "        trap - ERR",
    "        set +e",
    '        journalctl --no-pager -n 30 -u "systemd-nspawn@$m.service" >&2 || true',
    "        stop_machine",
    '        if [ "$moved_new" = yes ]; then mv -T "$root" "$side"; fi',
    '        if [ -n "$active" ]; then',
    '            [ -e "$root" ] || mv -T "$root-$active" "$root"',
    `            printf '%s\\n' "$active" > "$s/active"`,
    '            rm -f "$s/previous"',
    '            if machinectl start "$m" && wait_booted "$boot"; then',
    '                echo "frr-nspawn: image $id did not come up: putting the previous image back; it runs again" >&2',
    "            else",
    '                echo "frr-nspawn: image $id did not come up: putting the previous image back; it did not boot either" >&2',
    "            fi",
    "        else",
    '            rm -f "$s/active"',
    '            echo "frr-nspawn: image $id did not come up" >&2',
    "        fi",
    "        exit 1",
    "    }",
    '    echo "frr-nspawn: switching machine $m from image ${active:-none} to $id"',
    "    switch_off",
    "    saved_err_trap=$(trap -p ERR)",
    "    trap put_back ERR",
    '    if [ -n "$active" ]; then',
    '        mv -T "$root" "$root-$active"',
    `        printf '%s\\n' "$active" > "$s/previous"`,
    "    fi",
    '    mv -T "$side" "$root"',
    "    moved_new=yes",
    `    printf '%s\\n' "$id" > "$s/active"`,
    '    machinectl enable "$m" >/dev/null',
    '    machinectl start "$m"',
    '    wait_booted "$boot"',
    '    if [ "$frr_was_active" = yes ]; then',
    "        wait_until 60 'FRR in the new image to start' frr_active",
    "    fi",
    '    eval "$saved_err_trap"',
    '    echo "frr-nspawn: machine $m runs image $id; the previous image is kept for a rollback"',
    // Keep the running image and the one before it; older ones go.
    '    for kept in "$s/images"/*; do',
    '        [ -e "$kept" ] || continue',
    "        kept=${kept##*/}",
    '        if [ "$kept" = "$id" ] || [ "$kept" = "$active" ]; then continue; fi',
    '        if [ -e "$root-$kept" ]; then',
    '            machinectl remove "$m-$kept" || { echo "frr-nspawn: could not remove the old image $m-$kept" >&2; continue; }',
    "        fi",
    '        rm -f "$s/images/$kept"',
    "    done",
    "}",
  ];
}

/** The start step: {@link startImageFunction} for image `imageId` of `machine`. */
export function renderStart(
  step: StepId,
  machine: string,
  imageId: string,
  timeoutSeconds: number,
): string {
  const id = shortImageId(imageId);
  return script(
    { ...stepOf(step), lock: true, description: `run machine ${machine} on image ${id}` },
    [
      ...inFrrFunctions({ kind: "machine", machine }, step),
      ...(sourcesLibrary(step)
        ? []
        : [
            ...waitUntilFunction(),
            ...stopMachineFunctions(),
            ...waitBootedFunction(),
            ...carryConfigFunction(),
            ...switchOffFunctions(),
            ...adoptLegacyFunction(),
            ...startImageFunction(),
          ]),
      command("start_image", id, String(timeoutSeconds)),
    ],
  );
}

/**
 * Lines defining `remove_machine` (for the machine named by MACHINE_VARIABLE): the start
 * step's delete (destroy). Disables and stops the machine (bounded; terminate if it
 * hangs), then removes the images frr-nspawn imported for it (the running one, the one
 * kept for a rollback) and its records. An image it did not import is never touched.
 */
export function removeMachineFunction(): string[] {
  return [
    "remove_machine() {",
    `    local m=$${MACHINE_VARIABLE} s=${MACHINE_STATE} kept`,
    "    adopt_legacy_state",
    '    machinectl disable "$m" 2>/dev/null || true',
    "    stop_machine",
    '    if [ -e "$s/active" ] && machinectl image-status "$m" >/dev/null 2>&1; then',
    '        machinectl remove "$m"',
    "    fi",
    '    for kept in "$s/images"/*; do',
    '        [ -e "$kept" ] || continue',
    "        kept=${kept##*/}",
    '        if [ -e "/var/lib/machines/$m-$kept" ]; then',
    '            machinectl remove "$m-$kept"',
    "        fi",
    '        rm -f "$s/images/$kept"',
    "    done",
    '    rmdir "$s/images" 2>/dev/null || true',
    '    rm -f "$s/active" "$s/previous"',
    ...removeStateDirs(),
    "}",
  ];
}

/** Delete of the start step: {@link removeMachineFunction} for `machine`. */
export function renderStop(step: StepId, machine: string): string {
  return script(
    { ...stepOf(step), lock: true, description: `stop machine ${machine} and remove its images` },
    [
      machineVariable(machine),
      ...(sourcesLibrary(step)
        ? []
        : [
            ...waitUntilFunction(),
            ...stopMachineFunctions(),
            ...adoptLegacyFunction(),
            ...removeMachineFunction(),
          ]),
      "remove_machine",
    ],
  );
}
