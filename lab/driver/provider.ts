// The semantics of the @pulumi/command 1.2.1 resources the driver supports:
// diff (same / update / replace), and what create, update and delete run.
import type { EngineFilter, Flattened } from "./values";
import { diffKeys } from "./values";
import { runLocal, type ExecResult, type StreamOptions } from "./executor";
import { parseConnection } from "./ssh";
import { copyToRemote, runRemote, type CopySource, type RemoteResult } from "./remote";
import type { Json, JsonObject, PlanAction, ResourceState } from "./types";

export interface StepContext {
  verbose: boolean;
  filter: EngineFilter;
  label: string;
  /** The provider plugin's environment (the CLI's). */
  baseEnv: NodeJS.ProcessEnv;
  /** customTimeouts of this operation in seconds (0: none). */
  timeoutSec: number;
}

export interface Outcome {
  /** False when the step had nothing to run (e.g. no `delete` command). */
  ran: boolean;
  result?: ExecResult;
  /** Provider outputs to merge over the inputs (stdout/stderr). */
  outputs: JsonObject;
  /** The provider's error, as it returns it to the engine (unfiltered). */
  error?: string;
}

/** Go's %q, close enough for command text. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/**
 * The provider's error for a command that ran and failed: "<exec error>: running %q:\n<output>"
 * (pulumi-command v1.2.1 local/commandOutputs.go run, remote/commandOutputs.go run). Local:
 * os/exec's ExitError ("exit status 3", "signal: killed"); remote: x/crypto's ssh.ExitError
 * ("Process exited with status 3").
 */
function commandError(flavor: "local" | "remote", command: string, r: ExecResult): string {
  const exec =
    flavor === "local"
      ? r.code === null
        ? `signal: ${r.signal === "SIGKILL" ? "killed" : (r.signal ?? "?").replace(/^SIG/, "").toLowerCase()}`
        : `exit status ${r.code}`
      : `Process exited with status ${r.code ?? 0}${r.signal ? ` from signal ${r.signal.replace(/^SIG/, "")}` : ""}`;
  return `${exec}: running ${goQuote(command)}:\n${r.combined}`;
}

function fromRemote(
  rr: RemoteResult,
  command: string,
  flavor: "remote" | "copy",
  outputs: (r: ExecResult) => JsonObject,
): Outcome {
  if ("dialError" in rr) {
    return { ran: false, outputs: {}, error: rr.dialError };
  }
  const r = rr.result;
  const outcome: Outcome = { ran: true, result: r, outputs: outputs(r) };
  if (r.code !== 0) {
    outcome.error =
      flavor === "remote" ? commandError("remote", command, r) : r.combined.trim() || "copy failed";
  }
  return outcome;
}

export interface Provider {
  create(inputs: JsonObject, secretInputs: string[], ctx: StepContext): Promise<Outcome>;
  update(
    old: ResourceState,
    inputs: JsonObject,
    secretInputs: string[],
    ctx: StepContext,
  ): Promise<Outcome>;
  delete(old: ResourceState, ctx: StepContext): Promise<Outcome>;
}

export const COMMAND_TYPES = [
  "command:local:Command",
  "command:remote:Command",
  "command:remote:CopyToRemote",
] as const;

export function providerFor(type: string): Provider | undefined {
  switch (type) {
    case "command:local:Command":
      return new CommandProvider("local");
    case "command:remote:Command":
      return new CommandProvider("remote");
    case "command:remote:CopyToRemote":
      return new CopyProvider();
    default:
      return undefined;
  }
}

/** The engine's diff: triggers (replaceOnChanges) → replace; any other change → update. */
export function decide(
  old: ResourceState,
  news: Flattened,
  replaceOnChanges: string[],
): { action: PlanAction; keys: string[] } {
  const keys = [...new Set([...diffKeys(old.inputs, news.inputs), ...news.unknownInputs])].sort();
  // A resource whose delete-before-replace delete ran but whose create failed is replaced
  // (pulumi v3.248.0 step_generator.go generateStepsFromDiff: old.PendingReplacement).
  if (old.pendingReplacement) {
    return { action: "replace", keys };
  }
  if (keys.length === 0) {
    return { action: "same", keys };
  }
  const roots = new Set(replaceOnChanges.map((p) => p.split(/[.[]/)[0]));
  if (roots.has("*") || keys.some((k) => roots.has(k))) {
    return { action: "replace", keys };
  }
  return { action: "update", keys };
}

function optString(o: JsonObject, k: string): string | undefined {
  const v = o[k];
  return typeof v === "string" ? v : undefined;
}

function stringMap(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x !== null && x !== undefined) {
        out[k] = String(x);
      }
    }
  }
  return out;
}

function streamOptions(inputs: JsonObject, ctx: StepContext): StreamOptions {
  const logging = optString(inputs, "logging") ?? "stdoutAndStderr";
  return {
    verbose: ctx.verbose,
    logStdout: logging === "stdout" || logging === "stdoutAndStderr",
    logStderr: logging === "stderr" || logging === "stdoutAndStderr",
    label: ctx.label,
    filter: ctx.filter,
  };
}

function deadline(ctx: StepContext): number | undefined {
  return ctx.timeoutSec > 0 ? Date.now() + ctx.timeoutSec * 1000 : undefined;
}

