/**
 * NspawnMachine's step scripts on the CoreOS host: fetch (URL images), verify, import,
 * settings, enable and start; each with its delete. All idempotent.
 */
import {
  command,
  quote,
  say,
  script,
  sourcesLibrary,
  StepId,
  stepOf,
  warn,
  writeFile,
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
  MACHINE_VARIABLE,
  machineStateDir,
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

/** frr-nspawn's records of a machine's images on the host. */
function imageState(machine: string) {
  const dir = machineStateDir(machine);
  return {
    /** The short id of the image `machine` runs. */
    active: `${dir}/active`,
    /** The short id of the image it ran before (kept as `<machine>-<id>`). */
    previous: `${dir}/previous`,
    /** One empty file per image frr-nspawn imported, named by its short id. */
    images: `${dir}/images`,
    /** Written by earlier versions: the SHA-256 of the one image. */
    legacy: `${dir}/image.sha256`,
  };
}

/** Lines that adopt an earlier version's record (`image.sha256`) as the active image. */
function adoptLegacyState(machine: string): string[] {
  const s = imageState(machine);
  return [
    `if [ -e ${quote(s.legacy)} ] && [ ! -e ${quote(s.active)} ]; then`,
    `    legacy=$(cut -c1-16 ${quote(s.legacy)})`,
    `    ${command("mkdir", "-p", s.images)}`,
    `    : > ${quote(s.images)}/"$legacy"`,
    `    printf '%s\\n' "$legacy" > ${quote(s.active)}`,
    `    rm -f ${quote(s.legacy)}`,
    "fi",
  ];
}

/** Download a URL image on the host (curl or wget), keeping a finished copy. */
export function renderFetch(step: StepId, url: string, tar: string, sha256: string): string {
  return script({ ...stepOf(step), description: `download the FRR image to ${tar}` }, [
    `if [ -e ${quote(tar)} ] && echo ${quote(`${sha256}  ${tar}`)} | sha256sum --check --status -; then`,
    `    ${say(`image already downloaded`)}`,
    "    exit 0",
    "fi",
    "if command -v curl >/dev/null; then",
    `    ${command("curl", "--fail", "--silent", "--show-error", "--location", "--retry", "3", "--output", `${tar}.part`, url)}`,
    "elif command -v wget >/dev/null; then",
    `    ${command("wget", "--quiet", "--tries=3", "--output-document", `${tar}.part`, url)}`,
    "else",
    `    ${warn(`neither curl nor wget is on this host; copy the image with image: { path, sha256 } instead`)}`,
    "    exit 1",
    "fi",
    command("mv", "-f", `${tar}.part`, tar),
  ]);
}

/**
 * What the tarball must hash to: a known digest (`{ path, sha256 }`, `{ url, sha256 }`),
 * or the build's own checksum file, copied beside the tarball (an FrrImage: its digest is
 * only known once it is built, so no script embeds it).
 */
export type ExpectedDigest = { sha256: string } | { sha256File: string };

/** Check the tarball's SHA-256 on the host before anything imports it. */
export function renderVerify(step: StepId, tar: string, expected: ExpectedDigest): string {
  const retry = "Remove the file and run pulumi up again to copy it anew.";
  const digest =
    "sha256" in expected
      ? [`expected=${quote(expected.sha256)}`]
      : [
          `if ! read -r expected _ < ${quote(expected.sha256File)}; then`,
          `    ${warn(`the build's checksum file ${expected.sha256File} is missing or empty; nothing was imported. ${retry}`)}`,
          "    exit 1",
          "fi",
          `if ! [[ $expected =~ ^[0-9a-f]{64}$ ]]; then`,
          `    ${warn(`${expected.sha256File} holds no SHA-256; nothing was imported. ${retry}`)}`,
          "    exit 1",
          "fi",
        ];
  return script({ ...stepOf(step), description: `check the SHA-256 of ${tar}` }, [
    ...digest,
    `if ! printf '%s  %s\\n' "$expected" ${quote(tar)} | sha256sum --check --status -; then`,
    `    echo ${quote(`frr-nspawn: ${tar} is missing or does not match sha256`)} "$expected;" ${quote(`nothing was imported. ${retry}`)} >&2`,
    "    exit 1",
    "fi",
    `${say(`checksum verified`)}`,
  ]);
}

/** Delete of the verify step: the tarball goes, with its checksum file (a copy has no delete of its own). */
export function renderRemoveTar(step: StepId, tar: string): string {
  return script({ ...stepOf(step), description: `remove ${tar}` }, [
    command("rm", "-f", tar, `${tar}.part`, `${tar}.sha256`, `${tar}.sha256.part`),
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
 * Import the tarball as image `<machine>-<id>`, beside the running machine, which it does
 * not touch; the start step switches the machine to it. Nothing to do when that image is
 * imported already (it runs, or was kept for a rollback).
 */
export function renderImport(step: StepId, machine: string, imageId: string, tar: string): string {
  const id = shortImageId(imageId);
  const image = sideImageName(machine, imageId);
  const s = imageState(machine);
  return script(
    { ...stepOf(step), lock: true, description: `import ${tar} as machine image ${image}` },
    [
      ...adoptLegacyState(machine),
      `if [ "$(cat ${quote(s.active)} 2>/dev/null)" = ${quote(id)} ]; then`,
      `    ${say(`image ${id} already runs machine ${machine}`)}`,
      "    exit 0",
      "fi",
      `if [ -e ${quote(`/var/lib/machines/${image}`)} ]; then`,
      `    if [ -e ${quote(`${s.images}/${id}`)} ]; then`,
      `        ${say(`image ${image} is already imported`)}`,
      "        exit 0",
      "    fi",
      `    ${warn(`an image named ${image} exists that frr-nspawn did not import; remove it (machinectl remove ${image}) and run again`)}`,
      "    exit 1",
      "fi",
      command("mkdir", "-p", s.images),
      ...importTarLines(tar, image),
      `: > ${quote(`${s.images}/${id}`)}`,
      `${say(`imported ${image}; the start step switches machine ${machine} to it`)}`,
    ],
  );
}

/**
 * Lines importing `tar` as machine image `machine`: `importctl -m import-tar` where it
 * exists (systemd 256 on; 257's machinectl says import-tar moved there), `machinectl
 * import-tar` on older hosts.
 */
export function importTarLines(tar: string, machine: string): string[] {
  return [
    "if command -v importctl >/dev/null 2>&1; then",
    `    ${command("importctl", "-m", "import-tar", tar, machine)}`,
    "else",
    `    ${command("machinectl", "import-tar", tar, machine)}`,
    "fi",
  ];
}

/**
 * Delete of the import step (an image that was replaced, or destroy): remove that image
 * unless the machine runs it or keeps it for a rollback.
 */
export function renderRemoveImage(step: StepId, machine: string, imageId: string): string {
  const id = shortImageId(imageId);
  const image = sideImageName(machine, imageId);
  const s = imageState(machine);
  return script(
    {
      ...stepOf(step),
      lock: true,
      description: `remove machine image ${image} unless it runs or is kept`,
    },
    [
      ...adoptLegacyState(machine),
      `if [ ! -e ${quote(`${s.images}/${id}`)} ]; then`,
      `    ${say(`frr-nspawn has no image ${id} of machine ${machine}; nothing to remove`)}`,
      "    exit 0",
      "fi",
      `if [ "$(cat ${quote(s.active)} 2>/dev/null)" = ${quote(id)} ]; then`,
      `    ${say(`image ${id} runs machine ${machine}: the start step's delete removes it`)}`,
      "    exit 0",
      "fi",
      `if [ "$(cat ${quote(s.previous)} 2>/dev/null)" = ${quote(id)} ]; then`,
      `    ${say(`image ${image} is kept for a rollback`)}`,
      "    exit 0",
      "fi",
      `if [ -e ${quote(`/var/lib/machines/${image}`)} ]; then`,
      `    machinectl remove ${quote(image)}`,
      "fi",
      command("rm", "-f", `${s.images}/${id}`),
    ],
  );
}

/** How the machine is given the host's network and its capabilities. */
import type { SettingsMode } from "../../enums";
export type { SettingsMode };

/**
 * Write the settings file (or the seed's unit drop-in), remove the other mode's file,
 * reload systemd; a running machine is restarted when its settings changed.
 */
export function renderSettings(
  step: StepId,
  machine: string,
  mode: SettingsMode,
  capabilities: readonly string[],
): string {
  const m = quote(machine);
  const file = mode === "nspawn-file" ? nspawnSettingsPath(machine) : unitOverridePath(machine);
  const other = mode === "nspawn-file" ? unitOverridePath(machine) : nspawnSettingsPath(machine);
  const content =
    mode === "nspawn-file" ? renderNspawnSettings(capabilities) : renderUnitOverride();
  return script(
    { ...stepOf(step), lock: true, description: `${mode} settings for machine ${machine}` },
    [
      command("mkdir", "-p", "/etc/systemd/nspawn", unitOverrideDir(machine)),
      // Missing files read as empty: a first run is a change too.
      `before=$(cat ${quote(file)} ${quote(other)} 2>/dev/null | sha256sum || true)`,
      ...writeFile(file, content, { mode: "0644" }),
      command("rm", "-f", other),
      `rmdir --ignore-fail-on-non-empty ${quote(unitOverrideDir(machine))}`,
      "systemctl daemon-reload",
      `after=$(sha256sum < ${quote(file)})`,
      `if [ "$before" != "$after" ] && [ "$(machinectl show ${m} --property=State --value 2>/dev/null)" = running ]; then`,
      `    ${say(`settings changed: restarting machine ${machine}`)}`,
      `    systemctl restart ${quote(`systemd-nspawn@${machine}.service`)}`,
      "fi",
    ],
  );
}

/** Delete of the settings step. */
export function renderRemoveSettings(step: StepId, machine: string): string {
  return script(
    { ...stepOf(step), lock: true, description: `remove the settings of machine ${machine}` },
    [
      command("rm", "-f", nspawnSettingsPath(machine), unitOverridePath(machine)),
      `rmdir ${quote(unitOverrideDir(machine))} 2>/dev/null || true`,
      // Created by the settings step; an empty one goes too.
      "rmdir /etc/systemd/nspawn 2>/dev/null || true",
      "systemctl daemon-reload",
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
 * Enable (start at boot) and start the machine on image `imageId`, and wait until its own
 * systemd is up. When the machine runs another image, this is the switch: the new image
 * (imported beside it) gets the running FRR configuration, the old machine stops only
 * then, the images swap names (the old one is kept as `<machine>-<id>` for a rollback)
 * and the new one boots. If it does not boot, or its FRR does not start where the old
 * one's ran, the old image is put back and started, and the step fails.
 */
export function renderStart(
  step: StepId,
  machine: string,
  imageId: string,
  timeoutSeconds: number,
): string {
  const m = quote(machine);
  const id = shortImageId(imageId);
  const s = imageState(machine);
  const root = quote(`/var/lib/machines/${machine}`);
  const side = quote(`/var/lib/machines/${sideImageName(machine, imageId)}`);
  const journal = `journalctl --no-pager -n 30 -u ${quote(`systemd-nspawn@${machine}.service`)} >&2 || true`;
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
          ]),
      ...adoptLegacyState(machine),
      `active=$(cat ${quote(s.active)} 2>/dev/null || true)`,
      `if [ "$active" = ${quote(id)} ]; then`,
      `    machinectl enable ${m} >/dev/null`,
      "    if ! machine_running; then",
      `        machinectl start ${m}`,
      "    fi",
      `    if ! wait_booted ${timeoutSeconds}; then`,
      `        ${journal}`,
      "        exit 1",
      "    fi",
      `    ${say(`machine ${machine} runs image ${id}`)}`,
      "    exit 0",
      "fi",
      `if [ -z "$active" ] && [ -e ${root} ]; then`,
      `    ${warn(`an image named ${machine} exists that frr-nspawn did not import; remove it (machinectl remove ${machine}) or choose another machineName`)}`,
      "    exit 1",
      "fi",
      `if [ ! -e ${side} ] || [ ! -e ${quote(`${s.images}/${id}`)} ]; then`,
      `    ${warn(`image ${sideImageName(machine, imageId)} is not imported (the import step does that); run pulumi up again`)}`,
      "    exit 1",
      "fi",
      `if [ -n "$active" ] && [ -e ${quote(`/var/lib/machines/${machine}-`)}"$active" ]; then`,
      `    echo ${quote(`frr-nspawn: /var/lib/machines/${machine}-`)}"$active" ${quote(`is in the way of keeping the running image; remove it and run again`)} >&2`,
      "    exit 1",
      "fi",
      `${say(`preparing image ${id} beside the running machine`)}`,
      `carry_frr_config ${root} ${side}`,
      "frr_was_active=no",
      "if machine_running && frr_active; then frr_was_active=yes; fi",
      // From here on, any failure puts the previous image back and starts it.
      "moved_new=no",
      "put_back() {",
      "    trap - ERR",
      "    set +e",
      `    ${journal}`,
      "    stop_machine",
      `    if [ "$moved_new" = yes ]; then mv -T ${root} ${side}; fi`,
      '    if [ -n "$active" ]; then',
      `        [ -e ${root} ] || mv -T ${quote(`/var/lib/machines/${machine}-`)}"$active" ${root}`,
      `        printf '%s\\n' "$active" > ${quote(s.active)}`,
      `        rm -f ${quote(s.previous)}`,
      `        if machinectl start ${m} && wait_booted ${timeoutSeconds}; then`,
      `            ${warn(`image ${id} did not come up: putting the previous image back; it runs again`)}`,
      "        else",
      `            ${warn(`image ${id} did not come up: putting the previous image back; it did not boot either`)}`,
      "        fi",
      "    else",
      `        rm -f ${quote(s.active)}`,
      `        ${warn(`image ${id} did not come up`)}`,
      "    fi",
      "    exit 1",
      "}",
      `echo ${quote(`frr-nspawn: switching machine ${machine} from image`)} "\${active:-none}" ${quote(`to ${id}`)}`,
      "switch_off",
      "saved_err_trap=$(trap -p ERR)",
      "trap put_back ERR",
      'if [ -n "$active" ]; then',
      `    mv -T ${root} ${quote(`/var/lib/machines/${machine}-`)}"$active"`,
      `    printf '%s\\n' "$active" > ${quote(s.previous)}`,
      "fi",
      `mv -T ${side} ${root}`,
      "moved_new=yes",
      `printf '%s\\n' ${quote(id)} > ${quote(s.active)}`,
      `machinectl enable ${m} >/dev/null`,
      `machinectl start ${m}`,
      `wait_booted ${timeoutSeconds}`,
      'if [ "$frr_was_active" = yes ]; then',
      "    wait_until 60 'FRR in the new image to start' frr_active",
      "fi",
      'eval "$saved_err_trap"',
      `${say(`machine ${machine} runs image ${id}; the previous image is kept for a rollback`)}`,
      // Keep the running image and the one before it; older ones go.
      `for kept in ${quote(s.images)}/*; do`,
      '    [ -e "$kept" ] || continue',
      "    kept=${kept##*/}",
      `    if [ "$kept" = ${quote(id)} ] || [ "$kept" = "$active" ]; then continue; fi`,
      `    if [ -e ${quote(`/var/lib/machines/${machine}-`)}"$kept" ]; then`,
      `        machinectl remove ${quote(`${machine}-`)}"$kept" || { echo ${quote(`frr-nspawn: could not remove the old image ${machine}-`)}"$kept" >&2; continue; }`,
      "    fi",
      `    rm -f ${quote(s.images)}/"$kept"`,
      "done",
    ],
  );
}

/**
 * Delete of the start step (destroy): disable and stop the machine (bounded; terminate if
 * it hangs), then remove the images frr-nspawn imported for it (the running one, the one
 * kept for a rollback) and its records. An image it did not import is never touched.
 */
export function renderStop(step: StepId, machine: string): string {
  const m = quote(machine);
  const s = imageState(machine);
  return script(
    { ...stepOf(step), lock: true, description: `stop machine ${machine} and remove its images` },
    [
      machineVariable(machine),
      ...(sourcesLibrary(step) ? [] : [...waitUntilFunction(), ...stopMachineFunctions()]),
      ...adoptLegacyState(machine),
      `machinectl disable ${m} 2>/dev/null || true`,
      "stop_machine",
      `if [ -e ${quote(s.active)} ] && machinectl image-status ${m} >/dev/null 2>&1; then`,
      `    machinectl remove ${m}`,
      "fi",
      `for kept in ${quote(s.images)}/*; do`,
      '    [ -e "$kept" ] || continue',
      "    kept=${kept##*/}",
      `    if [ -e ${quote(`/var/lib/machines/${machine}-`)}"$kept" ]; then`,
      `        machinectl remove ${quote(`${machine}-`)}"$kept"`,
      "    fi",
      `    rm -f ${quote(s.images)}/"$kept"`,
      "done",
      `rmdir ${quote(s.images)} 2>/dev/null || true`,
      command("rm", "-f", s.active, s.previous),
      ...removeStateDirs(machine),
    ],
  );
}
