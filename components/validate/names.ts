/** Validators for names, paths, URLs and text that reach hosts. */
import { Problems, show } from "./problems";

/**
 * A systemd machine name (machinectl, `systemd-nspawn@NAME.service`): 1..64 characters,
 * dot-separated labels of letters, digits, `_` and `-`, not starting with `-`.
 */
export function machineName(value: unknown, path: string, problems: Problems): string | undefined {
  if (
    typeof value !== "string" ||
    value.length > 64 ||
    !/^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/.test(value)
  ) {
    problems.add(
      path,
      `${show(value)} is not a valid machine name; use 1..64 letters, digits, "_", "-", dot-separated`,
    );
    return undefined;
  }
  if (value === ".host") {
    problems.add(path, `".host" is reserved by machinectl`);
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

/** An http or https URL with no whitespace, quotes or backslashes (an apt mirror). */
export function mirrorUrl(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !/^https?:\/\/[^\s"'`\\$]+$/.test(value)) {
    problems.add(
      path,
      `${show(value)} is not a mirror URL; use http:// or https:// with no spaces or quotes`,
    );
    return undefined;
  }
  try {
    new URL(value);
  } catch {
    problems.add(path, `${show(value)} is not a valid URL`);
    return undefined;
  }
  return value;
}

/**
 * A normalised absolute path: starts with `/`; no empty, `.` or `..` segments; no
 * whitespace, quotes or control characters; no trailing `/` (`/` itself is refused).
 */
export function absolutePath(value: unknown, path: string, problems: Problems): string | undefined {
  if (
    typeof value !== "string" ||
    !/^(\/[A-Za-z0-9_.+@%=:,-]+)+$/.test(value) ||
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

/** One printable line of at most 200 characters (a commit description). */
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
    /[\u0000-\u001f\u007f]/.test(value)
  ) {
    problems.add(path, `${show(value)} is not one printable line of 1..${max} characters`);
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
