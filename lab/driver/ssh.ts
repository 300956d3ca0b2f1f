// Remote commands and copies over the OpenSSH client, shaped like pulumi-command v1.2.1's
// golang.org/x/crypto/ssh client: one dial per step (retried as the provider retries it), then
// the session (or SFTP) over that one connection. The dial is an OpenSSH ControlMaster
// (`ssh -f -N`, which returns once the host key is verified and the user authenticated);
// commands and sftp then run through its socket and never dial again.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runProcess, type ExecResult, type StreamOptions } from "./executor";
import type { Json, JsonObject } from "./types";
import { EngineFilter } from "./values";

const QUIET: StreamOptions = {
  verbose: false,
  logStdout: false,
  logStderr: false,
  label: "",
  filter: new EngineFilter([]),
};

export interface Connection {
  host: string;
  port: number;
  user: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  hostKey?: string;
  agentSocketPath?: string;
  /** Dial errors allowed before giving up; -1 unlimited (default 10). */
  dialErrorLimit: number;
  /** Seconds for the TCP connect of each dial; 0 no maximum (default 15). */
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

/**
 * Parses a (flattened) `connection` input with the provider's defaults
 * (pulumi-command v1.2.1 provider/pkg/provider/remote/connection.go (*Connection).Annotate:
 * user root, port 22, dialErrorLimit 10, perDialTimeout 15).
 */
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

/**
 * The host-key algorithms x/crypto offers: with a pinned hostKey only that key's type
 * (ssh.ParseAuthorizedKey(...).Type(), e.g. "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"),
 * else x/crypto's defaults (pulumi-command v1.2.1 provider/pkg/provider/remote/connection.go
 * (*connectionBase).SSHConfig; golang.org/x/crypto v0.48.0 ssh/handshake.go newClientTransport
 * sends exactly config.HostKeyAlgorithms). Undefined: leave OpenSSH's own list.
 */
export function hostKeyAlgorithms(hostKey: string | undefined): string | undefined {
  if (!hostKey) {
    return undefined;
  }
  // An authorized_keys line: [options] type base64 [comment]; the type is the field before the key.
  const fields = hostKey.trim().split(/\s+/);
  const i = fields.findIndex((f) => /^(ssh-|ecdsa-|sk-)/.test(f));
  if (i < 0) {
    throw new Error("failed to parse host key: ssh: no key found");
  }
  return fields[i];
}

export function shQuote(s: string): string {
  return /^[A-Za-z0-9_\-./:=%@,+]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Options and temp files (key, known_hosts, askpass) for one OpenSSH client. */
export class SshOptions {
  readonly options: string[];
  readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly dir: string,
    conn: Connection,
    baseEnv: NodeJS.ProcessEnv,
  ) {
    this.env = { ...baseEnv };
    delete this.env.SSH_ASKPASS;
    this.options = this.build(conn, "t", true);
    if (conn.proxy) {
      const p = conn.proxy;
      if (p.password || p.privateKeyPassword) {
        throw new Error(
          "connection.proxy with a password or key passphrase is not supported by the lab driver",
        );
      }
      const popts = this.build(p, "p", false);
      const quoted = ["ssh", ...popts, "-W", "%h:%p", "--", p.host].map(shQuote).join(" ");
      this.options.push("-o", `ProxyCommand=${quoted}`);
    }
  }

  private write(name: string, content: string, mode = 0o600): string {
    const f = path.join(this.dir, name);
    fs.writeFileSync(f, content, { mode });
    return f;
  }

  private build(c: Connection, prefix: string, main: boolean): string[] {
    const o: string[] = ["-F", "/dev/null"];
    const opt = (k: string, v: string | number): void => {
      o.push("-o", `${k}=${v}`);
    };
    opt("Port", c.port);
    opt("User", c.user);
    // x/crypto ClientConfig.Timeout bounds the TCP connect (net.DialTimeout); 0 means none.
    // OpenSSH's ConnectTimeout also bounds the wait for the server's banner, where x/crypto
    // waits without limit (a server that accepts and stays silent hangs the provider's dial).
    if (c.perDialTimeout > 0) {
      opt("ConnectTimeout", c.perDialTimeout);
    }
    opt("LogLevel", "ERROR");
    opt("ServerAliveInterval", 30);
    if (c.privateKey) {
      const key = c.privateKey.endsWith("\n") ? c.privateKey : `${c.privateKey}\n`;
      opt("IdentityFile", this.write(`${prefix}-key`, key));
      opt("IdentitiesOnly", "yes");
    } else {
      opt("IdentityFile", "none");
    }
    const algs = hostKeyAlgorithms(c.hostKey);
    if (c.hostKey && algs) {
      const alias = `lab-driver-${prefix}-host`;
      opt("HostKeyAlias", alias);
      opt(
        "UserKnownHostsFile",
        this.write(`${prefix}-known_hosts`, `${alias} ${c.hostKey.trim()}\n`),
      );
      opt("GlobalKnownHostsFile", "/dev/null");
      opt("StrictHostKeyChecking", "yes");
      opt("HostKeyAlgorithms", algs);
    } else {
      // ssh.InsecureIgnoreHostKey()
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
}

/**
 * The provider's retry schedule (pulumi v3.224.0 sdk/go/common/util/retry/until.go Until:
 * first delay 100 ms, ×1.5 after each wait, capped at 5 s) and stop rule (pulumi-command
 * v1.2.1 provider/pkg/provider/remote/connection.go dialWithRetry / reachedDialingErrorLimit:
 * give up when dials > dialErrorLimit, unless it is -1). The wait after failed dial number `attempt` (0-based).
 */
export function dialDelayMs(attempt: number): number {
  return Math.min(100 * 1.5 ** attempt, 5000);
}

/** The waits between the dials of a failing connection (at most `max` of them). */
export function dialDelaysMs(dialErrorLimit: number, max = 64): number[] {
  const n = dialErrorLimit === -1 ? max : Math.min(dialErrorLimit, max);
  return Array.from({ length: n }, (_, i) => dialDelayMs(i));
}

/** The lines OpenSSH logged for a failed dial (its -E file), as one error text. */
function dialErrorText(log: string, code: number | null): string {
  const lines = log
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^@+$/.test(l));
  return lines.length > 0 ? lines.join("\n") : `ssh exited with status ${String(code)}`;
}

export interface DialOptions {
  stream: StreamOptions;
  baseEnv: NodeJS.ProcessEnv;
  /** Epoch ms when the step's customTimeouts expires (the provider's ctx deadline), if any. */
  deadline?: number;
}

/** One dialled connection: commands and sftp run over its ControlMaster socket. */
export class SshConnection {
  private constructor(
    private readonly dir: string,
    private readonly opts: SshOptions,
    private readonly sock: string,
    readonly conn: Connection,
    readonly dialMs: number,
  ) {}

  /** Options for a client that must use the master and never dial by itself. */
  private muxOptions(): string[] {
    // First, as ssh keeps the first value of an option (a jump host's ProxyCommand follows).
    return [
      "-o",
      `ControlPath=${this.sock}`,
      "-o",
      "ControlMaster=no",
      "-o",
      "ProxyCommand=false",
      ...this.opts.options,
    ];
  }

  /**
   * Dials with the provider's retries (pulumi-command v1.2.1 provider/pkg/provider/remote/
   * connection.go (*Connection).Dial → dialWithRetry): every dial error is retried — refused
   * or timed-out connections, host-key mismatch, failed authentication alike — until
   * dials > dialErrorLimit, then fails with "after N failed attempts: <error>". When the step's
   * customTimeouts deadline passes while waiting, the error is the context's
   * ("context deadline exceeded"); a dial already under way is not interrupted.
   */
  static async dial(conn: Connection, o: DialOptions): Promise<SshConnection> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-driver-ssh-"));
    const started = Date.now();
    try {
      const opts = new SshOptions(dir, conn, o.baseEnv);
      const sock = path.join(dir, "mux");
      const limit = conn.dialErrorLimit === -1 ? "inf" : String(conn.dialErrorLimit);
      for (let attempt = 0; ; attempt++) {
        const log = path.join(dir, `dial-${attempt}.log`);
        const argv = [
          "ssh",
          // INFO, first (ssh keeps the first value): "Unable to negotiate …" is logged at INFO.
          "-o",
          "LogLevel=INFO",
          ...opts.options,
          "-o",
          "ControlMaster=yes",
          "-o",
          `ControlPath=${sock}`,
          "-o",
          "ControlPersist=300",
          "-E",
          log,
          "-f",
          "-N",
          "--",
          conn.host,
        ];
        const r = await runProcess(argv, {
          env: opts.env,
          stream: QUIET,
          stdin: "",
        });
        if (r.code === 0 && fs.existsSync(sock)) {
          return new SshConnection(dir, opts, sock, conn, Date.now() - started);
        }
        const text = dialErrorText(
          fs.existsSync(log) ? fs.readFileSync(log, "utf8") + r.stderr : r.stderr,
          r.code,
        );
        const dials = attempt + 1;
        if (conn.dialErrorLimit !== -1 && dials > conn.dialErrorLimit) {
          throw new Error(`after ${attempt} failed attempts: ${text}`);
        }
        if (o.stream.verbose) {
          process.stderr.write(`  | ${o.stream.label}: Dial ${dials}/${limit} failed: retrying\n`);
        }
        const wait = dialDelayMs(attempt);
        if (o.deadline !== undefined && Date.now() + wait >= o.deadline) {
          await new Promise((res) => setTimeout(res, Math.max(0, o.deadline! - Date.now())));
          throw new Error("context deadline exceeded");
        }
        await new Promise((res) => setTimeout(res, wait));
      }
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** session.Run(command) over the dialled connection. */
  run(
    command: string,
    stdin: string | undefined,
    setEnv: Record<string, string>,
    stream: StreamOptions,
  ): Promise<ExecResult> {
    const opts = this.muxOptions();
    const pairs = Object.entries(setEnv).filter(([, v]) => /^[^"\\\r\n]*$/.test(v));
    if (pairs.length > 0) {
      opts.push("-o", `SetEnv=${pairs.map(([k, v]) => `${k}="${v}"`).join(" ")}`);
    }
    return runProcess(["ssh", "-T", ...opts, "--", this.conn.host, command], {
      env: this.opts.env,
      stdin,
      stream,
    });
  }

  /** One sftp batch over the dialled connection. */
  sftp(lines: string[], stream: StreamOptions): Promise<ExecResult> {
    return runProcess(["sftp", ...this.muxOptions(), "-b", "-", "--", this.conn.host], {
      env: this.opts.env,
      stdin: lines.join("\n") + "\n",
      stream,
    });
  }

  async close(): Promise<void> {
    await runProcess(
      [
        "ssh",
        ...this.opts.options,
        "-o",
        `ControlPath=${this.sock}`,
        "-O",
        "exit",
        "--",
        this.conn.host,
      ],
      { env: this.opts.env, stream: QUIET },
    );
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
