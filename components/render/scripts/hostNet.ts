/**
 * BgpLoopback's host-side scripts: the IPv6 sysctl file (with the values it replaced
 * saved for destroy) and the oneshot unit that puts the loopback on `lo`.
 */
import { command, quote, say, script, StepId, stepOf, warn, writeFile } from "../../shell";
import {
  HostNetworkConfig,
  hostUnitName,
  hostUnitPath,
  renderHostUnit,
  renderSysctl,
  sysctlKeys,
  sysctlPath,
} from "../hostNetwork";
import { machineStateDir, removeStateDirs } from "./lib";

function savedSysctlPath(machine: string): string {
  return `${machineStateDir(machine)}/sysctl.before`;
}

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
 * Lines defining `restore_sysctls FILE`: writes back saved values, one `PATH VALUE` a
 * line (or `KEY = VALUE`, the format of earlier releases), straight into /proc/sys.
 */
function restoreFunction(): string[] {
  return [
    "restore_sysctls() {",
    "    local a b c p v",
    "    while read -r a b c; do",
    '        if [ "$b" = "=" ]; then p=/proc/sys/${a//.//}; v=$c; else p=$a; v=$b; fi',
    '        [ -n "$p" ] || continue',
    '        echo "$v" > "$p" || echo "frr-nspawn: could not restore $p to $v" >&2',
    '    done < "$1"',
    "}",
  ];
}

/**
 * Save the current values once, write the sysctl file (read at boot) and apply it now.
 * Needs neither procps (`sysctl`) nor an existing /etc/sysctl.d, which minimal hosts may
 * lack: values are read and written in /proc/sys. An uplink that does not exist yet is
 * skipped with a note (the file applies to it at the next boot; `default` covers it
 * until then).
 */
export function renderSysctlApply(step: StepId, c: HostNetworkConfig): string {
  const saved = savedSysctlPath(c.machine);
  const file = sysctlPath(c.machine);
  const paths = sysctlKeys(c).map(procSysPath).map(quote).join(" ");
  return script(
    { ...stepOf(step), lock: true, description: `IPv6 sysctls for BGP unnumbered in ${file}` },
    [
      command("mkdir", "-p", machineStateDir(c.machine)),
      // A directory this step creates goes again on destroy (the marker says so).
      `if [ ! -d ${quote(dirname(file))} ]; then`,
      `    ${command("mkdir", "-p", dirname(file))}`,
      `    : > ${quote(createdDirMarker(c.machine))}`,
      "fi",
      `if [ ! -e ${quote(saved)} ]; then`,
      `    for p in ${paths}; do`,
      '        if [ -r "$p" ]; then echo "$p $(cat "$p")"; fi',
      `    done > ${quote(`${saved}.tmp`)}`,
      `    mv -f ${quote(`${saved}.tmp`)} ${quote(saved)}`,
      "fi",
      ...writeFile(file, renderSysctl(c), { mode: "0644" }),
      `for p in ${paths}; do`,
      '    if [ -e "$p" ]; then',
      '        echo 0 > "$p"',
      "    else",
      '        echo "frr-nspawn: $p does not exist (yet); the file sets it at the next boot" >&2',
      "    fi",
      "done",
    ],
  );
}

/** Marks that the sysctl step created /etc/sysctl.d (so destroy removes it if empty). */
function createdDirMarker(machine: string): string {
  return `${machineStateDir(machine)}/sysctl.d.created`;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

/** Remove the file and put back the values saved before the first apply. */
export function renderSysctlRemove(step: StepId, machine: string): string {
  const saved = savedSysctlPath(machine);
  return script(
    {
      ...stepOf(step),
      lock: true,
      description: `remove ${sysctlPath(machine)} and restore the previous values`,
    },
    [
      ...restoreFunction(),
      command("rm", "-f", sysctlPath(machine)),
      `if [ -e ${quote(createdDirMarker(machine))} ]; then`,
      `    rmdir ${quote(dirname(sysctlPath(machine)))} 2>/dev/null || true`,
      `    rm -f ${quote(createdDirMarker(machine))}`,
      "fi",
      `if [ -e ${quote(saved)} ]; then`,
      `    restore_sysctls ${quote(saved)} || ${warn("some saved sysctls could not be restored")}`,
      `    rm -f ${quote(saved)}`,
      "fi",
      ...removeStateDirs(machine),
    ],
  );
}

/**
 * Install and start the host unit. When its content changes, the old unit is stopped
 * first so that its own ExecStop removes the old loopback address.
 */
export function renderHostUnitApply(step: StepId, c: HostNetworkConfig): string {
  const unit = quote(hostUnitName(c.machine));
  const path = hostUnitPath(c.machine);
  const staged = `${path}.frr-nspawn-new`;
  return script(
    {
      ...stepOf(step),
      lock: true,
      description: `host unit ${hostUnitName(c.machine)}: uplinks up, loopback ${c.loopback} on lo`,
    },
    [
      ...writeFile(staged, renderHostUnit(c), { mode: "0644" }),
      `if cmp -s ${quote(staged)} ${quote(path)} && systemctl is-active --quiet ${unit}; then`,
      `    rm -f ${quote(staged)}`,
      `    ${say(`host unit unchanged and active`)}`,
      "    exit 0",
      "fi",
      `if [ -e ${quote(path)} ]; then`,
      `    systemctl stop ${unit} || true`,
      "fi",
      command("mv", "-f", staged, path),
      "systemctl daemon-reload",
      `systemctl enable --now ${unit}`,
      `${say(`${c.loopback} on lo`)}`,
    ],
  );
}

/** Stop (removing the address), disable and delete the host unit. */
export function renderHostUnitRemove(step: StepId, machine: string): string {
  const unit = quote(hostUnitName(machine));
  const path = hostUnitPath(machine);
  return script(
    {
      ...stepOf(step),
      lock: true,
      description: `remove host unit ${hostUnitName(machine)} and its loopback`,
    },
    [
      `if [ -e ${quote(path)} ]; then`,
      `    systemctl disable --now ${unit} || true`,
      "fi",
      command("rm", "-f", path, `${path}.frr-nspawn-new`),
      "systemctl daemon-reload",
    ],
  );
}
