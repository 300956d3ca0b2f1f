// The state file: resources keyed by URN, written atomically after every step.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ResourceState, StateFile } from "./types";

export class StateStore {
  readonly file: string;
  data: StateFile;

  /** When set (preview), nothing is written. */
  readOnly = false;

  private constructor(file: string, data: StateFile) {
    this.file = file;
    this.data = data;
  }

  static load(file: string, project: string, stack: string): StateStore {
    const abs = path.resolve(file);
    if (!fs.existsSync(abs)) {
      return new StateStore(abs, {
        version: 1,
        project,
        stack,
        nextOrder: 1,
        resources: {},
        pendingDeletes: [],
      });
    }
    const parsed = JSON.parse(fs.readFileSync(abs, "utf8")) as StateFile;
    if (parsed.version !== 1) {
      throw new Error(`${abs}: unsupported state version ${String(parsed.version)}`);
    }
    if (parsed.project !== project || parsed.stack !== stack) {
      throw new Error(
        `${abs} holds state for ${parsed.project}/${parsed.stack}, not ${project}/${stack}`,
      );
    }
    parsed.pendingDeletes = parsed.pendingDeletes ?? [];
    return new StateStore(abs, parsed);
  }

  get(urn: string): ResourceState | undefined {
    return this.data.resources[urn];
  }

  put(res: ResourceState): void {
    this.data.resources[urn(res)] = res;
    this.save();
  }

  remove(urnToRemove: string): void {
    delete this.data.resources[urnToRemove];
    this.save();
  }

  takeOrder(): number {
    return this.data.nextOrder++;
  }

  addPendingDelete(res: ResourceState): void {
    this.data.pendingDeletes.push(res);
    this.save();
  }

  removePendingDelete(res: ResourceState): void {
    this.data.pendingDeletes = this.data.pendingDeletes.filter((r) => r !== res);
    this.save();
  }

  /** Atomic write (temp file + rename), mode 0600: the file holds secrets in clear text. */
  save(): void {
    if (this.readOnly) {
      return;
    }
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(this.data, null, 2) + "\n", { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}

function urn(res: ResourceState): string {
  return res.urn;
}

/**
 * Orders resources for deletion: dependents before their dependencies
 * (dependencies and parent links), otherwise reverse registration order.
 */
export function deletionOrder(items: ResourceState[]): ResourceState[] {
  const remaining = new Set(items);
  const result: ResourceState[] = [];
  const dependsOnUrn = (r: ResourceState, target: string): boolean =>
    r.parent === target || r.options.dependencies.includes(target);
  while (remaining.size > 0) {
    const candidates = [...remaining].filter(
      (x) => ![...remaining].some((y) => y !== x && y.urn !== x.urn && dependsOnUrn(y, x.urn)),
    );
    // A cycle cannot happen with a well-formed program; fall back to order if it does.
    const pool = candidates.length > 0 ? candidates : [...remaining];
    pool.sort((a, b) => b.order - a.order);
    const next = pool[0];
    result.push(next);
    remaining.delete(next);
  }
  return result;
}

/**
 * The dependents a delete-before-replace of `root` must delete first, in dependency order
 * (pulumi v3.248.0 step_generator.go calculateDependentReplacements): a custom resource one
 * of whose inputs depends (propertyDependencies) on a resource being replaced, when the
 * provider's Diff with those inputs unknown is a replace — for the command resources, when
 * such an input is a replace-on-change one (`triggers`). Dependents only through `dependsOn`
 * are not replaced. Already pending replacement: skipped.
 */
export function dependentReplacements(
  resources: ResourceState[],
  root: ResourceState,
): ResourceState[] {
  const replaceSet = new Set([root.urn]);
  const out: ResourceState[] = [];
  const all = [...resources].sort((a, b) => a.order - b.order);
  for (const r of all) {
    if (r.urn === root.urn || !r.custom || r.pendingReplacement) {
      continue;
    }
    const hit = Object.entries(r.options.propertyDependencies)
      .filter(([, urns]) => urns.some((u) => replaceSet.has(u)))
      .map(([k]) => k);
    const roots = new Set(r.options.replaceOnChanges.map((p) => p.split(/[.[]/)[0]));
    if (hit.length > 0 && (roots.has("*") || hit.some((k) => roots.has(k)))) {
      replaceSet.add(r.urn);
      out.push(r);
    }
  }
  return out;
}
