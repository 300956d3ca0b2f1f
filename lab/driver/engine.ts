// The engine: runs a Pulumi program under the SDK's mock monitor (monitor.ts), decides per
// registered resource what to do against the state file (as pulumi v3.248.0's step generator
// does), runs the command provider's steps for real, and deletes what the program no longer
// declares.
import * as crypto from "node:crypto";
import * as path from "node:path";
import { deserializeProperties } from "@pulumi/pulumi/runtime/rpc";
import type * as resproto from "@pulumi/pulumi/proto/resource_pb";
import type * as structproto from "google-protobuf/google/protobuf/struct_pb";
import {
  StateStore,
  deletionAntichains,
  dependentReplacements,
  transitiveDependencies,
} from "./state";
import type { ConfigEntry } from "./engine-config";
export { configEnv, type ConfigEntry } from "./engine-config";
import { checkFailureMessages, checkInputs } from "./check";
import {
  applyIgnoreChanges,
  deleteProtectedMessage,
  generateAliases,
  replaceChainProtectedMessage,
  makeUrn,
  replaceProtectedMessage,
  type AliasSpec,
} from "./engine-options";
import { readAliases, readOptions, scriptText, withoutLanguageHostEnv } from "./engine-request";
export { withoutLanguageHostEnv } from "./engine-request";
export { makeUrn } from "./engine-options";
import { StackLock } from "./lock";
import { runProgram, type Registered } from "./monitor";
import { providerFor, decide, type Outcome, type StepContext } from "./provider";
import { EngineFilter, flattenInputs, wrapSecret, type Flattened } from "./values";
import type {
  JsonObject,
  Operation,
  PlanAction,
  PlanRecord,
  ResourceOptions,
  ResourceState,
  StepRecord,
  Summary,
} from "./types";

export const SUMMARY_PREFIX = "LAB-DRIVER-SUMMARY ";

export interface RunOptions {
  operation: Operation;
  /** Absolute path of the program's entry file (index.ts). */
  programFile: string;
  statePath: string;
  project: string;
  stack: string;
  config: Record<string, ConfigEntry>;
  verbose: boolean;
  /**
   * The environment provider plugins get: the CLI's own (pulumi v3.248.0
   * sdk/go/common/resource/plugin/plugin.go ExecPlugin: os.Environ() of the CLI). Only the
   * language host adds PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS (and PULUMI_NODEJS_*)
   * (sdk/nodejs/cmd/pulumi-language-nodejs/main.go execRuntime). Defaults to this process's
   * environment without those.
   */
  providerEnv?: NodeJS.ProcessEnv;
  /** Where step and plan lines go (defaults to stdout). */
  log?: (line: string) => void;
}

class StepError extends Error {}

/** A delete refused because the resource is protected (the engine goes on past it). */
class ProtectedDeleteError extends StepError {}

export class Engine {
  private readonly state: StateStore;
  private readonly filter: EngineFilter;
  private readonly steps: StepRecord[] = [];
  private readonly plan: PlanRecord[] = [];
  private readonly diagnostics: string[] = [];
  /** URNs registered in this run, and old URNs claimed through an alias. */
  private readonly registered = new Set<string>();
  /** New URN → old URN it was found under (the step generator's sg.aliases). */
  private readonly aliased = new Map<string, string>();
  private failure: Error | undefined;
  /** A preview that saw an error keeps going (to show the whole plan) and fails at the end. */
  private sawError = false;
  private readonly log: (line: string) => void;
  private readonly providerEnv: NodeJS.ProcessEnv;

  constructor(private readonly opts: RunOptions) {
    this.state = StateStore.load(opts.statePath, opts.project, opts.stack);
    this.state.readOnly = opts.operation === "preview";
    this.log = opts.log ?? ((line) => process.stdout.write(`${line}\n`));
    this.filter = new EngineFilter(
      Object.values(opts.config)
        .filter((e) => e.secret)
        .map((e) => e.value),
    );
    this.providerEnv = opts.providerEnv ?? withoutLanguageHostEnv(process.env);
  }

  private get preview(): boolean {
    return this.opts.operation === "preview";
  }

  private fail(e: Error): void {
    if (!this.failure) {
      this.failure = e;
    }
  }

