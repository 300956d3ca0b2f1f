/**
 * The host library: the bash functions every step of NspawnMachine and BgpLoopback would
 * otherwise carry (the frame, and the helpers, which read the machine's name from a
 * variable the step sets), in one file on the host that those steps source; where it
 * lives; and the scripts of a component's `-lib` step, which installs the copy that
 * `-lib-copy` put in the SSH user's home and keeps one marker per component using it, so
 * that the last component to go removes it.
 */
import { createHash } from "node:crypto";
import {
  commentText,
  frameFunctions,
  hostLock,
  installStdinFunction,
  quote,
  type HostLibraryRef,
} from "../../shell";
import {
  applyConfFunction,
  daemonsFunctions,
  dropInFunctions,
  frrConfFunctions,
  stageFileFunction,
} from "./frrApply";
import {
  hostUnitApplyFunction,
  hostUnitRemoveFunction,
  sysctlApplyFunction,
  sysctlRemoveFunction,
} from "./hostNet";
import { machineFrrFunctions, STATE_DIR, waitUntilFunction } from "./lib";
import {
  adoptLegacyFunction,
  carryConfigFunction,
  fetchImageFunction,
  importImageFunction,
  removeImageFunction,
  removeMachineFunction,
  settingsFunctions,
  startImageFunction,
  stopMachineFunctions,
  switchOffFunctions,
  verifyTarFunctions,
  waitBootedFunction,
} from "./machine";
import { verifySessionsFunction } from "./verify";

/**
 * The library's text. A step that sources it (shell.ts `script` with `library`) leaves out
 * what it defines: the frame, `wait_until`, `machine_running`, `in_frr`, `mgmtd_retry`,
 * `interface_plan_py`, `apply_conf`, `machine_gone`, `stop_machine`, `wait_booted`,
 * `carry_frr_config`, `frr_active` and `switch_off`; and the bodies of NspawnMachine's
 * steps and their deletes (`fetch_image`, `verify_tar`, `verify_tar_file`, `remove_tar`,
 * `adopt_legacy_state`, `import_image`, `remove_image`, `settings_apply`,
 * `settings_remove`, `start_image`, `remove_machine`) and of BgpLoopback's sysctl and host
 * unit steps and their deletes (`install_stdin`, `sysctl_apply`, `sysctl_remove`,
 * `host_unit_apply`, `host_unit_remove`) and its daemons and frr.conf steps
 * (`drop_in_apply`, `drop_in_remove`, `stage_file`, `daemons_apply`, `daemons_remove`,
 * `mirror_forwarding`, `frr_conf_apply`, `frr_conf_remove`) and verify step (`verify_sessions`, with the
 * check's Python in `verify_check_py`), which those steps call with their values. The same text on every host; a change to it is a
 * new file (its name carries its digest), so a step always sources the version it was
 * written for.
 */
export function renderHostLibrary(): string {
  return [
    "# frr-nspawn host library: sourced by the steps of NspawnMachine and BgpLoopback, which",
    "# set strict mode first. Installed by each component's -lib step; generated from",
    "# components/render/scripts/library.ts (do not edit).",
    ...frameFunctions(),
    ...waitUntilFunction(),
    // The machine helpers read the machine's name from $frr_nspawn_machine.
    ...machineFrrFunctions(),
    ...applyConfFunction(),
    ...stopMachineFunctions(),
    ...waitBootedFunction(),
    ...carryConfigFunction(),
    ...switchOffFunctions(),
    // Whole step bodies: a step that sources the library calls one with its values.
    ...fetchImageFunction(),
    ...verifyTarFunctions(),
    ...adoptLegacyFunction(),
    ...importImageFunction(),
    ...removeImageFunction(),
    ...startImageFunction(),
    ...removeMachineFunction(),
    ...installStdinFunction(),
    ...settingsFunctions(),
    ...sysctlApplyFunction(),
    ...sysctlRemoveFunction(),
    ...hostUnitApplyFunction(),
    ...hostUnitRemoveFunction(),
    ...dropInFunctions(),
    ...stageFileFunction(),
    ...daemonsFunctions(),
    ...frrConfFunctions(),
    ...verifySessionsFunction(),
    "",
  ].join("\n");
}

/** The folder of installed host libraries, one file per version. */
export const LIBRARY_DIR = `${STATE_DIR}/lib`;

/** One version of the host library: its text, its digest, and its names. */
export interface HostLibrary {
  text: string;
  /** SHA-256 of `text`, hex. */
  sha256: string;
  /** Its path on the host once installed: the name carries the digest. */
  path: string;
  /** The folder of its users' markers (one empty file per component). */
  users: string;
  /** The name of the copy in the SSH user's home that `-lib-copy` writes. */
  copyName: string;
}