/** The provider trims exactly one trailing "\n" (strings.TrimSuffix). */
function trimNewline(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

class CommandProvider implements Provider {
  constructor(private readonly flavor: "local" | "remote") {}

  private async run(
    command: string,
    inputs: JsonObject,
    previous: JsonObject | undefined,
    ctx: StepContext,
  ): Promise<Outcome> {
    const prevEnv: Record<string, string> = {};
    if (previous && inputs["addPreviousOutputInEnv"] !== false) {
      const so = optString(previous, "stdout");
      const se = optString(previous, "stderr");
      if (so) {
        prevEnv.PULUMI_COMMAND_STDOUT = so;
      }
      if (se) {
        prevEnv.PULUMI_COMMAND_STDERR = se;
      }
    }
    const environment = stringMap(inputs["environment"]);
    const stdin = optString(inputs, "stdin");
    const stream = streamOptions(inputs, ctx);
    const outputs = (r: ExecResult): JsonObject => ({
      stdout: trimNewline(r.stdout),
      stderr: trimNewline(r.stderr),
    });
    if (this.flavor === "local") {
      if (inputs["assetPaths"] != null || inputs["archivePaths"] != null) {
        return {
          ran: false,
          outputs: {},
          error: "assetPaths/archivePaths are not supported by the lab driver",
        };
      }
      const interp = inputs["interpreter"];
      const result = await runLocal({
        command,
        interpreter: Array.isArray(interp) ? interp.map((x) => String(x)) : undefined,
        dir: optString(inputs, "dir"),
        baseEnv: ctx.baseEnv,
        environment: { ...environment, ...prevEnv },
        stdin,
        stream,
        timeoutSec: ctx.timeoutSec,
      });
      const outcome: Outcome = { ran: true, result, outputs: outputs(result) };
      if (result.code !== 0) {
        outcome.error = commandError("local", command, result);
      }
      return outcome;
    }
    const keys = Object.keys(environment);
    if (keys.length > 0) {
      // The provider fails when the server rejects SetEnv; sshd does unless AcceptEnv allows it,
      // and the OpenSSH client cannot tell us, so refuse up front.
      return {
        ran: false,
        outputs: {},
        error:
          `could not set environment variable ${JSON.stringify(keys[0])}: remote \`environment\` needs the ` +
          `SSH server to accept it via AcceptEnv; the lab driver refuses it (prefix the command with VAR=value instead)`,
      };
    }
    const conn = parseConnection(inputs["connection"]);
    const rr = await runRemote(
      { conn, command, stdin, setEnv: prevEnv, stream },
      { stream, baseEnv: ctx.baseEnv, deadline: deadline(ctx) },
    );
    return fromRemote(rr, command, "remote", outputs);
  }

  async create(inputs: JsonObject, _secretInputs: string[], ctx: StepContext): Promise<Outcome> {
    const cmd = optString(inputs, "create");
    if (cmd === undefined) {
      return { ran: false, outputs: { stdout: "", stderr: "" } };
    }
    return this.run(cmd, inputs, undefined, ctx);
  }

  async update(
    old: ResourceState,
    inputs: JsonObject,
    _secretInputs: string[],
    ctx: StepContext,
  ): Promise<Outcome> {
    const upd = optString(inputs, "update");
    const cmd = upd ?? optString(inputs, "create");
    if (cmd === undefined) {
      return { ran: false, outputs: { ...old.outputs } };
    }
    return this.run(cmd, inputs, old.outputs, ctx);
  }

  async delete(old: ResourceState, ctx: StepContext): Promise<Outcome> {
    const cmd = optString(old.inputs, "delete");
    if (cmd === undefined) {
      return { ran: false, outputs: {} };
    }
    return this.run(cmd, old.inputs, old.outputs, ctx);
  }
}

function copySource(v: Json | undefined): { source: CopySource; hash: string } {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const a = v["$asset"];
    const r = v["$archive"];
    const desc = (a ?? r) as JsonObject | undefined;
    if (desc && typeof desc === "object") {
      const hash = typeof desc["hash"] === "string" ? desc["hash"] : "";
      if (a && typeof desc["path"] === "string") {
        return { source: { kind: "file", path: desc["path"] }, hash };
      }
      if (a && typeof desc["text"] === "string") {
        return { source: { kind: "text", text: desc["text"] }, hash };
      }
      if (r && typeof desc["path"] === "string") {
        return { source: { kind: "dir", path: desc["path"] }, hash };
      }
    }
  }
  // Check has already refused any other source.
  return { source: { kind: "text", text: "" }, hash: "" };
}

class CopyProvider implements Provider {
  private async copy(inputs: JsonObject, ctx: StepContext): Promise<Outcome> {
    const remotePath = optString(inputs, "remotePath") ?? "";
    const source = copySource(inputs["source"]).source;
    const conn = parseConnection(inputs["connection"]);
    const stream = streamOptions(inputs, ctx);
    const rr = await copyToRemote(conn, source, remotePath, stream, {
      stream,
      baseEnv: ctx.baseEnv,
      deadline: deadline(ctx),
    });
    return fromRemote(rr, "", "copy", () => ({}));
  }

  create(inputs: JsonObject, _secretInputs: string[], ctx: StepContext): Promise<Outcome> {
    return this.copy(inputs, ctx);
  }

  /**
   * pulumi-command v1.2.1 provider/pkg/provider/remote/copyController.go (*CopyToRemote).Update:
   * copies again only when the asset hash or remotePath changed.
   */
  async update(
    old: ResourceState,
    inputs: JsonObject,
    _secretInputs: string[],
    ctx: StepContext,
  ): Promise<Outcome> {
    const oldHash = copySource(old.inputs["source"]).hash;
    const newHash = copySource(inputs["source"]).hash;
    if (
      newHash !== oldHash ||
      optString(inputs, "remotePath") !== optString(old.inputs, "remotePath")
    ) {
      return this.copy(inputs, ctx);
    }
    return { ran: false, outputs: {} };
  }

  /** CopyToRemote has no Delete. */
  async delete(): Promise<Outcome> {
    return { ran: false, outputs: {} };
  }
}
