/** Validators for BGP and router-advertisement values. */
import { bool, optional } from "./common";
import { Problems, show } from "./problems";

const ASN_MAX = 4294967295;
const AS_TRANS = 23456;

/**
 * An autonomous-system number in asplain form: an integer 1..4294967295. A string (digits
 * or asdot like `1.10`) is refused with the asplain number to write instead. 23456
 * (AS_TRANS) is refused: it is reserved for 2-byte speakers and never a real AS.
 */
export function asn(value: unknown, path: string, problems: Problems): number | undefined {
  if (typeof value === "string" && /^[0-9]{1,10}(\.[0-9]{1,5})?$/.test(value)) {
    const [high, low] = value.split(".").map(Number);
    const asplain = low === undefined ? high : high * 65536 + low;
    const valid = low === undefined || (high <= 65535 && low <= 65535);
    problems.add(
      path,
      valid
        ? `${show(value)} is a string; write the AS number as a number: ${asplain}`
        : `${show(value)} is a string; write the AS number as a number 1..${ASN_MAX}`,
    );
    return undefined;
  }
  if (typeof value !== "number") {
    problems.add(path, `${show(value)} is not an AS number; use an integer 1..${ASN_MAX}`);
    return undefined;
  }
  if (!Number.isInteger(value)) {
    problems.add(path, `${show(value)} is not a whole number; use an integer 1..${ASN_MAX}`);
    return undefined;
  }
  const n = value;
  if (n < 1 || n > ASN_MAX) {
    problems.add(path, `${show(value)} is out of range 1..${ASN_MAX}`);
    return undefined;
  }
  if (n === AS_TRANS) {
    problems.add(path, `${show(value)} is AS_TRANS (RFC 6793), reserved; choose another AS number`);
    return undefined;
  }
  return n;
}

/**
 * A peer-group or route-map style name: a letter, then letters, digits, `_` or `-`, at
 * most 63 characters. Plain words only, so FRR, NCLU and a shell read it the same way.
 */
export function frrName(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !/^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(value)) {
    problems.add(
      path,
      `${show(value)} is not a valid name; use a letter then letters, digits, "_" or "-" (at most 63)`,
    );
    return undefined;
  }
  return value;
}

/**
 * The verify step's options, shared by BgpLoopback and TorCumulus: `verify` (a boolean,
 * default true) and `verifyTimeoutSeconds` (5..1800, default 120), which it returns.
 */
export function verifyOptions(
  v: { verify?: unknown; verifyTimeoutSeconds?: unknown },
  problems: Problems,
): number | undefined {
  optional(v.verify, true, "verify", problems, bool);
  return optional(v.verifyTimeoutSeconds, 120, "verifyTimeoutSeconds", problems, (x, p, pr) =>
    seconds(x, p, pr, 5, 1800),
  );
}

/** A whole number of seconds within `min..max`. */
export function seconds(
  value: unknown,
  path: string,
  problems: Problems,
  min: number,
  max: number,
): number | undefined {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    problems.add(path, `${show(value)} is not a whole number of seconds; use ${min}..${max}`);
    return undefined;
  }
  if (value < min || value > max) {
    problems.add(path, `${show(value)} is out of range ${min}..${max}`);
    return undefined;
  }
  return value;
}

/**
 * Router-advertisement timing on a BGP unnumbered link: interval 1..1800 s, lifetime
 * 0..9000 s and either 0 (not a default router) or at least the interval.
 */
export function raTiming(
  interval: unknown,
  lifetime: unknown,
  path: string,
  problems: Problems,
): { interval: number; lifetime: number } | undefined {
  const i = seconds(interval, `${path}.raInterval`, problems, 1, 1800);
  const l = seconds(lifetime, `${path}.raLifetime`, problems, 0, 9000);
  if (i === undefined || l === undefined) {
    return undefined;
  }
  if (l !== 0 && l < i) {
    problems.add(
      `${path}.raLifetime`,
      `${l} is shorter than raInterval ${i}; use 0 or a value >= ${i}`,
    );
    return undefined;
  }
  return { interval: i, lifetime: l };
}

/** An FRR release as written on the `frr version` line, e.g. `8.4.4` or `10.1`. */
export function frrVersion(value: unknown, path: string, problems: Problems): string | undefined {
  if (
    typeof value !== "string" ||
    !/^[0-9]{1,3}\.[0-9]{1,3}(\.[0-9]{1,3})?([-_+~][A-Za-z0-9.+~-]{1,40})?$/.test(value)
  ) {
    problems.add(path, `${show(value)} is not an FRR version; use a release like "8.4.4"`);
    return undefined;
  }
  return value;
}
