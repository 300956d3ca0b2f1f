/**
 * Rollout in waves: the program-side equivalent of Ansible's `serial:`. A change to
 * many hosts reaches one wave at a time; each wave's resources depend on every resource
 * of the wave before, so a wave starts only once the previous one has applied and, with
 * BgpLoopback's verify step (on by default), once its BGP sessions are back up. If a
 * step of a wave fails, `pulumi up` stops there and the later waves are not touched.
 */
import type * as pulumi from "@pulumi/pulumi";

/**
 * Splits `items` into consecutive waves of at most `size` items.
 * @example waves(["a", "b", "c"], 2) // [["a", "b"], ["c"]]
 */
export function waves<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`waves: size ${String(size)} is not a whole number of at least 1`);
  }
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

/**
 * Creates one resource per item, wave after wave: `create(item, dependsOn)` is called
 * with the resources of the previous wave (none for the first), to be passed as the
 * resource's `dependsOn`. Returns the resources in the order of `items`.
 *
 * @example
 * const bgp = inWaves(hosts, 10, (h, dependsOn) =>
 *   new BgpLoopback(`${h.name}-bgp`, { ...h.args }, { dependsOn }),
 * );
 */
export function inWaves<T, R extends pulumi.Resource>(
  items: readonly T[],
  size: number,
  create: (item: T, dependsOn: R[]) => R,
): R[] {
  const created: R[] = [];
  let previous: R[] = [];
  for (const wave of waves(items, size)) {
    const current = wave.map((item) => create(item, previous));
    created.push(...current);
    previous = current;
  }
  return created;
}
