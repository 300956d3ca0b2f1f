// Resource options the engine honours, read from the SDK's RegisterResourceRequest, and the
// engine's rules for them (pulumi v3.248.0). No @pulumi/pulumi import: plain values in and out.
import type { Json, JsonObject } from "./types";

export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** Computes the URN the engine would give (the root stack's type is not part of children's URNs). */
export function makeUrn(
  stack: string,
  project: string,
  parentUrn: string,
  type: string,
  name: string,
): string {
  let qualified = type;
  if (parentUrn) {
    const parentQualified = urnQualifiedType(parentUrn);
    const parentType = parentQualified.split("$").pop() ?? "";
    if (parentType !== ROOT_STACK_TYPE) {
      qualified = `${parentQualified}$${type}`;
    }
  }
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

export function urnQualifiedType(urn: string): string {
  return urn.split("::")[2] ?? "";
}

export function urnName(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

export function urnType(urn: string): string {
  return urnQualifiedType(urn).split("$").pop() ?? "";
}

/** One alias as the SDK sends it (Alias proto: a URN, or a spec relative to this resource). */
export type AliasSpec =
  | { urn: string }
  | {
      name: string;
      type: string;
      stack: string;
      project: string;
      parentUrn: string;
      noParent: boolean;
    };

export interface AliasContext {
  stack: string;
  project: string;
  /** New URN → the old URN it was found under (the step generator's sg.aliases). */
  aliased: Map<string, string>;
}

/** pulumi v3.248.0 pkg/resource/deploy/step_generator.go (*stepGenerator).collapseAliasToUrn */
function collapseAliasToUrn(
  ctx: AliasContext,
  name: string,
  type: string,
  resParent: string,
  alias: AliasSpec,
): string {
  if ("urn" in alias) {
    return alias.urn;
  }
  const n = alias.name || name;
  const t = alias.type || type;
  let parent = alias.parentUrn;
  if (parent === "") {
    parent = resParent;
  } else {
    // If the parent used an alias then use its old URN here, as that will be this resource's old URN as well.
    parent = ctx.aliased.get(parent) ?? parent;
  }
  const parentIsRootStack = parent !== "" && urnType(parent) === ROOT_STACK_TYPE;
  if (alias.noParent || parentIsRootStack) {
    parent = "";
  }
  return makeUrn(alias.stack || ctx.stack, alias.project || ctx.project, parent, t, n);
}

/** pulumi v3.248.0 pkg/resource/deploy/step_generator.go (*stepGenerator).inheritedChildAlias */
function inheritedChildAlias(
  ctx: AliasContext,
  childType: string,
  childName: string,
  parentName: string,
  parentAlias: string,
): string {
  // A child named "<parent>-part" follows its parent's old name too.
  const aliasName = childName.startsWith(parentName)
    ? urnName(parentAlias) + childName.slice(parentName.length)
    : childName;
  return `urn:pulumi:${ctx.stack}::${ctx.project}::${urnQualifiedType(parentAlias)}$${childType}::${aliasName}`;
}

/**
 * Every old URN this resource may be found under, in the engine's order
 * (pulumi v3.248.0 pkg/resource/deploy/step_generator.go (*stepGenerator).generateAliases):
 * its own aliases, then — when its parent was found under an alias — the parent's alias
 * multiplied out, so children of a renamed component follow it.
 */
export function generateAliases(
  ctx: AliasContext,
  name: string,
  type: string,
  parent: string,
  aliases: AliasSpec[],
): string[] {
  const result: string[] = [];
  const add = (u: string): void => {
    if (!result.includes(u)) {
      result.push(u);
    }
  };
  for (const a of aliases) {
    add(collapseAliasToUrn(ctx, name, type, parent, a));
  }
  if (parent !== "") {
    const parentAlias = ctx.aliased.get(parent);
    if (parentAlias !== undefined) {
      const parentName = urnName(parent);
      add(inheritedChildAlias(ctx, type, name, parentName, parentAlias));
      for (const a of aliases) {
        const childAlias = collapseAliasToUrn(ctx, name, type, parent, a);
        add(
          inheritedChildAlias(
            ctx,
            urnType(childAlias),
            urnName(childAlias),
            parentName,
            parentAlias,
          ),
        );
      }
    }
  }
  return result;
}

/**
 * Go's time.ParseDuration, in seconds (pulumi v3.248.0 pkg/resource/deploy/source_eval.go
 * generateTimeoutInSeconds). Throws on a malformed duration, as the engine fails the registration.
 */
export function parseDurationSeconds(s: string): number {
  const units: Record<string, number> = {
    ns: 1e-9,
    us: 1e-6,
    µs: 1e-6,
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
  };
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m) {
    if (s === "0") {
      return 0;
    }
    throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
  }
  let total = 0;
  for (const part of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * units[part[2]];
  }
  return m[1] === "-" ? -total : total;
}

/** `customTimeouts` in seconds; 0 means none (as the provider's cancel middleware reads it). */
export interface Timeouts {
  create: number;
  update: number;
  delete: number;
}

/** Splits an ignoreChanges path ("a.b[0].c", `a["b.c"]`) into keys (resource.ParsePropertyPath, roughly). */
export function parsePropertyPath(p: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (const m of p.matchAll(re)) {
    if (m[1] !== undefined) {
      out.push(m[1]);
    } else if (m[2] !== undefined) {
      out.push(Number(m[2]));
    } else if (m[3] !== undefined) {
      out.push(m[3].replace(/\\(.)/g, "$1"));
    }
  }
  return out;
}

type Container = JsonObject | Json[];

function child(c: Json | undefined, k: string | number): Json | undefined {
  if (c === null || c === undefined || typeof c !== "object") {
    return undefined;
  }
  return Array.isArray(c) ? (typeof k === "number" ? c[k] : undefined) : c[String(k)];
}

/**
 * Sets each ignored path in the new inputs back to its old value, or removes it where the old
 * inputs have none (pulumi v3.248.0 pkg/resource/deploy/step_generator.go processIgnoreChanges,
 * resource.PropertyPath.Reset). Returns the paths that could not be reset.
 */
export function applyIgnoreChanges(
  news: JsonObject,
  olds: JsonObject,
  ignoreChanges: string[],
): { inputs: JsonObject; invalid: string[] } {
  const inputs = JSON.parse(JSON.stringify(news)) as JsonObject;
  const invalid: string[] = [];
  for (const p of ignoreChanges) {
    const path = parsePropertyPath(p);
    if (path.length === 0) {
      continue;
    }
    let oldC: Json | undefined = olds;
    let newC: Json | undefined = inputs;
    for (const k of path.slice(0, -1)) {
      oldC = child(oldC, k);
      newC = child(newC, k);
    }
    const last = path[path.length - 1];
    if (
      oldC === null ||
      oldC === undefined ||
      typeof oldC !== "object" ||
      newC === null ||
      newC === undefined ||
      typeof newC !== "object"
    ) {
      invalid.push(p);
      continue;
    }
    const oldV = child(oldC, last);
    const target = newC as Container;
    if (Array.isArray(target)) {
      if (typeof last !== "number" || oldV === undefined) {
        invalid.push(p);
        continue;
      }
      target[last] = oldV;
    } else if (oldV === undefined) {
      delete target[String(last)];
    } else {
      target[String(last)] = oldV;
    }
  }
  return { inputs, invalid };
}

/** pulumi v3.248.0 pkg/resource/deploy/step.go deleteProtectedError.Error (urn.Quote on Unix). */
export function deleteProtectedMessage(urn: string): string {
  return (
    `resource ${JSON.stringify(urn)} cannot be deleted\n` +
    "because it is protected. To unprotect the resource, " +
    "either remove the `protect` flag from the resource in your Pulumi " +
    "program and run `pulumi up`, or use the command:\n" +
    `\`pulumi state unprotect '${urn}'\``
  );
}

/** pulumi v3.248.0 pkg/resource/deploy/step_generator.go generateStepsFromDiff (protected replace). */
export function replaceProtectedMessage(urn: string): string {
  return (
    `unable to replace resource ${JSON.stringify(urn)}\n` +
    "as it is currently marked for protection. To unprotect the resource, " +
    "remove the `protect` flag from the resource in your Pulumi " +
    "program and run `pulumi up`"
  );
}

/**
 * pulumi v3.248.0 pkg/resource/deploy/step_generator.go generateStepsFromDiff: a protected
 * dependent in a delete-before-replace chain.
 */
export function replaceChainProtectedMessage(urn: string, replacing: string): string {
  return (
    `unable to replace resource ${JSON.stringify(urn)} as part of replacing ${JSON.stringify(replacing)} ` +
    "as it is currently marked for protection. To unprotect the resource, " +
    "remove the `protect` flag from the resource in your Pulumi " +
    "program and run `pulumi up`, or use the command:\n" +
    `\`pulumi state unprotect '${urn}'\``
  );
}
