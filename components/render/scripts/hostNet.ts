/**
 * BgpLoopback's host-side scripts: the IPv6 sysctl file (with the values it replaced
 * saved for destroy) and the oneshot unit that puts the loopback on `lo`.
 */
import {
  command,
  installStdinFunction,
  say,
  script,
  sourcesLibrary,
  StepId,
  stepOf,
  withStdin,
} from "../../shell";
import {
  HostNetworkConfig,
  hostUnitName,
  hostUnitPath,
  renderHostUnit,
  renderSysctl,
  sysctlKeys,
  sysctlPath,
} from "../hostNetwork";
import { MACHINE_STATE, machineVariable, removeStateDirs } from "./lib";

/**
 * The /proc/sys file of a sysctl key, read as sysctl.d(5) reads it: a key whose first
 * separator is `/` is a path as it is (`net/ipv6/conf/enp1s0f0.100/disable_ipv6`, a VLAN);
 * otherwise `.` and `/` swap (`net.ipv6.conf.all.disable_ipv6`).
 */
export function procSysPath(key: string): string {
  const first = key.search(/[./]/);
  const path =
    first >= 0 && key[first] === "/" ? key : key.replace(/[./]/g, (c) => (c === "." ? "/" : "."));
  return `/proc/sys/${path}`;
}

/**
 * Lines defining `sysctl_apply FILE /proc/sys/PATH…` (the file's content on stdin), the
 * sysctl step's body: saves the current values of the PATHs once (in the state folder of
 * the machine named by MACHINE_VARIABLE), writes the sysctl file (read at boot) and
 * applies it now. Needs neither procps (`sysctl`) nor an existing /etc/sysctl.d, which
 * minimal hosts may lack: values are read and written in /proc/sys. An uplink that does
 * not exist yet is skipped with a note (the file applies to it at the next boot;
 * `default` covers it until then).
 */
export function sysctlApplyFunction(): string[] {
  return [
    "sysctl_apply() {",
    `    local file=$1 s=${MACHINE_STATE} p`,
    "    shift",
    '    mkdir -p "$s"',
    // A directory this step creates goes again on destroy (the marker says so).
    '    if [ ! -d "${file%/*}" ]; then',
    '        mkdir -p "${file%/*}"',
    '        : > "$s/sysctl.d.created"',
    "    fi",
    '    if [ ! -e "$s/sysctl.before" ]; then',
    '        for p in "$@"; do',
    '            if [ -r "$p" ]; then echo "$p $(cat "$p")"; fi',
    '        done > "$s/sysctl.before.tmp"',
    '        mv -f "$s/sysctl.before.tmp" "$s/sysctl.before"',
    "    fi",
    '    install_stdin "$file" 0644',
    '    for p in "$@"; do',
    '        if [ -e "$p" ]; then',
    '            echo 0 > "$p"',
    "        else",
    '            echo "frr-nspawn: $p does not exist (yet); the file sets it at the next boot" >&2',
    "        fi",
    "    done",
    "}",
  ];
}

/** The sysctl step: {@link sysctlApplyFunction} with the file and the keys it sets. */
export function renderSysctlApply(step: StepId, c: HostNetworkConfig): string {
  const file = sysctlPath(c.machine);
  return script(
    { ...stepOf(step), lock: true, description: `IPv6 sysctls for BGP unnumbered in ${file}` },
    [
      machineVariable(c.machine),
      ...(sourcesLibrary(step) ? [] : [...installStdinFunction(), ...sysctlApplyFunction()]),
      ...withStdin(
        command("sysctl_apply", file, ...sysctlKeys(c).map(procSysPath)),
        renderSysctl(c),
        `the content for ${file}`,
      ),
    ],
  );
}

/**
 * Lines defining `sysctl_remove FILE`, the sysctl step's delete: removes the file (and
 * /etc/sysctl.d if the step created it) and puts back the values saved before the first
 * apply, one `PATH VALUE` a line (or `KEY = VALUE`, the format of earlier releases),
 * straight into /proc/sys.
 */
