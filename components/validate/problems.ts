/**
 * Collecting validation problems and throwing them once.
 *
 * Validators add `path: message` lines to a {@link Problems}; the component throws a
 * single {@link InputError} listing all of them, so a user fixes everything in one go.
 */

/** One invalid input: where it is and what is wrong with it. */
export interface Problem {
  /** The property path, e.g. `interfaces[1]` or `downlinks[0].raLifetime`. */
  path: string;
  /** What is wrong and what is allowed, e.g. `70000000000 is out of range 1..4294967295`. */
  message: string;
}

/** Thrown when one or more inputs are invalid; `problems` lists every one of them. */
export class InputError extends Error {
  readonly problems: readonly Problem[];

  constructor(subject: string, problems: readonly Problem[]) {
    super(
      `${subject} has ${problems.length === 1 ? "an invalid input" : `${problems.length} invalid inputs`}:\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
    );
    this.name = "InputError";
    this.problems = problems;
  }
}

/** A list of problems being collected for one subject (a resource or a renderer call). */
export class Problems {
  private readonly list: Problem[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get count(): number {
    return this.list.length;
  }

  /** Throws one {@link InputError} if any problem was added. */
  throwIfAny(subject: string): void {
    if (this.list.length > 0) {
      throw new InputError(subject, this.list);
    }
  }
}

/** Shows a value in a message the way the user wrote it. */
export function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value);
  }
  if (value === undefined) {
    return "undefined";
  }
  return typeof value === "number" || typeof value === "boolean" || value === null
    ? String(value)
    : JSON.stringify(value);
}
