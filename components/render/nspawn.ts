/**
 * How systemd-nspawn runs the FRR machine on the host: a trusted settings file
 * `/etc/systemd/nspawn/<machine>.nspawn` (default, least privilege) or the seed's
 * ExecStart override drop-in with `--capability=all`.
 */

/** Capabilities FRR needs in the host's network namespace: routes, raw sockets, port 179. */
export const DEFAULT_CAPABILITIES = [
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_NET_BIND_SERVICE",
] as const;

/** Where the settings of a machine live; only files under /etc/systemd/nspawn are trusted. */
export function nspawnSettingsPath(machine: string): string {
  return `/etc/systemd/nspawn/${machine}.nspawn`;
}

/** The drop-in directory of the machine's unit, for the `unit-override` mode. */
export function unitOverrideDir(machine: string): string {
  return `/etc/systemd/system/systemd-nspawn@${machine}.service.d`;
}

export function unitOverridePath(machine: string): string {
  return `${unitOverrideDir(machine)}/frr-nspawn.conf`;
}

/**
 * The settings file: boot the machine's own systemd, no user namespace (FRR's files keep
 * their owners), the host's network namespace (`VirtualEthernet=no` overrides the unit's
 * `--network-veth`), and only the capabilities FRR needs beyond nspawn's default set.
 */
export function renderNspawnSettings(capabilities: readonly string[]): string {
  return [
    "# Written by frr-nspawn (NspawnMachine): FRR in the host's network namespace.",
    "[Exec]",
    "Boot=yes",
    "PrivateUsers=no",
    `Capability=${capabilities.join(" ")}`,
    "",
    "[Network]",
    "VirtualEthernet=no",
    "",
  ].join("\n");
}

/**
 * The seed's alternative: replace the unit's ExecStart, dropping `--network-veth` and
 * `-U` and granting every capability. Broader than the settings file; kept for hosts
 * whose policy forbids files under /etc/systemd/nspawn.
 */
export function renderUnitOverride(): string {
  return [
    "# Written by frr-nspawn (NspawnMachine, settings: unit-override): the seed's ExecStart.",
    "[Service]",
    "ExecStart=",
    "ExecStart=systemd-nspawn --quiet --keep-unit --boot --link-journal=try-guest --settings=override --capability=all --machine=%i",
    "",
  ].join("\n");
}
