/**
 * The host side of BGP unnumbered, persisted across reboots: IPv6 on (it runs over IPv6
 * link-local), the loopback /32 on `lo` and the uplinks up, through a sysctl file and a
 * oneshot unit ordered before the FRR machine starts.
 */

/** Values for the host's network files; validated by the caller. */
export interface HostNetworkConfig {
  machine: string;
  /** `a.b.c.d/32`. */
  loopback: string;
  interfaces: readonly string[];
}

export function sysctlPath(machine: string): string {
  return `/etc/sysctl.d/90-frr-nspawn-${machine}.conf`;
}

export function hostUnitName(machine: string): string {
  return `frr-nspawn-network-${machine}.service`;
}

export function hostUnitPath(machine: string): string {
  return `/etc/systemd/system/${hostUnitName(machine)}`;
}

/** sysctl keys the file sets, in order: IPv6 on everywhere BGP unnumbered needs it. */
export function sysctlKeys(c: HostNetworkConfig): string[] {
  return [
    "net.ipv6.conf.all.disable_ipv6",
    "net.ipv6.conf.default.disable_ipv6",
    // A name with a dot (a VLAN like enp1s0f0.100) is written with `/` separators: sysctl
    // and systemd-sysctl read a key whose first separator is `/` with its dots literal.
    ...c.interfaces.map((nic) =>
      nic.includes(".") ? `net/ipv6/conf/${nic}/disable_ipv6` : `net.ipv6.conf.${nic}.disable_ipv6`,
    ),
  ];
}

export function renderSysctl(c: HostNetworkConfig): string {
  return [
    `# Written by frr-nspawn (BgpLoopback): IPv6 for BGP unnumbered (machine ${c.machine}).`,
    ...sysctlKeys(c).map((key) => `${key} = 0`),
    "",
  ].join("\n");
}

/**
 * A oneshot unit that brings the uplinks up and puts the loopback on `lo` before the FRR
 * machine starts, and takes the address away when stopped (on destroy).
 */
export function renderHostUnit(c: HostNetworkConfig): string {
  const machineUnit = `systemd-nspawn@${c.machine}.service`;
  return [
    `# Written by frr-nspawn (BgpLoopback): host network for FRR machine ${c.machine}.`,
    "[Unit]",
    `Description=frr-nspawn: loopback ${c.loopback} and uplinks for machine ${c.machine}`,
    "After=systemd-sysctl.service network-pre.target",
    "Wants=network-pre.target",
    `Before=${machineUnit}`,
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    // A NIC can appear after this unit starts (late renames, a container's veth): wait
    // for it, bounded by TimeoutStartSec.
    "TimeoutStartSec=120",
    ...c.interfaces.map(
      (nic) =>
        `ExecStart=/bin/sh -c 'until ip link set dev ${nic} up 2>/dev/null; do sleep 1; done'`,
    ),
    `ExecStart=ip -4 address replace ${c.loopback} dev lo`,
    `ExecStop=-ip -4 address del ${c.loopback} dev lo`,
    "",
    "[Install]",
    // Wanted, not required: if the address cannot be added, FRR still starts and
    // keeps the host reachable through its uplinks.
    `WantedBy=multi-user.target ${machineUnit}`,
    "",
  ].join("\n");
}
