/** Helpers for validating lists and optional values. */
import { Problems, show } from "./problems";

export type Check<T> = (value: unknown, path: string, problems: Problems) => T | undefined;

/** Validates an optional value: `fallback` when undefined, else `check`. */
export function optional<T>(
  value: unknown,
  fallback: T,
  path: string,
  problems: Problems,
  check: Check<T>,
): T | undefined {
  return value === undefined ? fallback : check(value, path, problems);
}

/** Validates every item of a list (each at `path[i]`) and refuses duplicates. */
export function list<T>(
  value: unknown,
  path: string,
  problems: Problems,
  check: Check<T>,
  options: { min?: number } = {},
): T[] | undefined {
  if (!Array.isArray(value)) {
    problems.add(path, `${show(value)} is not a list`);
    return undefined;
  }
  if (value.length < (options.min ?? 0)) {
    problems.add(path, `needs at least ${options.min} item${options.min === 1 ? "" : "s"}`);
    return undefined;
  }
  const out: T[] = [];
  const seen = new Map<string, number>();
  value.forEach((item, i) => {
    const checked = check(item, `${path}[${i}]`, problems);
    if (checked === undefined) {
      return;
    }
    const key = JSON.stringify(checked);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.add(`${path}[${i}]`, `${show(item)} repeats ${path}[${first}]`);
      return;
    }
    seen.set(key, i);
    out.push(checked);
  });
  return out.length === value.length ? out : undefined;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(allowed: readonly T[]): Check<T> {
  return (value, path, problems) => {
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      problems.add(
        path,
        `${show(value)} is not one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`,
      );
      return undefined;
    }
    return value as T;
  };
}

/** A boolean. */
export function bool(value: unknown, path: string, problems: Problems): boolean | undefined {
  if (typeof value !== "boolean") {
    problems.add(path, `${show(value)} is not true or false`);
    return undefined;
  }
  return value;
}