export function sysctlRemoveFunction(): string[] {
  return [
    "sysctl_remove() {",
    `    local file=$1 s=${MACHINE_STATE} a b c p v`,
    '    rm -f "$file"',
    '    if [ -e "$s/sysctl.d.created" ]; then',
    '        rmdir "${file%/*}" 2>/dev/null || true',
    '        rm -f "$s/sysctl.d.created"',
    "    fi",
    '    if [ -e "$s/sysctl.before" ]; then',
    "        while read -r a b c; do",
    '            if [ "$b" = "=" ]; then p=/proc/sys/${a//.//}; v=$c; else p=$a; v=$b; fi',
    '            [ -n "$p" ] || continue',
    '            echo "$v" > "$p" || echo "frr-nspawn: could not restore $p to $v" >&2',
    '        done < "$s/sysctl.before"',
    '        rm -f "$s/sysctl.before"',
    "    fi",
    ...removeStateDirs(),
    "}",
  ];
}

/** Delete of the sysctl step: {@link sysctlRemoveFunction}. */
export function renderSysctlRemove(step: StepId, machine: string): string {
  return script(
    {
      ...stepOf(step),
      lock: true,
      description: `remove ${sysctlPath(machine)} and restore the previous values`,
    },
    [
      machineVariable(machine),
      ...(sourcesLibrary(step) ? [] : sysctlRemoveFunction()),
      command("sysctl_remove", sysctlPath(machine)),
    ],
  );
}

/**
 * Lines defining `host_unit_apply PATH` (the unit on stdin), the host unit step's body:
 * installs and starts the unit. When its content changes, the old unit is stopped first
 * so that its own ExecStop removes the old loopback address. Ends the script when the
 * unit is unchanged and active.
 */
export function hostUnitApplyFunction(): string[] {
  return [
    "host_unit_apply() {",
    "    local path=$1 unit=${1##*/} staged=$1.frr-nspawn-new",
    '    install_stdin "$staged" 0644',
    '    if cmp -s "$staged" "$path" && systemctl is-active --quiet "$unit"; then',
    '        rm -f "$staged"',
    "        echo 'frr-nspawn: host unit unchanged and active'",
    "        exit 0",
    "    fi",
    '    if [ -e "$path" ]; then',
    '        systemctl stop "$unit" || true',
    "    fi",
    '    mv -f "$staged" "$path"',
    "    systemctl daemon-reload",
    '    systemctl enable --now "$unit"',
    "}",
  ];
}

/** The host unit step: {@link hostUnitApplyFunction} with the rendered unit. */
export function renderHostUnitApply(step: StepId, c: HostNetworkConfig): string {
  const path = hostUnitPath(c.machine);
  return script(
    {
      ...stepOf(step),
      lock: true,
      description: `host unit ${hostUnitName(c.machine)}: uplinks up, loopback ${c.loopback} on lo`,
    },
    [
      ...(sourcesLibrary(step) ? [] : [...installStdinFunction(), ...hostUnitApplyFunction()]),
      ...withStdin(command("host_unit_apply", path), renderHostUnit(c), `the unit ${path}`),
      say(`${c.loopback} on lo`),
    ],
  );
}

/**
 * Lines defining `host_unit_remove PATH`, the host unit step's delete: stops the unit
 * (its ExecStop removes the address), disables and deletes it.
 */
export function hostUnitRemoveFunction(): string[] {
  return [
    "host_unit_remove() {",
    '    if [ -e "$1" ]; then',
    '        systemctl disable --now "${1##*/}" || true',
    "    fi",
    '    rm -f "$1" "$1.frr-nspawn-new"',
    "    systemctl daemon-reload",
    "}",
  ];
}

/** Delete of the host unit step: {@link hostUnitRemoveFunction}. */
export function renderHostUnitRemove(step: StepId, machine: string): string {
  return script(
    {
      ...stepOf(step),
      lock: true,
      description: `remove host unit ${hostUnitName(machine)} and its loopback`,
    },
    [
      ...(sourcesLibrary(step) ? [] : hostUnitRemoveFunction()),
      command("host_unit_remove", hostUnitPath(machine)),
    ],
  );
}
