/**
 * Validation at the right time: every plain input is checked at construction (so a bad
 * value throws before any resource is registered); inputs that are Outputs are checked
 * when they resolve, with the same messages.
 */
import * as pulumi from "@pulumi/pulumi";
import { knownKeys } from "./validate/common";
import { resourceName } from "./validate/names";
import { InputError, Problem, Problems, SECRET, show } from "./validate/problems";

/** True if `value` holds an Output or a Promise anywhere inside. */
export function hasUnknowns(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) {
    return true;
  }
  if (Array.isArray(value)) {
    return value.some(hasUnknowns);
  }
  if (typeof value === "object" && value !== null && !(value instanceof pulumi.Resource)) {
    return Object.values(value).some(hasUnknowns);
  }
  return false;
}

function under(path: string, key: string): boolean {
  return path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[`);
}

/** A validator: resolved values in, a config out; `secrets` are the paths that were secret. */
export type Validator<V, C> = (
  subject: string,
  resolved: pulumi.Unwrap<V>,
  secrets: ReadonlySet<string>,
) => C;

/** Every Output inside `value` with its property path (`a.b[0]`). */
function outputsIn(value: unknown, path: string, out: [string, pulumi.Output<unknown>][]): void {
  if (pulumi.Output.isInstance(value)) {
    out.push([path, value]);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => outputsIn(v, `${path}[${i}]`, out));
  } else if (typeof value === "object" && value !== null && !(value instanceof pulumi.Resource)) {
    for (const [k, v] of Object.entries(value)) {
      outputsIn(v, path === "" ? k : `${path}.${k}`, out);
    }
  }
}

/** The paths of `values` given as secret Outputs (a list: an Output would unwrap a Set). */
function secretPaths(values: object): Promise<string[]> {
  const outputs: [string, pulumi.Output<unknown>][] = [];
  outputsIn(values, "", outputs);
  return Promise.all(outputs.map(([, o]) => pulumi.isSecret(o))).then((flags) =>
    outputs.filter((_, i) => flags[i]).map(([p]) => p),
  );
}

/** Strings and numbers found at or under `path` in resolved `values`. */
function leavesAt(values: unknown, path: string): string[] {
  const at = path
    .split(/\.|\[(\d+)\]/)
    .filter((k) => k !== undefined && k !== "")
    .reduce<unknown>(
      (v, k) =>
        typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined,
      values,
    );
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string" || typeof v === "number") {
      out.push(String(v));
    } else if (typeof v === "object" && v !== null) {
      Object.values(v).forEach(walk);
    }
  };
  walk(at);
  return out;
}

/**
 * Runs `validate` and, if it throws an {@link InputError}, writes `<secret>` wherever a
 * message would show a value that was given as a secret.
 */
function validateScrubbed<V, C>(
  subject: string,
  resolved: pulumi.Unwrap<V>,
  secrets: ReadonlySet<string>,
  validate: Validator<V, C>,
): C {
  try {
    return validate(subject, resolved, secrets);
  } catch (e) {
    if (!(e instanceof InputError) || secrets.size === 0) {
      throw e;
    }
    const hidden = [...secrets]
      .flatMap((p) => leavesAt(resolved, p))
      .filter((v) => v.length > 0)
      .sort((a, b) => b.length - a.length);
    const scrub = (text: string): string =>
      hidden.reduce(
        (t, v) =>
          t
            .split(show(v))
            .join(SECRET)
            .split(v.length >= 3 ? v : "\u0000")
            .join(SECRET),
        text,
      );
    throw new InputError(
      subject,
      e.problems.map((p) => ({ path: p.path, message: scrub(p.message) })),
    );
  }
}

/** Validates `values` with `validate`: the known part now, the whole when it resolves. */
export function resolveValidated<V extends object, C>(
  subject: string,
  values: V,
  validate: Validator<V, C>,
): pulumi.Output<C> {
  if (!hasUnknowns(values)) {
    return pulumi.output(
      validate(subject, values as pulumi.Unwrap<V>, new Set()),
    ) as pulumi.Output<C>;
  }
  // Check what is known already: unknown fields count as unset, and problems that
  // stem from them wait for their values.
  const unknownKeys = Object.entries(values)
    .filter(([, v]) => hasUnknowns(v))
    .map(([k]) => k);
  const known = Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, unknownKeys.includes(k) ? undefined : v]),
  );
  try {
    validate(subject, known as pulumi.Unwrap<V>, new Set());
  } catch (e) {
    if (!(e instanceof InputError)) {
      throw e;
    }
    const early = e.problems.filter((p) => !unknownKeys.some((k) => under(p.path, k)));
    if (early.length > 0) {
      throw new InputError(subject, early);
    }
  }
  const secrets = secretPaths(values);
  return pulumi
    .all([pulumi.output(values), secrets])
    .apply(([resolved, s]) =>
      validateScrubbed(subject, resolved as pulumi.Unwrap<V>, new Set(s), validate),
    ) as pulumi.Output<C>;
}

/** True for a value that is not there yet: an Output or a Promise. */
function isEventual(value: unknown): boolean {
  return pulumi.Output.isInstance(value) || value instanceof Promise;
}

/**
 * One problem for every field given as an Output or a Promise: these fields decide which
 * steps exist, so they must be known when the component is built. A plain object's own
 * fields may still be Outputs (only the named paths are checked). Callers add them to
 * their other construction problems and throw once.
 */
export function plainProblems(fields: Record<string, unknown>): Problem[] {
  return Object.entries(fields)
    .filter(([, value]) => isEventual(value))
    .map(([path]) => ({
      path,
      message: "must be a plain value, not an Output or a Promise (it decides which steps exist)",
    }));
}

/** Throws one {@link InputError} for the {@link plainProblems} of `fields`, if any. */
export function requirePlain(subject: string, fields: Record<string, unknown>): void {
  const problems = plainProblems(fields);
  if (problems.length > 0) {
    throw new InputError(subject, problems);
  }
}

/**
 * What every component checks before anything registers: its resource name (it appears in
 * every step's name, in script text and on hosts) and that `args` has only known keys (a
 * misspelt optional key would otherwise be silently ignored). Returns the name.
 */
export function checkConstruction(
  kind: string,
  name: string,
  args: unknown,
  keys: Readonly<Record<string, true>>,
): string {
  const problems = new Problems();
  resourceName(name, "name", problems);
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    problems.add("args", `${show(args)} is not an object of arguments`);
  } else {
    knownKeys(args, Object.keys(keys), "", problems);
  }
  problems.throwIfAny(`${kind} ${show(name)}`);
  return name;
}