let rendered: HostLibrary | undefined;

/** The host library this package renders (rendered and hashed once per process). */
export function hostLibrary(): HostLibrary {
  rendered ??= describeLibrary(renderHostLibrary());
  return rendered;
}

/** A library version's digest and names, from its text. */
export function describeLibrary(text: string): HostLibrary {
  const sha256 = createHash("sha256").update(text).digest("hex");
  const base = `frr-nspawn-${sha256.slice(0, 16)}`;
  return {
    text,
    sha256,
    path: `${LIBRARY_DIR}/${base}.sh`,
    users: `${LIBRARY_DIR}/${base}.users`,
    copyName: `${base}.sh`,
  };
}

/** What a script needs to source `lib`, naming the step that installs it. */
export function libraryRef(lib: HostLibrary, installedBy: string): HostLibraryRef {
  return { path: lib.path, installedBy };
}

/**
 * Lines setting `lib` (the installed library), `users` (its users' folder) and `copy`
 * (the copy in the SSH user's home, sudo or not), so that each path is written once.
 */
function pathLines(lib: HostLibrary): string[] {
  return [
    `lib=${quote(lib.path)} users=${quote(lib.users)}`,
    'home=$(getent passwd "${SUDO_USER:-$(id -un)}" | cut -d: -f6) || home=',
    `copy="$home"/${quote(lib.copyName)}`,
  ];
}

/** `owner` is a marker name: hex only, so it is one path element. */
function checkedOwner(owner: string): string {
  if (!/^[0-9a-f]{8,64}$/.test(owner)) {
    throw new Error(`a host library user must be 8 to 64 hex digits, not ${JSON.stringify(owner)}`);
  }
  return owner;
}

/**
 * Create of the `-lib` step: under the host lock, checks the copy's SHA-256 and installs
 * it (unless that version is installed already), removes the copy, and marks `owner` as
 * a user. From the install on, failures are reported by the library itself.
 */
export function renderLibraryInstall(
  step: string,
  copyStep: string,
  lib: HostLibrary,
  owner: string,
): string {
  const digest = quote(`^${lib.sha256} `);
  return [
    `# frr-nspawn: ${commentText(step)}: install the host library ${lib.copyName} and mark this component as its user`,
    "set -euo pipefail",
    ...hostLock(),
    ...pathLines(lib),
    `if ! sha256sum "$lib" 2>/dev/null | grep -q ${digest}; then`,
    `    if ! sha256sum "$copy" 2>/dev/null | grep -q ${digest}; then`,
    `        echo "frr-nspawn: $0: $copy "${quote(`is missing or is not the library this program was built with (SHA-256 ${lib.sha256.slice(0, 16)}…): the step ${copyStep} copies it (pulumi up --replace that step)`)} >&2`,
    "        exit 1",
    "    fi",
    `    mkdir -p ${quote(LIBRARY_DIR)}`,
    '    install -m 0644 "$copy" "$lib.frr-nspawn-tmp"',
    '    mv -f "$lib.frr-nspawn-tmp" "$lib"',
    "fi",
    'rm -f "$copy"',
    '. "$lib"',
    "frr_nspawn_frame",
    'mkdir -p "$users"',
    `: > "$users"/${quote(checkedOwner(owner))}`,
    'echo "frr-nspawn: host library $lib installed"',
    "",
  ].join("\n");
}

/**
 * Delete of the `-lib` step (after every step that sources the library): under the host
 * lock, removes `owner`'s marker, and the library once no marker is left.
 */
export function renderLibraryRemove(step: string, lib: HostLibrary, owner: string): string {
  return [
    `# frr-nspawn: ${commentText(step)}: stop using the host library ${lib.copyName}; the last user removes it`,
    "set -euo pipefail",
    ...hostLock(),
    ...pathLines(lib),
    'if [ -r "$lib" ]; then',
    '    . "$lib"',
    "    frr_nspawn_frame",
    "fi",
    `rm -f "$copy" "$users"/${quote(checkedOwner(owner))}`,
    'if rmdir "$users" 2>/dev/null; then',
    '    rm -f "$lib"',
    '    echo "frr-nspawn: host library $lib removed (no component uses it)"',
    "fi",
    `rmdir ${quote(LIBRARY_DIR)} 2>/dev/null || true`,
    `rmdir ${quote(STATE_DIR)} 2>/dev/null || true`,
    "",
  ].join("\n");
}