  private diag(message: string): void {
    const m = this.filter.filter(message);
    this.diagnostics.push(m);
    process.stderr.write(`error: ${m}\n`);
  }

  // ------------------------------------------------------------ steps --

  private async step(
    op: "create" | "update" | "delete",
    res: { type: string; name: string; urn: string },
    replacement: boolean,
    timeoutSec: number,
    fn: (ctx: StepContext) => Promise<Outcome>,
  ): Promise<Outcome> {
    const ctx: StepContext = {
      verbose: this.opts.verbose,
      filter: this.filter,
      label: res.name,
      baseEnv: this.providerEnv,
      timeoutSec,
    };
    const started = Date.now();
    let outcome: Outcome;
    try {
      outcome = await fn(ctx);
    } catch (e) {
      outcome = { ran: false, outputs: {}, error: (e as Error).message };
    }
    const tag = `${op} ${res.type} ${res.name}${replacement ? " (replace)" : ""}`;
    const record = (exitCode: number | null, durationMs: number) =>
      this.steps.push({
        op,
        type: res.type,
        name: res.name,
        urn: res.urn,
        replacement: replacement || undefined,
        exitCode,
        durationMs,
        ok: exitCode === 0,
      });
    if (outcome.ran && outcome.result) {
      const r = outcome.result;
      record(r.code, r.durationMs);
      this.log(
        `${tag} exit=${r.code === null ? `signal:${r.signal ?? "?"}` : r.code} ${r.durationMs}ms`,
      );
    } else if (outcome.error) {
      record(null, Date.now() - started);
      this.log(`${tag} exit=none ${Date.now() - started}ms`);
    }
    if (outcome.error) {
      throw new StepError(`${op} of ${res.urn} failed: ${this.filter.filter(outcome.error)}`);
    }
    return outcome;
  }

  /**
   * Which provider outputs are secret: only those named in additionalSecretOutputs. The
   * provider's default wiring makes an output secret only when the input of the same name is
   * (pulumi-go-provider v1.3.0 infer/resource.go ensureDefaultSecrets, markSecret), and stdout/
   * stderr have no such input, so a secret `create` does not make stdout secret.
   */
  private secretOutputs(options: ResourceOptions, outputs: JsonObject): string[] {
    return Object.keys(outputs).filter((k) => options.additionalSecretOutputs.includes(k));
  }

  /**
   * A delete step (pulumi v3.248.0 pkg/resource/deploy/step.go (*DeleteStep).Apply): refused
   * for a protected resource unless it is being replaced (also in a preview); a no-op for
   * retainOnDelete, or when the resource it is deletedWith is deleted in this run; otherwise
   * the provider's Delete with the delete customTimeout.
   */
  private async deleteResource(
    r: ResourceState,
    replacement: boolean,
    deleting: Set<string>,
  ): Promise<void> {
    if (!replacement && r.options.protect) {
      throw new ProtectedDeleteError(deleteProtectedMessage(r.urn));
    }
    // Already deleted: only leaves the state (step_generator.go GenerateDeletes →
    // RemovePendingReplaceStep).
    if (this.preview || r.options.retainOnDelete || r.pendingReplacement) {
      return;
    }
    if (r.options.deletedWith && deleting.has(r.options.deletedWith)) {
      return;
    }
    const provider = r.custom ? providerFor(r.type) : undefined;
    if (r.custom && !provider) {
      throw new StepError(`delete of ${r.urn}: the lab driver has no provider for ${r.type}`);
    }
    if (provider) {
      await this.step("delete", r, replacement, r.options.customTimeouts?.delete ?? 0, (ctx) =>
        provider.delete(r, ctx),
      );
    }
  }

  // ----------------------------------------------------- registration --

  /** Finds the old state by URN, then by alias (pulumi v3.248.0 step_generator.go getOldResource). */
  private findOld(
    urn: string,
    name: string,
    type: string,
    parent: string,
    aliases: AliasSpec[],
  ): ResourceState | undefined {
    const own = this.state.get(urn);
    if (own) {
      return own;
    }
    const ctx = { stack: this.opts.stack, project: this.opts.project, aliased: this.aliased };
    for (const a of generateAliases(ctx, name, type, parent, aliases)) {
      const old = this.state.get(a);
      if (old && !this.registered.has(a)) {
        this.aliased.set(urn, a);
        this.registered.add(a);
        return old;
      }
    }
    return undefined;
  }

