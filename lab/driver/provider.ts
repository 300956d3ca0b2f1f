// The semantics of the @pulumi/command 1.2.x resources the driver supports:
// diff (same / update / replace), and what create, update and delete run.
import type { Flattened, Redactor } from "./values";
import { diffKeys } from "./values";
import {
  copyToRemote,
  parseConnection,
  runLocal,
  runRemote,
  type CopySource,
  type ExecResult,
  type StreamOptions,
} from "./executor";
import type { Json, JsonObject, PlanAction, ResourceState } from "./types";

export interface StepContext {
  verbose: boolean;
  redactor: Redactor;
  label: string;
}

export interface Outcome {
  /** False when the step had nothing to run (e.g. no `delete` command). */
  ran: boolean;
  result?: ExecResult;
  /** Provider outputs to merge over the inputs (stdout/stderr). */
  outputs: JsonObject;
  /** Short description of what ran, used in error messages (already redacted). */
  what: string;
  /** Set when the step failed without a process exit status (e.g. bad input). */
  error?: string;
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
    redactor: ctx.redactor,
  };
}

/** The provider trims exactly one trailing "\n" (strings.TrimSuffix). */
function trimNewline(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

class CommandProvider implements Provider {
  constructor(private readonly flavor: "local" | "remote") {}

  private async run(
    which: "create" | "update" | "delete",
    command: string,
    inputs: JsonObject,
    secretInputs: string[],
    previous: JsonObject | undefined,
    ctx: StepContext,
  ): Promise<Outcome> {
    const what =
      secretInputs.includes(which) || (which === "update" && secretInputs.includes("create"))
        ? "running [secret]"
        : `running ${JSON.stringify(ctx.redactor.redact(command))}`;
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
    let result: ExecResult;
    if (this.flavor === "local") {
      if (inputs["assetPaths"] != null || inputs["archivePaths"] != null) {
        return {
          ran: false,
          outputs: {},
          what,
          error: "assetPaths/archivePaths are not supported by the lab driver",
        };
      }
      const interp = inputs["interpreter"];
      result = await runLocal({
        command,
        interpreter: Array.isArray(interp) ? interp.map((x) => String(x)) : undefined,
        dir: optString(inputs, "dir"),
        environment: { ...environment, ...prevEnv },
        stdin,
        stream,
      });
    } else {
      const keys = Object.keys(environment);
      if (keys.length > 0) {
        // The provider fails when the server rejects SetEnv; sshd does unless AcceptEnv allows it,
        // and the OpenSSH client cannot tell us, so refuse up front.
        return {
          ran: false,
          outputs: {},
          what,
          error:
            `could not set environment variable ${JSON.stringify(keys[0])}: remote \`environment\` needs the ` +
            `SSH server to accept it via AcceptEnv; the lab driver refuses it (prefix the command with VAR=value instead)`,
        };
      }
      const conn = parseConnection(inputs["connection"]);
      // Previous outputs are sent optimistically (the provider only warns when the server refuses);
      // secret outputs are never put on a command line.
      const setEnv =
        previous && secretInputs.length === secretInputs.filter((k) => k === "connection").length
          ? prevEnv
          : {};
      result = await runRemote({ conn, command, stdin, setEnv, stream });
    }
    return {
      ran: true,
      result,
      what,
      outputs: { stdout: trimNewline(result.stdout), stderr: trimNewline(result.stderr) },
    };
  }

  async create(inputs: JsonObject, secretInputs: string[], ctx: StepContext): Promise<Outcome> {
    const cmd = optString(inputs, "create");
    if (cmd === undefined) {
      return { ran: false, outputs: { stdout: "", stderr: "" }, what: "" };
    }
    return this.run("create", cmd, inputs, secretInputs, undefined, ctx);
  }

  async update(
    old: ResourceState,
    inputs: JsonObject,
    secretInputs: string[],
    ctx: StepContext,
  ): Promise<Outcome> {
    const upd = optString(inputs, "update");
    const cmd = upd ?? optString(inputs, "create");
    if (cmd === undefined) {
      return { ran: false, outputs: { ...old.outputs }, what: "" };
    }
    return this.run(
      upd !== undefined ? "update" : "create",
      cmd,
      inputs,
      secretInputs,
      old.outputs,
      ctx,
    );
  }

  async delete(old: ResourceState, ctx: StepContext): Promise<Outcome> {
    const cmd = optString(old.inputs, "delete");
    if (cmd === undefined) {
      return { ran: false, outputs: {}, what: "" };
    }
    return this.run("delete", cmd, old.inputs, old.secretInputs, old.outputs, ctx);
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
  throw new Error("source must be a FileAsset, a StringAsset or a path-based FileArchive");
}

class CopyProvider implements Provider {
  private async copy(inputs: JsonObject, ctx: StepContext): Promise<Outcome> {
    const remotePath = optString(inputs, "remotePath");
    if (!remotePath) {
      return { ran: false, outputs: {}, what: "copy", error: "remotePath is required" };
    }
    let source: CopySource;
    try {
      source = copySource(inputs["source"]).source;
    } catch (e) {
      return { ran: false, outputs: {}, what: "copy", error: (e as Error).message };
    }
    const conn = parseConnection(inputs["connection"]);
    const what = `copying to ${remotePath}`;
    const result = await copyToRemote(conn, source, remotePath, streamOptions(inputs, ctx));
    return { ran: true, result, outputs: {}, what };
  }

  create(inputs: JsonObject, _secretInputs: string[], ctx: StepContext): Promise<Outcome> {
    return this.copy(inputs, ctx);
  }

  async update(
    old: ResourceState,
    inputs: JsonObject,
    _secretInputs: string[],
    ctx: StepContext,
  ): Promise<Outcome> {
    let oldHash = "";
    try {
      oldHash = copySource(old.inputs["source"]).hash;
    } catch {
      oldHash = "";
    }
    let newHash: string;
    try {
      newHash = copySource(inputs["source"]).hash;
    } catch (e) {
      return { ran: false, outputs: {}, what: "copy", error: (e as Error).message };
    }
    if (
      newHash !== oldHash ||
      optString(inputs, "remotePath") !== optString(old.inputs, "remotePath")
    ) {
      return this.copy(inputs, ctx);
    }
    return { ran: false, outputs: {}, what: "" };
  }

  async delete(): Promise<Outcome> {
    return { ran: false, outputs: {}, what: "" };
  }
}
