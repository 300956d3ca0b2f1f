/** Validators for names, paths, URLs and text that reach hosts. */
import { Problems, show } from "./problems";

/** Longest resource name: step names append up to 11 characters (`-host-unit`). */
export const RESOURCE_NAME_MAX = 48;

/**
 * A component's resource name: 1..48 letters, digits, `_`, `.` or `-`, starting with a
 * letter or digit. It names every step and appears in script text and on hosts, so
 * nothing a shell, a file name or a terminal could misread is allowed.
 */
export function resourceName(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || value.length === 0) {
    problems.add(
      path,
      `${show(value)} is not a resource name; give 1..${RESOURCE_NAME_MAX} characters`,
    );
    return undefined;
  }
  const bad = [...value].find((c) => !/[A-Za-z0-9_.-]/.test(c));
  if (bad !== undefined) {
    problems.add(
      path,
      `${show(value)} contains ${show(bad)}; a resource name may only use letters, digits, "_", "." and "-"`,
    );
    return undefined;
  }
  if (!/^[A-Za-z0-9]/.test(value)) {
    problems.add(path, `${show(value)} must start with a letter or digit`);
    return undefined;
  }
  if (value.length > RESOURCE_NAME_MAX) {
    problems.add(
      path,
      `${show(value)} is ${value.length} characters long; a resource name has at most ${RESOURCE_NAME_MAX}`,
    );
    return undefined;
  }
  return value;
}

/**
 * A systemd machine name (machinectl, `systemd-nspawn@NAME.service`): systemd's
 * `hostname_is_valid()` (src/basic/hostname-util.c): 1..64 characters, dot-separated
 * labels of ASCII letters, digits and `-`, no label starting or ending with `-`, so
 * `frr_1` and `frr-` are refused; `.host` is reserved.
 */
export function machineName(value: unknown, path: string, problems: Problems): string | undefined {
  const label = "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?";
  if (
    typeof value !== "string" ||
    value.length > 64 ||
    !new RegExp(`^${label}(\\.${label})*$`).test(value)
  ) {
    problems.add(
      path,
      `${show(value)} is not a valid machine name; use 1..64 letters, digits and inner "-", dot-separated (systemd refuses "_")`,
    );
    return undefined;
  }
  return value;
}

/** A hostname: RFC 1123 labels (letters, digits, inner `-`), at most 63 characters in all. */
export function hostname(value: unknown, path: string, problems: Problems): string | undefined {
  const label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  if (
    typeof value !== "string" ||
    value.length > 63 ||
    !new RegExp(`^${label}(\\.${label})*$`).test(value)
  ) {
    problems.add(
      path,
      `${show(value)} is not a valid hostname; use letters, digits and inner "-", at most 63 characters`,
    );
    return undefined;
  }
  return value;
}

/** A Debian or Ubuntu suite (code name) as debootstrap takes it, e.g. `bookworm`, `jammy`. */
export function suite(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !/^[a-z][a-z0-9]{1,31}$/.test(value)) {
    problems.add(
      path,
      `${show(value)} is not a suite code name; use lowercase letters and digits like "bookworm"`,
    );
    return undefined;
  }
  return value;
}

/** A Debian package name (Debian Policy 5.6.1): lowercase, digits, `+ - .`, 2+ characters. */
export function packageName(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !/^[a-z0-9][a-z0-9+.-]+$/.test(value)) {
    problems.add(
      path,
      `${show(value)} is not a Debian package name; use lowercase letters, digits, "+", "-", "."`,
    );
    return undefined;
  }
  return value;
}

/**
 * Control characters (C0, DEL, C1 with NEL and CSI), unicode line/paragraph separators and
 * bidi controls: never in a value that reaches a script, a file or a terminal.
 */
