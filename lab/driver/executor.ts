// Runs processes: local commands as the provider runs them (remote ones are in ssh.ts).
// No shell is involved except the command's own interpreter.
import { spawn } from "node:child_process";
import type { EngineFilter } from "./values";

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  combined: string;
  durationMs: number;
}

export interface StreamOptions {
  verbose: boolean;
  logStdout: boolean;
  logStderr: boolean;
  label: string;
  filter: EngineFilter;
}

export interface ProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  stream: StreamOptions;
  /** Kill the process (SIGKILL) after this many milliseconds, as exec.CommandContext does. */
  killAfterMs?: number;
}

class LineStreamer {
  private buf = "";
  constructor(
    private readonly opts: StreamOptions,
    private readonly tag: string,
  ) {}
  push(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf("\n")) >= 0) {
      this.emit(this.buf.slice(0, i));
      this.buf = this.buf.slice(i + 1);
    }
  }
  flush(): void {
    if (this.buf.length > 0) {
      this.emit(this.buf);
      this.buf = "";
    }
  }
  private emit(line: string): void {
    process.stderr.write(`  | ${this.opts.label} ${this.tag}: ${this.opts.filter.filter(line)}\n`);
  }
}

export function runProcess(argv: string[], opts: ProcessOptions): Promise<ExecResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let combined = "";
    const outStream =
      opts.stream.verbose && opts.stream.logStdout
        ? new LineStreamer(opts.stream, "out")
        : undefined;
    const errStream =
      opts.stream.verbose && opts.stream.logStderr
        ? new LineStreamer(opts.stream, "err")
        : undefined;
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      stdout += d;
      combined += d;
      outStream?.push(d);
    });
    child.stderr.on("data", (d: string) => {
      stderr += d;
      combined += d;
      errStream?.push(d);
    });
    child.stdin.on("error", () => {
      /* the command may exit without reading its stdin */
    });
    if (opts.stdin !== undefined && opts.stdin.length > 0) {
      child.stdin.end(opts.stdin);
    } else {
      child.stdin.end();
    }
    let spawnError: Error | undefined;
    child.on("error", (e) => {
      spawnError = e;
    });
    const killer =
      opts.killAfterMs !== undefined && opts.killAfterMs > 0
        ? setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs)
        : undefined;
    child.on("close", (code, signal) => {
      if (killer) {
        clearTimeout(killer);
      }
      outStream?.flush();
      errStream?.flush();
      if (spawnError) {
        stderr += `${spawnError.message}\n`;
        combined += `${spawnError.message}\n`;
      }
      resolve({
        code: spawnError ? 127 : code,
        signal: signal ?? null,
        stdout,
        stderr,
        combined,
        durationMs: Date.now() - started,
      });
    });
  });
}

// -------------------------------------------------------------- local ----

export interface LocalRun {
  command: string;
  interpreter?: string[];
  dir?: string;
  /** The provider plugin's own environment (the CLI's; see README "Environment"). */
  baseEnv: NodeJS.ProcessEnv;
  environment: Record<string, string>;
  stdin?: string;
  stream: StreamOptions;
  /** customTimeouts for this operation, in seconds (0: none). */
  timeoutSec: number;
}

/**
 * A local command as pulumi-command v1.2.1 runs it (provider/pkg/provider/local/commandOutputs.go
 * run): exec.CommandContext(ctx, interpreter..., command) in `dir` (else the plugin's working
 * directory), env = os.Environ() of the plugin + `environment` + previous outputs. The context
 * carries the resource's customTimeouts (pulumi-go-provider v1.3.0 middleware/cancel Wrap), so a
 * timeout kills the process.
 */
export function runLocal(r: LocalRun): Promise<ExecResult> {
  const argv = [
    ...(r.interpreter && r.interpreter.length > 0 ? r.interpreter : ["/bin/sh", "-c"]),
    r.command,
  ];
  return runProcess(argv, {
    cwd: r.dir ?? process.cwd(),
    env: { ...r.baseEnv, ...r.environment },
    stdin: r.stdin,
    stream: r.stream,
    killAfterMs: r.timeoutSec > 0 ? r.timeoutSec * 1000 : undefined,
  });
}
