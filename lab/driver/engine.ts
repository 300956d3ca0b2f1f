// The engine: runs a Pulumi program under the SDK's mock monitor, decides per
// registered resource what to do against the state file, runs the command
// provider's steps for real, and deletes what the program no longer declares.
import * as crypto from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { deserializeProperties, serializeProperties } from "@pulumi/pulumi/runtime/rpc";
import * as settings from "@pulumi/pulumi/runtime/settings";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { StateStore, deletionOrder } from "./state";
import { configEnv, type ConfigEntry } from "./engine-config";
export { configEnv, type ConfigEntry } from "./engine-config";
import { providerFor, decide, type Outcome, type StepContext } from "./provider";
import { flattenInputs, stringLeaves, wrapSecret, Redactor } from "./values";
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
const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

export interface RunOptions {
  operation: Operation;
  /** Absolute path of the program's entry file (index.ts). */
  programFile: string;
  statePath: string;
  project: string;
  stack: string;
  config: Record<string, ConfigEntry>;
  verbose: boolean;
  /** Where step and plan lines go (defaults to stdout). */
  log?: (line: string) => void;
}

/** The subset of the SDK's MockMonitor the engine replaces or uses. */
interface MockMonitorLike {
  resources: Map<string, { urn: string; id: string | null; state: unknown }>;
  registerResource: (
    req: resproto.RegisterResourceRequest,
    cb: (err: Error | null, res?: resproto.RegisterResourceResponse) => void,
  ) => void;
  readResource: unknown;
}

class StepError extends Error {}

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
    const parentQualified = parentUrn.split("::")[2] ?? "";
    const parentType = parentQualified.split("$").pop() ?? "";
    if (parentType !== ROOT_STACK_TYPE) {
      qualified = `${parentQualified}$${type}`;
    }
  }
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

