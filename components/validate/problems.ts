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

  /**
   * @param secrets property paths whose values were Pulumi secrets: a validator asks
   * {@link isSecret} (a URL may carry credentials only in a secret), and a message about
   * such a value never shows it.
   */
  constructor(private readonly secrets: ReadonlySet<string> = new Set()) {}

  /** True when the value at `path`, or one it is part of, was a secret. */
  isSecret(path: string): boolean {
    for (const s of this.secrets) {
      if (path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`)) {
        return true;
      }
    }
    return false;
  }

  /** {@link show}, or `<secret>` for a value that was a secret. */
  show(value: unknown, path: string): string {
    return this.isSecret(path) ? SECRET : show(value);
  }

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  /** Whether a problem was added at `path`. */
  has(path: string): boolean {
    return this.list.some((p) => p.path === path);
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

/** What a message says in place of a secret's value. */
export const SECRET = "<secret>";

/**
 * Characters JSON leaves raw that a terminal or a reader would misread: DEL, the C1
 * controls (NEL, CSI…), the unicode line and paragraph separators, bidi controls.
 */
const UNPRINTABLE = /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Shows a value in a message the way the user wrote it (escaped: one printable line). */
export function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value).replace(
      UNPRINTABLE,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (value === undefined) {
    return "undefined";
  }
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  if (typeof value === "function") {
    return "a function";
  }
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : show(text).slice(1, -1).replace(/\\"/g, '"');
  } catch {
    return Object.prototype.toString.call(value);
  }
}
