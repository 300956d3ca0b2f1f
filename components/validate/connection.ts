/**
 * Validation of the SSH connection every component takes (the command provider's
 * `ConnectionArgs` plus `sudo`), with its proxy checked the same way. Secret fields
 * (password, privateKey, privateKeyPassword) are checked for type only and never shown.
 */
import { isIP } from "node:net";
import { bool, knownKeys } from "./common";
import { absolutePath } from "./names";
import { Problems, show } from "./problems";

/** The provider's ProxyConnectionArgs keys (@pulumi/command 1.2.1 types/input.d.ts). */
export const PROXY_KEYS = [
  "host",
  "port",
  "user",
  "password",
  "privateKey",
  "privateKeyPassword",
  "agentSocketPath",
  "dialErrorLimit",
  "perDialTimeout",
  "hostKey",
] as const;

/** ConnectionArgs keys, plus frr-nspawn's `sudo`. */
export const CONNECTION_KEYS = [...PROXY_KEYS, "proxy", "sudo"] as const;

const SECRET_FIELDS = ["password", "privateKey", "privateKeyPassword"] as const;

/** OpenSSH public key types the provider can compare a host key with. */
const HOST_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) AAAA[A-Za-z0-9+/]+={0,2}( [\x21-\x7e][\x20-\x7e]*)?$/;

/** A host: an IPv4 or IPv6 address, or a DNS name (RFC 1123 labels, at most 253). */
export function sshHost(value: unknown, path: string, problems: Problems): string | undefined {
  const label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  if (
    typeof value === "string" &&
    (isIP(value) !== 0 ||
      (value.length <= 253 &&
        new RegExp(`^${label}(\\.${label})*\\.?$`).test(value) &&
        !/^[0-9.]+$/.test(value)))
  ) {
    return value;
  }
  problems.add(
    path,
    `${problems.show(value, path)} is not a host name, an IPv4 or an IPv6 address (no brackets, no port)`,
  );
  return undefined;
}

function port(value: unknown, path: string, problems: Problems): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    problems.add(path, `${problems.show(value, path)} is not a port; use an integer 1..65535`);
  }
}

function wholeNumber(value: unknown, min: number, path: string, problems: Problems): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > 86400) {
    problems.add(path, `${problems.show(value, path)} is not a whole number ${min}..86400`);
  }
}

/** The fields shared by a connection and its proxy. */
function endpoint(c: Record<string, unknown>, path: string, problems: Problems): void {
  sshHost(c.host, `${path}.host`, problems);
  if (c.port !== undefined) {
    port(c.port, `${path}.port`, problems);
  }
  if (
    c.user !== undefined &&
    (typeof c.user !== "string" || !/^[a-z_][a-z0-9_.-]{0,31}\$?$/.test(c.user))
  ) {
    problems.add(
      `${path}.user`,
      `${problems.show(c.user, `${path}.user`)} is not a user name; use lowercase letters, digits, "_", "." or "-"`,
    );
  }
  for (const field of SECRET_FIELDS) {
    const value = c[field];
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      // Never shown: it may be a key or a password given as plain text by mistake.
      problems.add(`${path}.${field}`, "is not a non-empty string");
    }
  }
  if (c.agentSocketPath !== undefined) {
    absolutePath(c.agentSocketPath, `${path}.agentSocketPath`, problems);
  }
  if (c.dialErrorLimit !== undefined) {
    wholeNumber(c.dialErrorLimit, -1, `${path}.dialErrorLimit`, problems);
  }
  if (c.perDialTimeout !== undefined) {
    wholeNumber(c.perDialTimeout, 0, `${path}.perDialTimeout`, problems);
  }
  if (c.hostKey !== undefined && (typeof c.hostKey !== "string" || !HOST_KEY.test(c.hostKey))) {
    problems.add(
      `${path}.hostKey`,
      `${problems.show(c.hostKey, `${path}.hostKey`)} is not a public host key; use one line of known_hosts without the host, like "ssh-ed25519 AAAA…"`,
    );
  }
}

/**
 * Checks a resolved connection at `path`: host, port, user, secret fields' types, agent
 * socket path, dial limits, hostKey format, the proxy's shape (the same checks, no
 * nested proxy) and `sudo` strictly a boolean. Unknown keys are refused.
 */
export function connection(value: unknown, path: string, problems: Problems): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.add(path, `${show(value)} is not a connection; give at least { host }`);
    return;
  }
  const c = value as Record<string, unknown>;
  knownKeys(c, CONNECTION_KEYS, path, problems);
  endpoint(c, path, problems);
  if (c.sudo !== undefined) {
    bool(c.sudo, `${path}.sudo`, problems);
  }
  if (c.proxy !== undefined) {
    if (typeof c.proxy !== "object" || c.proxy === null || Array.isArray(c.proxy)) {
      problems.add(
        `${path}.proxy`,
        `${problems.show(c.proxy, `${path}.proxy`)} is not a proxy connection; give { host, … }`,
      );
      return;
    }
    const p = c.proxy as Record<string, unknown>;
    knownKeys(p, PROXY_KEYS, `${path}.proxy`, problems);
    endpoint(p, `${path}.proxy`, problems);
  }
}