export const CONTROL =
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * An http or https URL (an apt mirror or repository, a key, an image): no control
 * characters, whitespace, quotes, backslashes, `$`, backticks or `#` (a fragment, or a
 * trailing `#`, would end apt's sources line); credentials (`user:pass@`) only in a value
 * given as a secret, since the URL is written into script text.
 */
export function url(value: unknown, path: string, problems: Problems): string | undefined {
  const shown = problems.show(value, path);
  if (typeof value !== "string") {
    problems.add(path, `${shown} is not a URL; use http:// or https://`);
    return undefined;
  }
  if (CONTROL.test(value)) {
    problems.add(path, `${shown} contains a control character`);
    return undefined;
  }
  if (!/^https?:\/\//i.test(value)) {
    problems.add(path, `${shown} is not an http:// or https:// URL`);
    return undefined;
  }
  if (!/^https?:\/\/[^/?]/i.test(value)) {
    // WHATWG URL parsing would take the first path segment of `http:///x` as the host.
    problems.add(path, `${shown} has no host`);
    return undefined;
  }
  const bad = [...value].find((c) => /[\s"'`\\$#<>{}|^]/u.test(c));
  if (bad !== undefined) {
    problems.add(
      path,
      bad === "#"
        ? `${shown} has a "#" (a fragment), which would end apt's sources line`
        : `${shown} contains ${show(bad)}; a URL here has no spaces, quotes, "\\", "$" or backticks`,
    );
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    problems.add(path, `${shown} is not a valid URL`);
    return undefined;
  }
  if (parsed.hostname === "") {
    problems.add(path, `${shown} has no host`);
    return undefined;
  }
  if ((parsed.username !== "" || parsed.password !== "") && !problems.isSecret(path)) {
    problems.add(
      path,
      "carries credentials (user:password@), which would be written into script text; give the URL as a secret (pulumi.secret) or drop them",
    );
    return undefined;
  }
  return value;
}

/** Kept for the callers that say mirror: the same rule as {@link url}. */
export const mirrorUrl = url;

/**
 * A normalised absolute path: starts with `/`; no empty, `.` or `..` segments; letters,
 * digits and `_ . + @ % = : , - ~` only (`~` is in Debian version strings); no trailing
 * `/` (`/` itself is refused).
 */
export function absolutePath(value: unknown, path: string, problems: Problems): string | undefined {
  if (
    typeof value !== "string" ||
    !/^(\/[A-Za-z0-9_.+@%=:,~-]+)+$/.test(value) ||
    value.split("/").some((s) => s === "." || s === "..")
  ) {
    problems.add(
      path,
      `${show(value)} is not a normalised absolute path; use "/dir/file" with no spaces, "." or ".." segments`,
    );
    return undefined;
  }
  return value;
}

/**
 * System folders a build must not own: `install -d -m 0755 /tmp` would change /tmp's mode,
 * and removing a build would remove their content.
 */
export const SYSTEM_DIRS: readonly string[] = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/lib",
  "/lib32",
  "/lib64",
  "/media",
  "/mnt",
  "/opt",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/srv",
  "/sys",
  "/tmp",
  "/usr",
  "/var",
  "/usr/bin",
  "/usr/lib",
  "/usr/local",
  "/usr/sbin",
  "/usr/share",
  "/var/cache",
  "/var/lib",
  "/var/log",
  "/var/tmp",
  "/var/lib/machines",
];

/** A build folder: an absolute path that is not a system folder nor under /proc, /sys, /dev. */
export function workDir(value: unknown, path: string, problems: Problems): string | undefined {
  const dir = absolutePath(value, path, problems);
  if (dir === undefined) {
    return undefined;
  }
  if (SYSTEM_DIRS.includes(dir) || /^\/(proc|sys|dev)\//.test(dir)) {
    problems.add(
      path,
      `${show(dir)} is a system folder; use a folder of its own like "/var/lib/frr-nspawn/images"`,
    );
    return undefined;
  }
  return dir;
}

/** Image tarball endings that `machinectl import-tar` reads (never zstd). */
export const IMAGE_EXTENSIONS: readonly string[] = [
  ".tar",
  ".tar.gz",
  ".tgz",
  ".tar.xz",
  ".tar.bz2",
];

/** True if a file name ends in one of {@link IMAGE_EXTENSIONS}. */
function importable(name: string): boolean {
  const base = name.slice(name.lastIndexOf("/") + 1);
  return IMAGE_EXTENSIONS.some((e) => base.endsWith(e) && base.length > e.length);
}

/** An image tarball's path: absolute, normalised, ending in an importable extension. */
export function imagePath(value: unknown, path: string, problems: Problems): string | undefined {
  const file = absolutePath(value, path, problems);
  if (file !== undefined && !importable(file)) {
    problems.add(
      path,
      `${show(file)} does not end in ${IMAGE_EXTENSIONS.join(", ")} (what machinectl import-tar reads)`,
    );
    return undefined;
  }
  return file;
}

/** An image tarball's URL: {@link url} whose path ends in an importable extension. */
export function imageUrl(value: unknown, path: string, problems: Problems): string | undefined {
  const u = url(value, path, problems);
  if (u !== undefined && !importable(new URL(u).pathname)) {
    problems.add(
      path,
      `${problems.show(u, path)} does not end in ${IMAGE_EXTENSIONS.join(", ")} (what machinectl import-tar reads)`,
    );
    return undefined;
  }
  return u;
}

/**
 * One printable line of at most 200 characters (a commit description): no control
 * characters or unicode line separators, and no leading `-` (a command reads it as an
 * option).
 */
export function oneLine(
  value: unknown,
  path: string,
  problems: Problems,
  max = 200,
): string | undefined {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.length > max ||
    CONTROL.test(value)
  ) {
    problems.add(path, `${show(value)} is not one printable line of 1..${max} characters`);
    return undefined;
  }
  if (value.startsWith("-")) {
    problems.add(path, `${show(value)} starts with "-", which a command would read as an option`);
    return undefined;
  }
  return value;
}

/** A lowercase hex SHA-256 digest (64 characters). */
export function sha256(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) {
    problems.add(path, `${show(value)} is not a SHA-256 digest; use 64 lowercase hex characters`);
    return undefined;
  }
  return value;
}
