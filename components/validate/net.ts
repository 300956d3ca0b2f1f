/** Validators for addresses, prefixes and interface names. */
import { Problems, show } from "./problems";

const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

function toInt(address: string): number {
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** A dotted-quad IPv4 address without leading zeros (`010.0.0.1` is ambiguous: octal). */
export function ipv4(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !IPV4.test(value)) {
    problems.add(path, `${show(value)} is not an IPv4 address; use dotted quad like "10.255.0.1"`);
    return undefined;
  }
  if (value === "0.0.0.0" || value === "255.255.255.255") {
    problems.add(path, `${show(value)} cannot be used as a router address`);
    return undefined;
  }
  return value;
}

/** An IPv4 prefix `a.b.c.d/len` with no host bits set, e.g. `10.1.0.0/24`. */
export function ipv4Prefix(value: unknown, path: string, problems: Problems): string | undefined {
  const match = typeof value === "string" ? /^([0-9.]+)\/([0-9]{1,2})$/.exec(value) : null;
  if (match === null || !IPV4.test(match[1]) || Number(match[2]) > 32) {
    problems.add(path, `${show(value)} is not an IPv4 prefix; use "a.b.c.d/len" with len 0..32`);
    return undefined;
  }
  const len = Number(match[2]);
  const hostBits = len === 32 ? 0 : toInt(match[1]) % 2 ** (32 - len);
  if (hostBits !== 0) {
    problems.add(
      path,
      `${show(value)} has host bits set; the network is ${networkOf(match[1], len)}/${len}`,
    );
    return undefined;
  }
  return `${match[1]}/${len}`;
}

function networkOf(address: string, len: number): string {
  const n = toInt(address) - (len === 32 ? 0 : toInt(address) % 2 ** (32 - len));
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** A loopback address: `2.2.2.2` or `2.2.2.2/32`, returned as `2.2.2.2/32`. */
export function loopback(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value === "string" && value.includes("/")) {
    const [address, len] = value.split("/", 2);
    if (len !== "32") {
      problems.add(
        path,
        `${show(value)} is not a /32; a loopback is one address, like "10.255.0.1/32"`,
      );
      return undefined;
    }
    return ipv4(address, path, problems) === undefined ? undefined : `${address}/32`;
  }
  const address = ipv4(value, path, problems);
  return address === undefined ? undefined : `${address}/32`;
}

/** The address part of a normalised loopback `a.b.c.d/32`. */
export function addressOf(loopbackCidr: string): string {
  return loopbackCidr.split("/")[0];
}

/**
 * A Linux interface name: 1..15 bytes of letters, digits, `_`, `.` or `-`, not starting
 * with `-` or `.` (Linux forbids `/`, whitespace and NUL; the rest could be misread by a
 * shell or by FRR), and not `all` or `default` (they name sysctl trees, not links).
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

/** A router-id: an IPv4 address, by default the loopback's address. */
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
