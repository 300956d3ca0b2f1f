/** Validators for addresses, prefixes and interface names. */
import { isIP } from "node:net";
import { Problems, show } from "./problems";

const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
/** A prefix length 0..32 without a leading zero. */
const LENGTH = "(3[0-2]|[12]?[0-9])";

function toInt(address: string): number {
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function fromInt(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/**
 * IPv4 blocks that are never a router's own address, an announced network or a
 * router-id (one rule for all three), with the reason shown in the error.
 */
export const REFUSED_IPV4_BLOCKS: readonly { block: string; reason: string }[] = [
  { block: "0.0.0.0/8", reason: '"this network" (RFC 1122): never a source or destination' },
  { block: "127.0.0.0/8", reason: "the host's own loopback: never routed off the host" },
  { block: "224.0.0.0/4", reason: "multicast: not one router's address" },
  { block: "240.0.0.0/4", reason: "reserved (and the broadcast address): Linux drops it" },
];

function range(prefix: string): [number, number] {
  const [address, len] = prefix.split("/");
  const size = 2 ** (32 - Number(len));
  const start = toInt(address) - (toInt(address) % size);
  return [start, start + size - 1];
}

/** The refused block `address/len` overlaps, if any. */
function refusedBlock(address: string, len: number): { block: string; reason: string } | undefined {
  const [start, end] = range(`${address}/${len}`);
  return REFUSED_IPV4_BLOCKS.find(({ block }) => {
    const [bStart, bEnd] = range(block);
    return start <= bEnd && bStart <= end;
  });
}

/**
 * A dotted-quad IPv4 address without leading zeros (`010.0.0.1` is ambiguous: octal),
 * outside {@link REFUSED_IPV4_BLOCKS}.
 */
export function ipv4(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !IPV4.test(value)) {
    problems.add(path, `${show(value)} is not an IPv4 address; use dotted quad like "10.255.0.1"`);
    return undefined;
  }
  const refused = refusedBlock(value, 32);
  if (refused !== undefined) {
    problems.add(path, `${show(value)} is in ${refused.block}, ${refused.reason}`);
    return undefined;
  }
  return value;
}

/**
 * An announced IPv4 prefix `a.b.c.d/len` with no host bits set, e.g. `10.1.0.0/24`, not
 * overlapping {@link REFUSED_IPV4_BLOCKS} (so not the default route either).
 */
export function ipv4Prefix(value: unknown, path: string, problems: Problems): string | undefined {
  const match = typeof value === "string" ? new RegExp(`^([0-9.]+)/${LENGTH}$`).exec(value) : null;
  if (match === null || !IPV4.test(match[1])) {
    problems.add(path, `${show(value)} is not an IPv4 prefix; use "a.b.c.d/len" with len 0..32`);
    return undefined;
  }
  const len = Number(match[2]);
  const [start] = range(`${match[1]}/${len}`);
  if (start !== toInt(match[1])) {
    problems.add(path, `${show(value)} has host bits set; the network is ${fromInt(start)}/${len}`);
    return undefined;
  }
  const refused = refusedBlock(match[1], len);
  if (refused !== undefined) {
    problems.add(path, `${show(value)} overlaps ${refused.block}, ${refused.reason}`);
    return undefined;
  }
  return `${match[1]}/${len}`;
}

/** A loopback address: `2.2.2.2` or `2.2.2.2/32`, returned as `2.2.2.2/32`. */
export function loopback(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value === "string" && value.includes("/")) {
    const match = /^([^/]*)\/32$/.exec(value);
    if (match === null) {
      problems.add(
        path,
        `${show(value)} is not a /32; a loopback is one address, like "10.255.0.1/32"`,
      );
      return undefined;
    }
    return ipv4(match[1], path, problems) === undefined ? undefined : `${match[1]}/32`;
  }
  const address = ipv4(value, path, problems);
  return address === undefined ? undefined : `${address}/32`;
}

/** The address part of a normalised loopback `a.b.c.d/32`. */
export function addressOf(loopbackCidr: string): string {
  return loopbackCidr.split("/")[0];
}

/** Refuses an announced network equal to the router's own loopback (always announced). */
export function networksBesideLoopback(
  networks: readonly string[] | undefined,
  loopbackCidr: string | undefined,
  path: string,
  problems: Problems,
): void {
  networks?.forEach((n, i) => {
    if (n === loopbackCidr) {
      problems.add(`${path}[${i}]`, `${show(n)} is the loopback, which is always announced`);
    }
  });
}

/**
 * A Linux interface name: 1..15 bytes (IFNAMSIZ) of letters, digits, `_`, `.` or `-`,
 * not starting with `-` or `.` (Linux forbids `/`, whitespace and NUL; the rest could be
 * misread by a shell or by FRR); never all digits and dots (FRR reads `neighbor 10.0.0.1`
 * as an IPv4 peer, not an interface); not `all`, `default` or `lo`. A VLAN like
 * `enp1s0f0.100` is valid.
 */
export function interfaceName(
  value: unknown,
  path: string,
  problems: Problems,
): string | undefined {
  if (typeof value !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/.test(value)) {
    problems.add(
      path,
      `${show(value)} is not a valid interface name; use 1..15 letters, digits, "_", "." or "-", not starting with "-" or "."`,
    );
    return undefined;
  }
  if (/^[0-9.]+$/.test(value) || isIP(value) !== 0) {
    problems.add(
      path,
      `${show(value)} looks like an address, not an interface name; FRR would read it as a peer address`,
    );
    return undefined;
  }
  if (value === "all" || value === "default" || value === "lo") {
    problems.add(path, `${show(value)} cannot be an uplink interface`);
    return undefined;
  }
  return value;
}

/** A Cumulus Linux front-panel port: `swp1`, `swp49`, or a breakout like `swp1s0`. */
export function cumulusPort(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !/^swp[1-9][0-9]{0,2}(s[0-9])?$/.test(value)) {
    problems.add(
      path,
      `${show(value)} is not a Cumulus port; use swpN or swpNsM (like "swp1", "swp49", "swp1s0")`,
    );
    return undefined;
  }
  return value;
}

/** A router-id: an IPv4 address (same rule as a loopback's), by default the loopback's. */
export function routerId(
  value: unknown,
  loopbackCidr: string | undefined,
  path: string,
  problems: Problems,
): string | undefined {
  if (value === undefined) {
    return loopbackCidr === undefined ? undefined : addressOf(loopbackCidr);
  }
  return ipv4(value, path, problems);
}
