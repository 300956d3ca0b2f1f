/** Validation of the SSH connection fields that can be checked before connecting. */
import { Problems, show } from "./problems";

/** Checks host, port and user of a connection at `path` (secret fields are not inspected). */
export function connection(value: unknown, path: string, problems: Problems): void {
  if (typeof value !== "object" || value === null) {
    problems.add(path, `${show(value)} is not a connection; give at least { host }`);
    return;
  }
  const c = value as Record<string, unknown>;
  if (typeof c.host !== "string" || !/^[A-Za-z0-9_.:%[\]-]{1,253}$/.test(c.host)) {
    problems.add(`${path}.host`, `${show(c.host)} is not a host name or address`);
  }
  if (
    c.port !== undefined &&
    (typeof c.port !== "number" || !Number.isInteger(c.port) || c.port < 1 || c.port > 65535)
  ) {
    problems.add(`${path}.port`, `${show(c.port)} is out of range 1..65535`);
  }
  if (
    c.user !== undefined &&
    (typeof c.user !== "string" || !/^[a-z_][a-z0-9_.-]{0,31}$/.test(c.user))
  ) {
    problems.add(`${path}.user`, `${show(c.user)} is not a user name`);
  }
  if (c.sudo !== undefined && typeof c.sudo !== "boolean") {
    problems.add(`${path}.sudo`, `${show(c.sudo)} is not true or false`);
  }
}
