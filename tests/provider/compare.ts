/**
 * Compares what the provider's construct() registers with what the TypeScript
 * components register, under the same mocks.
 */
import * as assert from "node:assert/strict";

import { Recorder } from "../mock/harness";
import { keepOutputsReadable } from "./wire";

export const rec = new Recorder();

/** One registration, comparable across the two paths. */
export interface Seen {
  type: string;
  name: string;
  parentType: string;
  inputs: Record<string, unknown>;
  secretInputs: string[];
  dependencies: string[];
}

export function seen(): Seen[] {
  return rec.registrations
    .map((r) => ({
      type: r.type,
      name: r.name,
      parentType: r.parentType,
      inputs: r.inputs,
      secretInputs: [...r.secretInputs].sort(),
      dependencies: [...r.dependencies].sort(),
    }))
    .sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
}

export async function viaTypeScript(build: () => void): Promise<Seen[]> {
  rec.install();
  build();
  await rec.settle();
  return seen();
}

export async function viaProvider(build: () => Promise<void>): Promise<Seen[]> {
  rec.install();
  keepOutputsReadable();
  await build();
  await rec.settle();
  return seen();
}

/**
 * Both paths register exactly these names with the same types, parents and inputs. The
 * dependencies are the same too, except through a reference: where TypeScript names the
 * steps of a component reached through a reference (directly, or through the referenced
 * component's own references), the provider names the referenced component itself. An
 * earlier construct call built it and answered only once every output was known, so its
 * steps have run by then. `refs` lists, per component URN, the URNs it references.
 */
export function assertSame(
  provider: Seen[],
  typescript: Seen[],
  names: string[],
  refs: Record<string, string[]> = {},
): void {
  assert.deepEqual([...provider.map((r) => r.name)].sort(), [...names].sort());
  const components = [...new Set([...Object.keys(refs), ...Object.values(refs).flat()])];
  /** The component a URN belongs to (itself, for a component). */
  const ownerOf = (urn: string): string => {
    const [type, name] = urn.split("::").slice(2);
    return (
      components.find((c) => {
        const [cType, cName] = c.split("::").slice(2);
        return c === urn || (type.startsWith(`${cType}$`) && name.startsWith(`${cName}-`));
      }) ?? urn
    );
  };
  const closure = (urn: string): string[] => [urn, ...(refs[urn] ?? []).flatMap(closure)];
  const expected = typescript.map((r) => {
    const self = components.find(
      (c) => c.split("::")[2] === (r.type.startsWith("frr-nspawn:") ? r.type : r.parentType),
    );
    const direct = self === undefined ? [] : (refs[self] ?? []);
    const viaReference = (dep: string): string =>
      direct.find((ref) => closure(ref).includes(ownerOf(dep))) ?? dep;
    // A referenced component's outputs all depend on it, so the provider may name it
    // where TypeScript's output came from no step at all (e.g. a hash known at preview).
    const got = provider.find((p) => p.type === r.type && p.name === r.name);
    const alsoRefs = (got?.dependencies ?? []).filter((d) => direct.includes(d));
    const dependencies = [...new Set([...r.dependencies.map(viaReference), ...alsoRefs])];
    return { ...r, dependencies: dependencies.sort() };
  });
  assert.deepEqual(provider, expected);
}
