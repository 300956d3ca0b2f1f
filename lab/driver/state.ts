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

/** Whether `r` depends on the resource `target`: its parent, or among its dependencies. */
function dependsOnUrn(r: ResourceState, target: string): boolean {
  return r.parent === target || r.options.dependencies.includes(target);
}

/**
 * The deletes in antichains, as pulumi v3.248.0 step_generator.go ScheduleDeletes makes
 * them: round by round, every condemned resource none of whose dependencies (parent,
 * dependencies: graph.DependencyGraph DependenciesOf) is still condemned goes into one
 * antichain; the list is then reversed, so dependents go first. The deletes of one
 * antichain run at once, each antichain after the one before (deployment_executor.go
 * performPostSteps). Within an antichain: reverse registration order (only the log's order).
 */
export function deletionAntichains(items: ResourceState[]): ResourceState[][] {
  const condemned = new Set(items);
  const chains: ResourceState[][] = [];
  while (condemned.size > 0) {
    const all = [...condemned];
    let chain = all.filter(
      (r) => !all.some((other) => other !== r && other.urn !== r.urn && dependsOnUrn(r, other.urn)),
    );
    // A cycle cannot happen with a well-formed program; fall back to one at a time if it does.
    if (chain.length === 0) {
      chain = [all.sort((a, b) => a.order - b.order)[0]];
    }
    for (const r of chain) {
      condemned.delete(r);
    }
    chains.push(chain.sort((a, b) => b.order - a.order));
  }
  return chains.reverse();
}

/**
 * Everything among `items` that `r` depends on, directly or not (graph.DependencyGraph
 * TransitiveDependenciesOf): what the engine no longer deletes once `r`'s delete failed.
 */
export function transitiveDependencies(
  items: ResourceState[],
  r: ResourceState,
): Set<ResourceState> {
  const found = new Set<ResourceState>();
  const queue = [r];
  while (queue.length > 0) {
    const next = queue.pop() as ResourceState;
    for (const candidate of items) {
      if (!found.has(candidate) && candidate !== next && dependsOnUrn(next, candidate.urn)) {
        found.add(candidate);
        queue.push(candidate);
      }
    }
  }
  return found;
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
