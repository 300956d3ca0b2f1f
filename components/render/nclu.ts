/**
 * The switch side on Cumulus Linux with NCLU (`net add …`, up to Cumulus Linux 4.x): the
 * command list and its exact inverse for destroy. Each command is an argument list;
 * {@link ncluAddLines} and {@link ncluDelLines} quote them into shell lines. (Cumulus
 * Linux 5.x's NVUE is not supported yet.)
 */
import { command } from "../shell";

/** One downlink port with its router-advertisement timing. */
export interface CumulusDownlink {
  port: string;
  raInterval: number;
  raLifetime: number;
}

/** Values for the switch configuration; validated by the caller. */
export interface CumulusConfig {
  asn: number;
  routerId: string;
  /** `a.b.c.d/32`. */
  loopback: string;
  downlinks: readonly CumulusDownlink[];
  networks: readonly string[];
}

/** The NCLU lines after `net add` (each an argument list), in the seed's order. */
export function ncluLines(c: CumulusConfig): string[][] {
  return [
    ["loopback", "lo", "ip", "address", c.loopback],
    ...c.downlinks.flatMap((d) => [
      ["interface", d.port, "ipv6", "nd", "ra-interval", String(d.raInterval)],
      ["interface", d.port, "ipv6", "nd", "ra-lifetime", String(d.raLifetime)],
    ]),
    ["bgp", "autonomous-system", String(c.asn)],
    ["bgp", "router-id", c.routerId],
    ...[c.loopback, ...c.networks].map((prefix) => ["bgp", "ipv4", "unicast", "network", prefix]),
    ...c.downlinks.map((d) => ["bgp", "neighbor", d.port, "interface", "remote-as", "external"]),
  ];
}

/** `net add …` commands, in order, as shell lines (what the switch runs and shows). */
export function ncluAddLines(c: CumulusConfig): string[] {
  return ncluAddCommands(c).map((words) => command(...words));
}

/** `net del …` commands, the inverse, as shell lines. */
export function ncluDelLines(c: CumulusConfig): string[] {
  return ncluDelCommands(c).map((words) => command(...words));
}

/** `net add …` commands, in order. */
export function ncluAddCommands(c: CumulusConfig): string[][] {
  return ncluLines(c).map((line) => ["net", "add", ...line]);
}

/** The exact inverse: `net del …` of the same lines, last added first. */
export function ncluDelCommands(c: CumulusConfig): string[][] {
  return ncluLines(c)
    .reverse()
    .map((line) => ["net", "del", ...line]);
}
