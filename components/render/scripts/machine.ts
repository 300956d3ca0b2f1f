/**
 * NspawnMachine's step scripts on the CoreOS host: fetch (URL images), verify, import,
 * settings, enable and start; each with its delete. All idempotent.
 */
import { command, quote, say, script, warn, writeFile } from "../../shell";
import {
  nspawnSettingsPath,
  renderNspawnSettings,
  renderUnitOverride,
  unitOverrideDir,
  unitOverridePath,
} from "../nspawn";
import { inFrrFunctions, machineStateDir, removeStateDirs, waitUntilFunction } from "./lib";

/** Where the image tarball waits on the host (world-writable /var/tmp: the SSH user copies it). */
export function remoteTarPath(machine: string, sha256: string, extension: string): string {
  return `/var/tmp/frr-nspawn-${machine}-${sha256.slice(0, 16)}${extension}`;
}

/** The image's extension (`.tar`, `.tar.gz`, `.tar.xz`) from its file name; import-tar reads all three. */
export function tarExtension(path: string): string {
  const match = /(\.tar(\.gz|\.xz|\.bz2)?|\.tgz)$/.exec(path);
  return match === null ? ".tar" : match[1];
}

function markerPath(machine: string): string {
  return `${machineStateDir(machine)}/image.sha256`;
}