export class Engine {
  private readonly state: StateStore;
  private readonly redactor = new Redactor();
  private readonly steps: StepRecord[] = [];
  private readonly plan: PlanRecord[] = [];
  private readonly registered = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private failure: Error | undefined;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: RunOptions) {
    this.state = StateStore.load(opts.statePath, opts.project, opts.stack);
    this.state.readOnly = opts.operation === "preview";
    this.log = opts.log ?? ((line) => process.stdout.write(`${line}\n`));
    for (const [, entry] of Object.entries(opts.config)) {
      if (entry.secret) {
        this.redactor.add([entry.value]);
      }
    }
    for (const r of [
      ...Object.values(this.state.data.resources),
      ...this.state.data.pendingDeletes,
    ]) {
      this.addSecretsOf(r);
    }
  }

  private addSecretsOf(r: ResourceState): void {
    for (const k of r.secretInputs) {
      this.redactor.add(stringLeaves(r.inputs[k]));
    }
    for (const k of r.secretOutputs) {
      this.redactor.add(stringLeaves(r.outputs[k]));
    }
  }

  private get preview(): boolean {
    return this.opts.operation === "preview";
  }

  private fail(e: Error): void {
    if (!this.failure) {
      this.failure = e;
    }
  }

  // ------------------------------------------------------------ steps --

  private async step(
    op: "create" | "update" | "delete",
    res: { type: string; name: string; urn: string },
    replacement: boolean,
    fn: (ctx: StepContext) => Promise<Outcome>,
  ): Promise<Outcome> {
    const ctx: StepContext = {
      verbose: this.opts.verbose,
      redactor: this.redactor,
      label: res.name,
    };
    const started = Date.now();
    let outcome: Outcome;
    try {
      outcome = await fn(ctx);
    } catch (e) {
      outcome = { ran: false, outputs: {}, what: "", error: (e as Error).message };
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
      const code = r.code;
      record(code, r.durationMs);
      this.log(
        `${tag} exit=${code === null ? `signal:${r.signal ?? "?"}` : code} ${r.durationMs}ms`,
      );
      if (code !== 0) {
        const detail = this.redactor.redact(r.combined);
        throw new StepError(
          `${op} of ${res.urn} failed: exit status ${code === null ? `signal ${r.signal ?? "?"}` : code}: ${outcome.what}:\n${detail}`,
        );
      }
    } else if (outcome.error) {
      record(null, Date.now() - started);
      this.log(`${tag} exit=none ${Date.now() - started}ms`);
      throw new StepError(`${op} of ${res.urn} failed: ${this.redactor.redact(outcome.error)}`);
    }
    return outcome;
  }

  private secretOutputs(
    secretInputs: string[],
    options: ResourceOptions,
    outputs: JsonObject,
  ): string[] {
    // Assumption: a secret command input (anything but `connection`) makes stdout/stderr secret;
    // additionalSecretOutputs also applies.
    const anySecret = secretInputs.some((k) => k !== "connection");
    return Object.keys(outputs).filter(
      (k) => anySecret || options.additionalSecretOutputs.includes(k),
    );
  }

  private async deleteResource(r: ResourceState, replacement: boolean): Promise<void> {
    const provider = r.custom ? providerFor(r.type) : undefined;
    if (r.custom && !provider) {
      throw new StepError(`delete of ${r.urn}: the lab driver has no provider for ${r.type}`);
    }
    if (provider) {
      await this.step("delete", r, replacement, (ctx) => provider.delete(r, ctx));
    }
  }

  // ----------------------------------------------------- registration --

  private async register(
    req: resproto.RegisterResourceRequest,
  ): Promise<{ urn: string; id: string; state: Record<string, unknown> }> {
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
    const raw = deserializeProperties(req.getObject() as structproto.Struct) as Record<
      string,
      unknown
    >;
    const flat = await flattenInputs(raw);
    this.redactor.add(flat.secretStrings);

    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((v, k) => {
      propertyDependencies[k] = v.getUrnsList();
    });
    const dependencies = req.getDependenciesList();
    const fromProps = new Set(Object.values(propertyDependencies).flat());
    const options: ResourceOptions = {
      dependencies,
      dependsOn: dependencies.filter((d) => !fromProps.has(d)),
      propertyDependencies,
      deleteBeforeReplace: req.getDeletebeforereplace(),
      replaceOnChanges: req.getReplaceonchangesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    };

    const provider = custom ? providerFor(type) : undefined;
    if (custom && !provider) {
      const e = new StepError(`the lab driver has no provider for ${type} (${urn})`);
      this.fail(e);
      throw e;
    }

    const old = this.state.get(urn);
    let action: PlanAction;
    let keys: string[] = [];
    if (!old) {
      action = "create";
    } else {
      ({ action, keys } = decide(old, flat, custom ? options.replaceOnChanges : []));
    }
    this.plan.push({ action, type, name, urn, custom, diff: keys.length > 0 ? keys : undefined });
    const order = this.state.takeOrder();
    const base = {
      urn,
      type,
      name,
      parent,
      custom,
      inputs: flat.inputs,
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

    if (this.failure && action !== "same") {
      // The engine launches no new steps once one has failed.
      throw new Error(`not updating ${urn}: an earlier step failed`);
    }
    if (this.preview) {
      this.log(`plan: ${action} ${type} ${name}${keys.length ? ` [${keys.join(",")}]` : ""}`);
    }
    if (action === "same" && old) {
      this.state.put({ ...old, parent, options, order });
      return { urn, id: old.id, state: toSdk(old.outputs, old.secretOutputs) };
    }
    if (this.preview) {
      // Outputs the provider would compute are unknown in a preview.
      return { urn, id: old?.id ?? "", state: { ...raw } };
    }

    try {
      if (!provider) {
        // Components (and the root stack) have nothing to run.
        const rec: ResourceState = { ...base, id: old?.id ?? "", outputs: {}, secretOutputs: [] };
        this.state.put(rec);
        return { urn, id: rec.id, state: toSdk({}, []) };
      }
      if (action === "create" || action === "replace") {
        const replacing = action === "replace" && old !== undefined;
        if (replacing && old && options.deleteBeforeReplace) {
          await this.deleteResource(old, true);
          this.state.remove(urn);
        }
        const outcome = await this.step("create", base, replacing, (ctx) =>
          provider.create(flat.inputs, flat.secretInputs, ctx),
        );
        const secretOutputs = this.secretOutputs(flat.secretInputs, options, outcome.outputs);
        const rec: ResourceState = {
          ...base,
          id: crypto.randomBytes(8).toString("hex"),
          outputs: outcome.outputs,
          secretOutputs,
        };
        this.addSecretsOf(rec);
        if (replacing && old && !options.deleteBeforeReplace) {
          // Create-before-delete: the old one is deleted with the other deletes at the end.
          this.state.data.resources[urn] = rec;
          this.state.addPendingDelete(old);
        } else {
          this.state.put(rec);
        }
        return { urn, id: rec.id, state: toSdk(rec.outputs, secretOutputs) };
      }
      // update
      const prev = old as ResourceState;
      const outcome = await this.step("update", base, false, (ctx) =>
        provider.update(prev, flat.inputs, flat.secretInputs, ctx),
      );
      const outputs = outcome.ran ? outcome.outputs : { ...prev.outputs, ...outcome.outputs };
      const secretOutputs = this.secretOutputs(flat.secretInputs, options, outputs);
      const rec: ResourceState = { ...base, id: prev.id, outputs, secretOutputs };
      this.addSecretsOf(rec);
      this.state.put(rec);
      return { urn, id: rec.id, state: toSdk(outputs, secretOutputs) };
    } catch (e) {
      this.fail(e as Error);
      throw e;
    }
  }

  private registrations = 0;

  private installMonitor(): void {
    const mon = settings.getMonitor() as unknown as MockMonitorLike;
    mon.registerResource = (req, cb) => {
      this.registrations++;
      const p = this.register(req).then(
        async (res) => {
          const serialized = await serializeProperties("", res.state);
          mon.resources.set(res.urn, { urn: res.urn, id: res.id || null, state: serialized });
          const response = new resproto.RegisterResourceResponse();
          response.setUrn(res.urn);
          response.setId(res.id);
          response.setObject(
            structproto.Struct.fromJavaScript(
              serialized as Record<string, structproto.JavaScriptValue>,
            ),
          );
          cb(null, response);
        },
        (err: Error) => cb(err),
      );
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    };
    mon.readResource = (_req: unknown, cb: (err: Error) => void) => {
      cb(new Error("the lab driver does not support reading existing resources (.get / opts.id)"));
    };
  }

  // ------------------------------------------------------------- runs --

  private async runProgram(): Promise<void> {
    await pulumi.runtime.setMocks(
      {
        newResource: () => {
          throw new Error(
            "unexpected newResource call (registration is handled by the lab driver)",
          );
        },
        call: (args) => {
          throw new Error(`the lab driver does not support invokes (${args.token})`);
        },
      },
      this.opts.project,
      this.opts.stack,
      this.preview,
    );
    const cfg = JSON.parse(configEnv(this.opts.config, this.opts.project).PULUMI_CONFIG) as Record<
      string,
      string
    >;
    const secretKeys = JSON.parse(
      configEnv(this.opts.config, this.opts.project).PULUMI_CONFIG_SECRET_KEYS,
    ) as string[];
    pulumi.runtime.setAllConfig(cfg, secretKeys);
    this.installMonitor();

    // Registrations rejected after a failure surface as unhandled rejections in the SDK;
    // they are recorded, never fatal. (One operation per process, so this stays installed.)
    process.on("unhandledRejection", (reason: unknown) => {
      this.fail(reason instanceof Error ? reason : new Error(String(reason)));
    });
    // The program is done when it has returned and is quiet, or when it can no longer
    // progress. After a failed registration the SDK leaves the failed resource's dependents
    // (and the stack's outputs) pending forever: the language host relies on the engine
    // ending the program there. Here nothing would settle `runInPulumiStack` or
    // `waitForRPCs`, Node would find its event loop empty and exit in the middle of the
    // run (no summary, and the SDK's "N promises were still active" warning). `beforeExit`
    // is exactly that moment: no step runs and nothing can resolve any more.
    let onStall = (): void => {};
    const stalled = new Promise<"stalled">((resolve) => {
      onStall = () => resolve("stalled");
    });
    process.on("beforeExit", onStall);
    try {
      const outcome = await Promise.race([
        this.programAndRPCs().then(() => "done" as const),
        stalled,
      ]);
      if (outcome === "stalled" && !this.failure) {
        this.fail(
          new Error(
            "the program did not finish: it waits for values that can never resolve " +
              "(a dependency cycle, or a promise the program never settles)",
          ),
        );
      }
    } finally {
      process.off("beforeExit", onStall);
    }
  }

  /** Runs the program in the root stack, then waits until no registration is in flight or arriving. */
  private async programAndRPCs(): Promise<void> {
    const programFile = this.opts.programFile;
    try {
      await pulumi.runtime.runInPulumiStack(async () => {
        const mod = (await import(programFile)) as Record<string, unknown>;
        const main = mod["default"];
        if (typeof main === "function") {
          return (await (main as () => unknown)()) as Record<string, unknown>;
        }
        return mod;
      });
    } catch (e) {
      this.fail(e as Error);
    }
    // Wait until the program is quiet: no registration in flight and none arriving
    // (a resource registers only after what it depends on has resolved).
    const waitForRPCs = (settings as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs;
    for (;;) {
      const seen = this.registrations;
      try {
        await waitForRPCs();
      } catch (e) {
        this.fail(e as Error);
      }
      while (this.inflight.size > 0) {
        await Promise.allSettled([...this.inflight]);
      }
      await new Promise((r) => setTimeout(r, 50));
      if (this.inflight.size === 0 && this.registrations === seen) {
        break;
      }
    }
  }

  private planDeletes(items: ResourceState[]): void {
    for (const r of items) {
      this.plan.push({
        action: "delete",
        type: r.type,
        name: r.name,
        urn: r.urn,
        custom: r.custom,
      });
    }
  }

  private async runDeletes(items: ResourceState[]): Promise<void> {
    for (const r of deletionOrder(items)) {
      const pending = this.state.data.pendingDeletes.includes(r);
      await this.deleteResource(r, pending);
      if (pending) {
        this.state.removePendingDelete(r);
      } else {
        this.state.remove(r.urn);
      }
    }
  }

  async run(): Promise<Summary> {
    try {
      if (this.opts.operation === "destroy") {
        const all = [
          ...Object.values(this.state.data.resources),
          ...this.state.data.pendingDeletes,
        ];
        this.planDeletes(deletionOrder(all));
        await this.runDeletes(all);
        this.state.data.resources = {};
        this.state.data.pendingDeletes = [];
        this.state.save();
      } else {
        await this.runProgram();
        const gone = Object.values(this.state.data.resources).filter(
          (r) => !this.registered.has(r.urn),
        );
        const doomed = deletionOrder([...gone, ...this.state.data.pendingDeletes]);
        if (this.preview) {
          this.planDeletes(doomed);
          for (const r of doomed) {
            this.log(`plan: delete ${r.type} ${r.name}`);
          }
        } else if (!this.failure) {
          this.planDeletes(doomed);
          await this.runDeletes(doomed);
        }
      }
    } catch (e) {
      this.fail(e as Error);
    }
    const summary: Summary = {
      operation: this.opts.operation,
      ok: !this.failure,
      ran: this.steps.length,
      steps: this.steps,
      plan: this.plan,
    };
    if (this.failure) {
      summary.error = this.redactor.redact(this.failure.message);
    }
    return summary;
  }
}

export async function runOperation(opts: RunOptions): Promise<Summary> {
  const engine = new Engine({ ...opts, programFile: path.resolve(opts.programFile) });
  return engine.run();
}
