/**
 * Validation at the right time: every plain input is checked at construction (so a bad
 * value throws before any resource is registered); inputs that are Outputs are checked
 * when they resolve, with the same messages.
 */
import * as pulumi from "@pulumi/pulumi";
import { InputError } from "./validate/problems";

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

/** Validates `values` with `validate`: the known part now, the whole when it resolves. */
export function resolveValidated<V extends object, C>(
  subject: string,
  values: V,
  validate: (subject: string, resolved: pulumi.Unwrap<V>) => C,
): pulumi.Output<C> {
  if (!hasUnknowns(values)) {
    return pulumi.output(validate(subject, values as pulumi.Unwrap<V>)) as pulumi.Output<C>;
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
    validate(subject, known as pulumi.Unwrap<V>);
  } catch (e) {
    if (!(e instanceof InputError)) {
      throw e;
    }
    const early = e.problems.filter((p) => !unknownKeys.some((k) => under(p.path, k)));
    if (early.length > 0) {
      throw new InputError(subject, early);
    }
  }
  return pulumi
    .output(values)
    .apply((resolved) => validate(subject, resolved as pulumi.Unwrap<V>)) as pulumi.Output<C>;
}

/** True for a value that is not there yet: an Output or a Promise. */
function isEventual(value: unknown): boolean {
  return pulumi.Output.isInstance(value) || value instanceof Promise;
}

/**
 * Throws one {@link InputError} naming every field given as an Output or a Promise: these
 * fields decide which steps exist, so they must be known when the component is built.
 * A plain object's own fields may still be Outputs (only the named paths are checked).
 */
export function requirePlain(subject: string, fields: Record<string, unknown>): void {
  const problems = Object.entries(fields)
    .filter(([, value]) => isEventual(value))
    .map(([path]) => ({
      path,
      message: "must be a plain value, not an Output or a Promise (it decides which steps exist)",
    }));
  if (problems.length > 0) {
    throw new InputError(subject, problems);
  }
}