  private async register(req: resproto.RegisterResourceRequest): Promise<Registered> {
    const type = req.getType();
    const name = req.getName();
    const custom = req.getCustom();
    const parent = req.getParent();
    const urn = makeUrn(this.opts.stack, this.opts.project, parent, type, name);
    if (this.failure) {
      throw new Error(`not registering ${urn}: an earlier step failed`);
    }
    if (this.registered.has(urn)) {
      throw new Error(`duplicate resource URN ${urn}`);
    }
    this.registered.add(urn);
    try {
      return await this.registerChecked(req, type, name, custom, parent, urn);
    } catch (e) {
      this.fail(e as Error);
      throw e;
    }
  }

  private async registerChecked(
    req: resproto.RegisterResourceRequest,
    type: string,
    name: string,
    custom: boolean,
    parent: string,
    urn: string,
  ): Promise<Registered> {
    const raw = deserializeProperties(req.getObject() as structproto.Struct) as Record<
      string,
      unknown
    >;
    const options = readOptions(req);
    // Assets are hashed here, at registration (values.ts assetHash).
    const flat: Flattened = await flattenInputs(raw);

    const provider = custom ? providerFor(type) : undefined;
    if (custom && !provider) {
      throw new StepError(`the lab driver has no provider for ${type} (${urn})`);
    }
    const old = this.findOld(urn, name, type, parent, readAliases(req));
    const aliasOf = this.aliased.get(urn);
    const record: PlanRecord = { action: "same", type, name, urn, custom };
    if (aliasOf) {
      record.aliasOf = aliasOf;
    }

    // The provider's Check, in preview and in up (step_generator.go continueStepsFromImport).
    if (provider) {
      const failures = checkInputs(type, raw);
      record.check = failures.length === 0 ? "passed" : "failed";
      if (failures.length > 0) {
        record.action = old ? "update" : "create";
        this.plan.push(record);
        const messages = checkFailureMessages(type, name, raw, failures);
        messages.forEach((m) => this.diag(m));
        throw new StepError(`${messages.join("\n")}\nresource ${urn} is invalid`);
      }
    }

    // ignoreChanges: the old values stand in for the new (step_generator.go processIgnoreChanges).
    let inputs = flat.inputs;
    let unknownInputs = flat.unknownInputs;
    if (old && options.ignoreChanges && options.ignoreChanges.length > 0) {
      inputs = applyIgnoreChanges(flat.inputs, old.inputs, options.ignoreChanges).inputs;
      const ignoredRoots = new Set(options.ignoreChanges.map((p) => p.split(/[.[]/)[0]));
      unknownInputs = unknownInputs.filter((k) => !ignoredRoots.has(k));
    }

    let action: PlanAction = "create";
    let keys: string[] = [];
    if (old) {
      ({ action, keys } = decide(
        old,
        { ...flat, inputs, unknownInputs },
        custom ? options.replaceOnChanges : [],
      ));
    }
    record.action = action;
    if (keys.length > 0) {
      record.diff = keys;
    }
    if (this.preview && provider) {
      record.scripts = {};
      for (const k of ["create", "update", "delete"]) {
        const t = scriptText(inputs[k], flat.secretInputs.includes(k));
        if (t !== undefined) {
          record.scripts[k] = this.filter.filter(t);
        }
      }
    }
    this.plan.push(record);

    if (action === "replace" && old && options.protect && old.options.protect) {
      // step_generator.go generateStepsFromDiff: a preview reports it and goes on; an update bails.
      const message = replaceProtectedMessage(urn);
      this.diag(message);
      if (!this.preview) {
        throw new StepError(message);
      }
      this.sawError = true;
    }

    const order = this.state.takeOrder();
    const base = {
      urn,
      type,
      name,
      parent,
      custom,
      inputs,
      secretInputs: flat.secretInputs,
      options,
      order,
    };
    const toSdk = (outputs: JsonObject, secretOutputs: string[]): Record<string, unknown> => {
      const out: Record<string, unknown> = { ...raw };
      for (const [k, v] of Object.entries(outputs)) {
        out[k] = secretOutputs.includes(k) ? wrapSecret(v) : v;
      }
      return out;
    };
    const moveFromAlias = (): void => {
      if (aliasOf && !this.preview) {
        this.state.remove(aliasOf);
      }
    };

    if (this.failure && action !== "same") {
      // The engine launches no new steps once one has failed.
      throw new Error(`not updating ${urn}: an earlier step failed`);
    }
    if (this.preview) {
      this.log(
        `plan: ${action} ${type} ${name}${keys.length ? ` [${keys.join(",")}]` : ""}${aliasOf ? ` (alias of ${aliasOf})` : ""}`,
      );
    }
    if (action === "same" && old) {
      moveFromAlias();
      this.state.put({ ...old, urn, name, parent, inputs, options, order });
      return { urn, id: old.id, state: toSdk(old.outputs, old.secretOutputs) };
    }
    if (this.preview) {
      // Outputs the provider would compute are unknown in a preview.
      return { urn, id: old?.id ?? "", state: { ...raw } };
    }

    if (!provider) {
      // Components (and the root stack) have nothing to run.
      moveFromAlias();
      const rec: ResourceState = { ...base, id: old?.id ?? "", outputs: {}, secretOutputs: [] };
      this.state.put(rec);
      return { urn, id: rec.id, state: toSdk({}, []) };
    }
    const timeouts = options.customTimeouts ?? { create: 0, update: 0, delete: 0 };
    if (action === "create" || action === "replace") {
      const replacing = action === "replace" && old !== undefined;
      if (replacing && old && options.deleteBeforeReplace) {
        // Dependents that must be replaced with it are deleted first, dependents first.
        for (const d of dependentReplacements(
          Object.values(this.state.data.resources),
          old,
        ).reverse()) {
          if (d.options.protect) {
            throw new StepError(replaceChainProtectedMessage(d.urn, old.urn));
          }
          await this.deleteResource(d, true, new Set());
          this.state.put({ ...d, pendingReplacement: true });
        }
        if (!old.pendingReplacement) {
          // The old one stays in state, pending replacement, until the create succeeds
          // (pulumi v3.248.0 deploy/step.go (*DeleteStep).Apply sets PendingReplacement).
          await this.deleteResource(old, true, new Set());
          this.state.put({ ...old, pendingReplacement: true });
        }
      }
      const outcome = await this.step("create", base, replacing, timeouts.create, (ctx) =>
        provider.create(inputs, flat.secretInputs, ctx),
      );
      const secretOutputs = this.secretOutputs(options, outcome.outputs);
      const rec: ResourceState = {
        ...base,
        id: crypto.randomBytes(8).toString("hex"),
        outputs: outcome.outputs,
        secretOutputs,
      };
      if (replacing && old && !options.deleteBeforeReplace) {
        // Create-before-delete: the old one is deleted with the other deletes at the end.
        moveFromAlias();
        this.state.data.resources[urn] = rec;
        this.state.addPendingDelete(old);
      } else {
        moveFromAlias();
        this.state.put(rec);
      }
      return { urn, id: rec.id, state: toSdk(rec.outputs, secretOutputs) };
    }
    // update
    const prev = old as ResourceState;
    const outcome = await this.step("update", base, false, timeouts.update, (ctx) =>
      provider.update(prev, inputs, flat.secretInputs, ctx),
    );
    const outputs = outcome.ran ? outcome.outputs : { ...prev.outputs, ...outcome.outputs };
    const secretOutputs = this.secretOutputs(options, outputs);
    const rec: ResourceState = { ...base, id: prev.id, outputs, secretOutputs };
    moveFromAlias();
    this.state.put(rec);
    return { urn, id: rec.id, state: toSdk(outputs, secretOutputs) };
  }

  // ------------------------------------------------------------- runs --

  private planDeletes(items: ResourceState[], deleting: Set<string>): void {
    for (const r of items) {
      const rec: PlanRecord = {
        action: "delete",
        type: r.type,
        name: r.name,
        urn: r.urn,
        custom: r.custom,
      };
      if (r.pendingReplacement) {
        rec.noop = "pendingReplacement";
      } else if (r.options.retainOnDelete) {
        rec.noop = "retainOnDelete";
      } else if (r.options.deletedWith && deleting.has(r.options.deletedWith)) {
        rec.noop = "deletedWith";
      }
      this.plan.push(rec);
      if (this.preview) {
        this.log(`plan: delete ${r.type} ${r.name}${rec.noop ? ` (${rec.noop})` : ""}`);
      }
    }
  }

  /**
   * Deletes antichain by antichain (pulumi v3.248.0 deployment_executor.go
   * performPostSteps with step_generator.go ScheduleDeletes): the deletes of one antichain
   * run at once (step_executor.go ExecuteParallel), and the next antichain starts when they
   * are done. A failed delete cancels the run (step_executor.go cancelDueToError): the
   * deletes already running finish and leave the state, no later antichain starts. A
   * protected resource's refusal is the exception cancelDueToError makes: the run goes on
   * without what that resource depends on (TransitiveDependenciesOf) and fails at the end.
   */
  private async runDeletes(items: ResourceState[]): Promise<void> {
    const pendings = new Set(this.state.data.pendingDeletes);
    const deleting = new Set(items.filter((r) => !pendings.has(r)).map((r) => r.urn));
    const chains = deletionAntichains(items);
    this.planDeletes(chains.flat(), deleting);
    const skipped = new Set<ResourceState>();
    let refused: Error | undefined;
    for (const chain of chains) {
      const running = chain.filter((r) => !skipped.has(r));
      const results = await Promise.allSettled(
        running.map(async (r) => {
          const pending = pendings.has(r);
          await this.deleteResource(r, pending, deleting);
          if (this.preview) {
            return;
          }
          if (pending) {
            this.state.removePendingDelete(r);
          } else {
            this.state.remove(r.urn);
          }
        }),
      );
      let failed: unknown;
      results.forEach((result, i) => {
        if (result.status === "fulfilled") {
          return;
        }
        if (result.reason instanceof ProtectedDeleteError) {
          refused ??= result.reason;
          for (const dep of transitiveDependencies(items, running[i])) {
            skipped.add(dep);
          }
        } else {
          failed ??= result.reason;
        }
      });
      if (failed !== undefined) {
        throw failed;
      }
    }
    if (refused) {
      throw refused;
    }
  }

  private async runOnce(): Promise<void> {
    if (this.opts.operation === "destroy") {
      await this.runDeletes([
        ...Object.values(this.state.data.resources),
        ...this.state.data.pendingDeletes,
      ]);
      return;
    }
    await runProgram({
      project: this.opts.project,
      stack: this.opts.stack,
      preview: this.preview,
      config: this.opts.config,
      programFile: this.opts.programFile,
      register: (req) => this.register(req),
      fail: (e) => this.fail(e),
      failed: () => this.failure !== undefined,
    });
    if (this.failure) {
      // The engine starts no deletes after a failed step (nor after an invalid resource).
      return;
    }
    const gone = Object.values(this.state.data.resources).filter(
      (r) => !this.registered.has(r.urn),
    );
    await this.runDeletes([...gone, ...this.state.data.pendingDeletes]);
  }

  async run(): Promise<Summary> {
    let lock: StackLock | undefined;
    try {
      if (!this.preview) {
        lock = StackLock.acquire(this.opts.statePath);
      }
      await this.runOnce();
    } catch (e) {
      this.fail(e as Error);
    } finally {
      lock?.release();
    }
    if (this.sawError && !this.failure) {
      this.fail(new Error(this.diagnostics.join("\n")));
    }
    const summary: Summary = {
      operation: this.opts.operation,
      ok: !this.failure,
      ran: this.steps.length,
      steps: this.steps,
      plan: this.plan,
      diagnostics: this.diagnostics,
    };
    if (this.failure) {
      summary.error = this.filter.filter(this.failure.message);
    }
    return summary;
  }
}

export async function runOperation(opts: RunOptions): Promise<Summary> {
  const engine = new Engine({ ...opts, programFile: path.resolve(opts.programFile) });
  return engine.run();
}
