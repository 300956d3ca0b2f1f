// Runs commands: local processes, remote commands over the OpenSSH client, and
// file copies over sftp. No shell is involved on the local side except the
// command's own interpreter.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Json, JsonObject } from "./types";
import type { Redactor } from "./values";

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
  redactor: Redactor;
}

export interface ProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  stream: StreamOptions;
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
    process.stderr.write(
      `  | ${this.opts.label} ${this.tag}: ${this.opts.redactor.redact(line)}\n`,
    );
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
    child.on("close", (code, signal) => {
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

// ---------------------------------------------------------------- SSH ----

export interface Connection {
  host: string;
  port: number;
  user: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  hostKey?: string;
  agentSocketPath?: string;
  dialErrorLimit: number;
  perDialTimeout: number;
  proxy?: Connection;
}

function str(o: JsonObject, k: string): string | undefined {
  const v = o[k];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function num(o: JsonObject, k: string, dflt: number): number {
  const v = o[k];
  return typeof v === "number" ? v : dflt;
}

/** Parses a (flattened) `connection` input; defaults as in the provider's SDK (port 22, user root). */
export function parseConnection(v: Json | undefined, what = "connection"): Connection {
  if (v === null || v === undefined || typeof v !== "object" || Array.isArray(v)) {
    throw new Error(`${what} is missing or not an object`);
  }
  const host = str(v, "host");
  if (!host) {
    throw new Error(`${what}.host is required`);
  }
  const proxyV = v["proxy"];
  return {
    host,
    port: num(v, "port", 22),
    user: str(v, "user") ?? "root",
    password: str(v, "password"),
    privateKey: str(v, "privateKey"),
    privateKeyPassword: str(v, "privateKeyPassword"),
    hostKey: str(v, "hostKey"),
    agentSocketPath: str(v, "agentSocketPath"),
    dialErrorLimit: num(v, "dialErrorLimit", 10),
    perDialTimeout: num(v, "perDialTimeout", 15),
    proxy:
      proxyV && typeof proxyV === "object" ? parseConnection(proxyV, `${what}.proxy`) : undefined,
  };
}

/** Temp files (key, known_hosts, askpass) for one ssh/sftp invocation. */
export class SshTarget {
  private readonly dir: string;
  readonly options: string[];
  readonly env: NodeJS.ProcessEnv;
  readonly conn: Connection;

  constructor(conn: Connection) {
    this.conn = conn;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-driver-ssh-"));
    this.env = { ...process.env };
    delete this.env.SSH_ASKPASS;
    this.options = this.buildOptions(conn, "t", true);
    if (conn.proxy) {
      const p = conn.proxy;
      if (p.password || p.privateKeyPassword) {
        throw new Error(
          "connection.proxy with a password or key passphrase is not supported by the lab driver",
        );
      }
      const popts = this.buildOptions(p, "p", false);
      const quoted = ["ssh", ...popts, "-W", "%h:%p", "--", p.host].map(shQuote).join(" ");
      this.options.push("-o", `ProxyCommand=${quoted}`);
    }
  }

  private write(name: string, content: string, mode = 0o600): string {
    const f = path.join(this.dir, name);
    fs.writeFileSync(f, content, { mode });
    return f;
  }

  private buildOptions(c: Connection, prefix: string, main: boolean): string[] {
    const o: string[] = ["-F", "/dev/null"];
    const opt = (k: string, v: string | number): void => {
      o.push("-o", `${k}=${v}`);
    };
    opt("Port", c.port);
    opt("User", c.user);
    opt("ConnectTimeout", c.perDialTimeout);
    opt("LogLevel", "ERROR");
    opt("ServerAliveInterval", 30);
    if (c.privateKey) {
      const key = c.privateKey.endsWith("\n") ? c.privateKey : `${c.privateKey}\n`;
      opt("IdentityFile", this.write(`${prefix}-key`, key));
      opt("IdentitiesOnly", "yes");
    } else {
      opt("IdentityFile", "none");
    }
    if (c.hostKey) {
      const alias = `lab-driver-${prefix}-host`;
      opt("HostKeyAlias", alias);
      opt(
        "UserKnownHostsFile",
        this.write(`${prefix}-known_hosts`, `${alias} ${c.hostKey.trim()}\n`),
      );
      opt("GlobalKnownHostsFile", "/dev/null");
      opt("StrictHostKeyChecking", "yes");
    } else {
      opt("UserKnownHostsFile", "/dev/null");
      opt("GlobalKnownHostsFile", "/dev/null");
      opt("StrictHostKeyChecking", "no");
    }
    if (main && (c.password || c.privateKeyPassword)) {
      const pw = this.write(`${prefix}-password`, c.password ?? "");
      const pp = this.write(`${prefix}-passphrase`, c.privateKeyPassword ?? "");
      const script = this.write(
        `${prefix}-askpass`,
        `#!/bin/sh\ncase "$1" in\n  *assphrase*) cat ${shQuote(pp)} ;;\n  *) cat ${shQuote(pw)} ;;\nesac\n`,
        0o700,
      );
      this.env.SSH_ASKPASS = script;
      this.env.SSH_ASKPASS_REQUIRE = "force";
      this.env.DISPLAY = this.env.DISPLAY ?? ":0";
      opt("BatchMode", "no");
      opt("NumberOfPasswordPrompts", 1);
      opt(
        "PreferredAuthentications",
        c.privateKey ? "publickey" : c.password ? "password,keyboard-interactive" : "publickey",
      );
    } else {
      opt("BatchMode", "yes");
    }
    if (c.agentSocketPath) {
      this.env.SSH_AUTH_SOCK = c.agentSocketPath;
    }
    return o;
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function shQuote(s: string): string {
  return /^[A-Za-z0-9_\-./:=%@,+]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** True when ssh failed before the session was set up (safe to retry, like the provider's dial retries). */
function isDialFailure(r: ExecResult): boolean {
  return (
    r.code === 255 &&
    /ssh: connect to host|kex_exchange_identification|Connection closed by .* port \d+\s*$/m.test(
      r.stderr,
    )
  );
}

async function withDialRetries(
  conn: Connection,
  attempt: () => Promise<ExecResult>,
): Promise<ExecResult> {
  const limit = Math.max(1, conn.dialErrorLimit);
  let r = await attempt();
  for (let i = 1; i < limit && isDialFailure(r); i++) {
    await new Promise((res) => setTimeout(res, Math.min(1000, 100 * i)));
    const next = await attempt();
    next.durationMs += r.durationMs;
    r = next;
  }
  return r;
}

export interface RemoteRun {
  conn: Connection;
  command: string;
  stdin?: string;
  /** Sent with SetEnv when representable (PULUMI_COMMAND_STDOUT/STDERR). */
  setEnv: Record<string, string>;
  stream: StreamOptions;
}

export async function runRemote(r: RemoteRun): Promise<ExecResult> {
  const t = new SshTarget(r.conn);
  try {
    const opts = [...t.options];
    const pairs = Object.entries(r.setEnv).filter(([, v]) => /^[^"\\\r\n]*$/.test(v));
    if (pairs.length > 0) {
      opts.push("-o", `SetEnv=${pairs.map(([k, v]) => `${k}="${v}"`).join(" ")}`);
    }
    const argv = ["ssh", "-T", ...opts, "--", r.conn.host, r.command];
    return await withDialRetries(r.conn, () =>
      runProcess(argv, { env: t.env, stdin: r.stdin, stream: r.stream }),
    );
  } finally {
    t.dispose();
  }
}

function sftpQuote(p: string): string {
  return `"${p.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

async function sftpBatch(
  t: SshTarget,
  lines: string[],
  stream: StreamOptions,
): Promise<ExecResult> {
  const argv = ["sftp", ...t.options, "-b", "-", "--", t.conn.host];
  return withDialRetries(t.conn, () =>
    runProcess(argv, { env: t.env, stdin: lines.join("\n") + "\n", stream }),
  );
}

function remoteWorkingDir(out: string): string | undefined {
  const m = /Remote working directory: (.*)$/m.exec(out);
  return m ? m[1].trim() : undefined;
}

export type CopySource =
  { kind: "file"; path: string } | { kind: "text"; text: string } | { kind: "dir"; path: string };

/**
 * Copies a file, text or directory to the remote host over SFTP, following the
 * provider's rules: parent directories are created; a file copied onto an
 * existing directory lands inside it; a text asset onto a directory is an error;
 * a directory is copied as dest/<basename> unless its path ends with "/".
 */
export async function copyToRemote(
  conn: Connection,
  source: CopySource,
  remotePath: string,
  stream: StreamOptions,
): Promise<ExecResult> {
  const t = new SshTarget(conn);
  const started = Date.now();
  const fail = (msg: string, prev?: ExecResult): ExecResult => ({
    code: prev?.code ?? 1,
    signal: null,
    stdout: prev?.stdout ?? "",
    stderr: `${prev?.stderr ?? ""}${msg}\n`,
    combined: `${prev?.combined ?? ""}${msg}\n`,
    durationMs: Date.now() - started,
  });
  try {
    let abs = remotePath;
    if (!remotePath.startsWith("/")) {
      const r = await sftpBatch(t, ["pwd"], stream);
      const home = remoteWorkingDir(r.stdout);
      if (r.code !== 0 || !home) {
        return fail(`sftp: cannot determine the remote working directory`, r);
      }
      abs = path.posix.join(home, remotePath);
    }
    abs = path.posix.normalize(abs);
    if (abs.length > 1 && abs.endsWith("/")) {
      abs = abs.slice(0, -1);
    }
    // Create parents, then test whether the target is an existing directory.
    const parents: string[] = [];
    for (let d = path.posix.dirname(abs); d !== "/" && d !== "."; d = path.posix.dirname(d)) {
      parents.unshift(d);
    }
    const probe = await sftpBatch(
      t,
      [...parents.map((d) => `-mkdir ${sftpQuote(d)}`), "cd /", `-cd ${sftpQuote(abs)}`, "pwd"],
      stream,
    );
    const wd = remoteWorkingDir(probe.stdout);
    if (probe.code !== 0 || !wd) {
      return fail(`sftp: cannot prepare ${remotePath}`, probe);
    }
    const isDir = abs === "/" || wd === abs;
    let tmpFile: string | undefined;
    let batch: string[];
    try {
      if (source.kind === "text") {
        if (isDir) {
          return fail(
            `remote path ${remotePath} is a directory; when using a text asset, remotePath must be a file path`,
          );
        }
        tmpFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lab-driver-text-")), "content");
        fs.writeFileSync(tmpFile, source.text, { mode: 0o644 });
        batch = [`put ${sftpQuote(tmpFile)} ${sftpQuote(abs)}`];
      } else if (source.kind === "file") {
        const dest = isDir ? path.posix.join(abs, path.basename(source.path)) : abs;
        batch = [`put ${sftpQuote(source.path)} ${sftpQuote(dest)}`];
      } else {
        const src = source.path;
        const dest = src.endsWith("/") ? abs : path.posix.join(abs, path.basename(src));
        batch = [
          ...(isDir ? [] : [`mkdir ${sftpQuote(abs)}`]),
          `put -R ${sftpQuote(src.replace(/\/+$/, ""))} ${sftpQuote(dest)}`,
        ];
      }
      const r = await sftpBatch(t, batch, stream);
      r.durationMs = Date.now() - started;
      return r;
    } finally {
      if (tmpFile) {
        fs.rmSync(path.dirname(tmpFile), { recursive: true, force: true });
      }
    }
  } finally {
    t.dispose();
  }
}

// -------------------------------------------------------------- local ----

export interface LocalRun {
  command: string;
  interpreter?: string[];
  dir?: string;
  environment: Record<string, string>;
  stdin?: string;
  stream: StreamOptions;
}

export function runLocal(r: LocalRun): Promise<ExecResult> {
  const argv = [
    ...(r.interpreter && r.interpreter.length > 0 ? r.interpreter : ["/bin/sh", "-c"]),
    r.command,
  ];
  return runProcess(argv, {
    cwd: r.dir ?? process.cwd(),
    env: { ...process.env, ...r.environment },
    stdin: r.stdin,
    stream: r.stream,
  });
}