/** Download a URL image on the host (curl or wget), keeping a finished copy. */
export function renderFetch(step: string, url: string, tar: string, sha256: string): string {
  return script({ step, description: `download the FRR image to ${tar}` }, [
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

/** Check the tarball's SHA-256 on the host before anything imports it. */
export function renderVerify(step: string, tar: string, sha256: string): string {
  return script({ step, description: `check the SHA-256 of ${tar}` }, [
    `if ! echo ${quote(`${sha256}  ${tar}`)} | sha256sum --check --status -; then`,
    `    ${warn(`${tar} is missing or does not match sha256 ${sha256}; nothing was imported. Remove the file and run pulumi up again to copy it anew.`)}`,
    "    exit 1",
    "fi",
    `${say(`checksum verified`)}`,
  ]);
}

/** Delete of the verify step: the tarball goes (CopyToRemote has no delete of its own). */
export function renderRemoveTar(step: string, tar: string): string {
  return script({ step, description: `remove ${tar}` }, [command("rm", "-f", tar, `${tar}.part`)]);
}

/** Lines defining `stop_machine`: power off (bounded), then terminate if it will not stop. */
function stopMachineFunction(machine: string): string[] {
  const m = quote(machine);
  return [
    ...waitUntilFunction(),
    "machine_gone() {",
    `    ! machinectl show ${m} >/dev/null 2>&1`,
    "}",
    "stop_machine() {",
    "    if machine_gone; then return 0; fi",
    `    machinectl poweroff ${m} || true`,
    `    if ! wait_until 90 ${quote(`machine ${machine} to power off`)} machine_gone; then`,
    `        ${warn(`terminating ${machine}`)}`,
    `        machinectl terminate ${m} || true`,
    `        wait_until 30 ${quote(`machine ${machine} to terminate`)} machine_gone`,
    "    fi",
    "}",
  ];
}

/**
 * Import the tarball as image `machine`, unless this very image is imported already. An
 * image of that name that frr-nspawn did not import is never touched.
 */
export function renderImport(step: string, machine: string, tar: string, sha256: string): string {
  const m = quote(machine);
  const marker = markerPath(machine);
  return script({ step, lock: true, description: `import ${tar} as machine image ${machine}` }, [
    ...stopMachineFunction(machine),
    `if machinectl image-status ${m} >/dev/null 2>&1; then`,
    `    if [ "$(cat ${quote(marker)} 2>/dev/null)" = ${quote(sha256)} ]; then`,
    `        ${say(`image already imported`)}`,
    "        exit 0",
    "    fi",
    `    if [ ! -e ${quote(marker)} ]; then`,
    `        ${warn(`an image named ${machine} exists that frr-nspawn did not import; remove it (machinectl remove ${machine}) or choose another machineName`)}`,
    "        exit 1",
    "    fi",
    `    ${say(`replacing the image ${machine} imported earlier`)}`,
    "    stop_machine",
    `    machinectl remove ${m}`,
    "fi",
    command("mkdir", "-p", machineStateDir(machine)),
    ...importTarLines(tar, machine),
    ...writeFile(marker, `${sha256}\n`),
  ]);
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

/** Delete of the import step: stop the machine if needed and remove the image we imported. */
export function renderRemoveImage(step: string, machine: string): string {
  const m = quote(machine);
  const marker = markerPath(machine);
  return script({ step, lock: true, description: `remove machine image ${machine}` }, [
    ...stopMachineFunction(machine),
    `if [ ! -e ${quote(marker)} ]; then`,
    `    ${say(`image ${machine} was not imported by frr-nspawn; leaving it`)}`,
    "    exit 0",
    "fi",
    "stop_machine",
    `if machinectl image-status ${m} >/dev/null 2>&1; then`,
    `    machinectl remove ${m}`,
    "fi",
    command("rm", "-f", marker),
    ...removeStateDirs(machine),
  ]);
}

/** How the machine is given the host's network and its capabilities. */
import type { SettingsMode } from "../../enums";
export type { SettingsMode };

/**
 * Write the settings file (or the seed's unit drop-in), remove the other mode's file,
 * reload systemd; a running machine is restarted when its settings changed.
 */
export function renderSettings(
  step: string,
  machine: string,
  mode: SettingsMode,
  capabilities: readonly string[],
): string {
  const m = quote(machine);
  const file = mode === "nspawn-file" ? nspawnSettingsPath(machine) : unitOverridePath(machine);
  const other = mode === "nspawn-file" ? unitOverridePath(machine) : nspawnSettingsPath(machine);
  const content =
    mode === "nspawn-file" ? renderNspawnSettings(capabilities) : renderUnitOverride();
  return script({ step, lock: true, description: `${mode} settings for machine ${machine}` }, [
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
  ]);
}

/** Delete of the settings step. */
export function renderRemoveSettings(step: string, machine: string): string {
  return script({ step, lock: true, description: `remove the settings of machine ${machine}` }, [
    command("rm", "-f", nspawnSettingsPath(machine), unitOverridePath(machine)),
    `rmdir ${quote(unitOverrideDir(machine))} 2>/dev/null || true`,
    // Created by the settings step; an empty one goes too.
    "rmdir /etc/systemd/nspawn 2>/dev/null || true",
    "systemctl daemon-reload",
  ]);
}

/** Enable (start at boot), start, and wait until the machine's own systemd is up. */
export function renderStart(step: string, machine: string, timeoutSeconds: number): string {
  const m = quote(machine);
  return script({ step, lock: true, description: `enable and start machine ${machine}` }, [
    ...inFrrFunctions({ kind: "machine", machine }),
    ...waitUntilFunction(),
    "booted() {",
    "    local state",
    "    state=$(in_frr systemctl is-system-running 2>/dev/null || true)",
    '    [ "$state" = running ] || [ "$state" = degraded ]',
    "}",
    command("machinectl", "enable", machine),
    "systemctl daemon-reload",
    "if ! machine_running; then",
    `    machinectl start ${m}`,
    "fi",
    `if ! wait_until ${timeoutSeconds} ${quote(`machine ${machine} to boot`)} booted; then`,
    `    journalctl --no-pager -n 30 -u ${quote(`systemd-nspawn@${machine}.service`)} >&2 || true`,
    "    exit 1",
    "fi",
    `${say(`machine ${machine} is running`)}`,
  ]);
}

/** Delete of the start step: disable, power off (bounded), terminate if it hangs. */
export function renderStop(step: string, machine: string): string {
  return script({ step, lock: true, description: `stop and disable machine ${machine}` }, [
    ...stopMachineFunction(machine),
    `machinectl disable ${quote(machine)} 2>/dev/null || true`,
    "stop_machine",
  ]);
}
