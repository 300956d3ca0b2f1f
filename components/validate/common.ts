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
  const holes = Array.from({ length: value.length }, (_, i) => i).filter((i) => !(i in value));
  if (holes.length > 0) {
    holes.forEach((i) =>
      problems.add(`${path}[${i}]`, "is a hole in a sparse array; give a value"),
    );
    return undefined;
  }
  if (value.length < (options.min ?? 0)) {
    problems.add(path, `needs at least ${options.min} item${options.min === 1 ? "" : "s"}`);
    return undefined;
  }
  const out: T[] = [];
  const seen = new Map<string, number>();
  value.forEach((item, i) => {
    const before = problems.count;
    const checked = check(item, `${path}[${i}]`, problems);
    if (checked === undefined) {
      if (problems.count === before) {
        problems.add(`${path}[${i}]`, `${show(item)} is not allowed here`);
      }
      return;
    }
    const key = JSON.stringify(checked);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.add(
        `${path}[${i}]`,
        `${problems.show(item, `${path}[${i}]`)} repeats ${path}[${first}]`,
      );
      return;
    }
    seen.set(key, i);
    out.push(checked);
  });
  return out.length === value.length ? out : undefined;
}

/** Edit distance between two short strings (for "did you mean"). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      const same = a[i - 1].toLowerCase() === b[j - 1].toLowerCase();
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The known key nearest to `key`, if it is near enough to be a slip. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * Refuses keys of `value` (a plain object) that are not in `known`, suggesting the
 * nearest known key: a misspelt optional key would otherwise be silently ignored.
 */
export function knownKeys(
  value: object,
  known: readonly string[],
  path: string,
  problems: Problems,
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const guess = nearest(key, known);
      const safe = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : undefined;
      const at =
        safe === undefined ? `${path}[${show(key)}]` : path === "" ? safe : `${path}.${safe}`;
      problems.add(
        at,
        `is not a known key${guess === undefined ? `; known keys: ${known.join(", ")}` : `; did you mean ${JSON.stringify(guess)}?`}`,
      );
    }
  }
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
