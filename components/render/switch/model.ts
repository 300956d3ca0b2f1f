/**
 * What TorCumulus puts on a switch, independent of how the switch is configured, and the
 * one interface every dialect (NCLU, NVUE, vtysh, …) implements. Nothing here imports
 * Pulumi.
 *
 * The ownership model, the same for every dialect:
 * - **Owned** by one TorCumulus: its downlinks' router advertisements, one unnumbered BGP
 *   neighbour per downlink (and its BFD line with `bfd`), and its extra networks. Created, updated (stale lines removed)
 *   and removed on destroy, each line only when it is there.
 * - **Switch-wide**, shared with the switch's other config and other TorCumulus: the ASN,
 *   the router-id, the loopback address and its announcement, a downlink port being up.
 *   Set when absent, checked when present (another ASN or router-id is an error naming
 *   both), never removed.
 * - Everything else on the switch (spine uplinks, other neighbours, route-maps, other
 *   ports) is never touched.
 */

/** One downlink port with its router-advertisement timing (resolved, validated). */
export interface SwitchDownlink {
  port: string;
  /** Seconds. */
  raInterval: number;
  /** Seconds. */
  raLifetime: number;
}

/** Everything a dialect renders from; validated and normalised by the caller. */
export interface SwitchConfig {
  /** Who this resource is on the switch (`<project>-<stack>-<name>`): names its state file. */
  id: string;
  asn: number;
  routerId: string;
  /** `a.b.c.d/32`. */
  loopback: string;
  downlinks: readonly SwitchDownlink[];
  /** Extra IPv4 prefixes announced besides the loopback. */
  networks: readonly string[];
  /** The commit / apply message (NCLU, NVUE). */
  description: string;
  /** The Cumulus Linux release whose NVUE syntax to use, e.g. `"5.9"` (nvue only). */
  cumulusVersion: string;
  /** BFD on every downlink's BGP neighbour (one owned line per downlink). */
  bfd: boolean;
  /**
   * With `bfd`: FRR's `neighbor <port> bfd check-control-plane-failure` (vtysh only), so
   * that a host's BFD going down while its FRR restarts leaves its routes to graceful
   * restart (one more owned line per downlink).
   */
  bfdCheckControlPlaneFailure: boolean;
}

/** One configuration line in a dialect's own syntax, as an argument list. */
export type Words = readonly string[];

/** A line this resource owns: added on create, removed on destroy and when no longer wanted. */
export interface OwnedLine {
  /** The command that adds it. */
  add: Words;
  /** The command that removes it again (run only while the line is there). */
  remove: Words;
}

/** How a switch is configured: one module per dialect, one entry in the dialect list. */
export interface SwitchDialect {
  /** The `cli` value that selects it; also the step's suffix (`<name>-<cli>`). */
  readonly cli: string;
  /** One line saying what it drives, for the step's header. */
  readonly describes: string;
  /** Switch-wide lines, set when absent and never removed, in the order they are added. */
  shared(c: SwitchConfig): Words[];
  /** The resource's own lines, in the order they are added (removal runs in reverse). */
  owned(c: SwitchConfig): OwnedLine[];
  /** Create/update: refuse foreign pending work, check, remove stale, add, apply, verify. */
  applyScript(step: string, c: SwitchConfig): string;
  /** Delete: remove this resource's own lines that are still there, apply, verify. */
  removeScript(step: string, c: SwitchConfig): string;
}

/** Where a resource keeps, on the switch, the lines it owns (for the next update). */
export const SWITCH_STATE_DIR = "/var/lib/frr-nspawn/switch";

/** The switch-wide lock every dialect takes: one writer at a time. */
export const SWITCH_LOCK = "/run/frr-nspawn-switch.lock";

/** The state file of one resource. */
export function switchStatePath(id: string): string {
  return `${SWITCH_STATE_DIR}/${id}.owned`;
}

/** The prefixes the switch announces for everyone: its loopback. */
export function sharedNetworks(c: SwitchConfig): string[] {
  return [c.loopback];
}

/** The prefixes this resource announces on its own (never the loopback). */
export function ownedNetworks(c: SwitchConfig): string[] {
  return c.networks.filter((n) => n !== c.loopback);
}
