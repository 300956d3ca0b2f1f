// What a remote.Command and a CopyToRemote step run, over one dialled connection (ssh.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ExecResult, StreamOptions } from "./executor";
import { SshConnection, type Connection, type DialOptions } from "./ssh";

/** A remote step's result, or the dial error that kept it from running. */
export type RemoteResult = { result: ExecResult } | { dialError: string; durationMs: number };

async function withConnection(
  conn: Connection,
  o: DialOptions,
  fn: (c: SshConnection) => Promise<ExecResult>,
): Promise<RemoteResult> {
  const started = Date.now();
  let c: SshConnection;
  try {
    c = await SshConnection.dial(conn, o);
  } catch (e) {
    return { dialError: (e as Error).message, durationMs: Date.now() - started };
  }
  try {
    const result = await fn(c);
    result.durationMs = Date.now() - started;
    return { result };
  } finally {
    await c.close();
  }
}

export interface RemoteRun {
  conn: Connection;
  command: string;
  stdin?: string;
  /** Sent with SetEnv when representable (PULUMI_COMMAND_STDOUT/STDERR). */
  setEnv: Record<string, string>;
  stream: StreamOptions;
}

/**
 * pulumi-command v1.2.1 provider/pkg/provider/remote/commandOutputs.go (*CommandOutputs).run:
 * Dial (with retries, bounded by customTimeouts), NewSession, Run. The running command itself
 * is not bound by customTimeouts (session.Run takes no context): wrap long scripts in `timeout`.
 */
export function runRemote(r: RemoteRun, o: DialOptions): Promise<RemoteResult> {
  return withConnection(r.conn, o, (c) => c.run(r.command, r.stdin, r.setEnv, r.stream));
}

function sftpQuote(p: string): string {
  return `"${p.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function remoteWorkingDir(out: string): string | undefined {
  const m = /Remote working directory: (.*)$/m.exec(out);
  return m ? m[1].trim() : undefined;
}

export type CopySource =
  { kind: "file"; path: string } | { kind: "text"; text: string } | { kind: "dir"; path: string };

/**
 * Copies a file, text or directory to the remote host over SFTP, following the provider's rules
 * (pulumi-command v1.2.1 provider/pkg/provider/remote/copyController.go copyToRemote, sftpCopy,
 * copyTextContent): parent directories are created; a file copied onto an existing directory
 * lands inside it; a text asset onto a directory is an error; a directory is copied as
 * dest/<basename> unless its path ends with "/". One dial, like the provider's.
 */
export function copyToRemote(
  conn: Connection,
  source: CopySource,
  remotePath: string,
  stream: StreamOptions,
  o: DialOptions,
): Promise<RemoteResult> {
  return withConnection(conn, o, async (c) => {
    const fail = (msg: string, prev?: ExecResult): ExecResult => ({
      code: prev?.code ?? 1,
      signal: null,
      stdout: prev?.stdout ?? "",
      stderr: `${prev?.stderr ?? ""}${msg}\n`,
      combined: `${prev?.combined ?? ""}${msg}\n`,
      durationMs: 0,
    });
    let abs = remotePath;
    if (!remotePath.startsWith("/")) {
      const r = await c.sftp(["pwd"], stream);
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
    const probe = await c.sftp(
      [...parents.map((d) => `-mkdir ${sftpQuote(d)}`), "cd /", `-cd ${sftpQuote(abs)}`, "pwd"],
      stream,
    );
    const wd = remoteWorkingDir(probe.stdout);
    if (probe.code !== 0 || !wd) {
      return fail(`sftp: cannot prepare ${remotePath}`, probe);
    }
    const isDir = abs === "/" || wd === abs;
    let tmpDir: string | undefined;
    let batch: string[];
    try {
      if (source.kind === "text") {
        if (isDir) {
          return fail(
            `remote path ${remotePath} is a directory; when using a text asset, remotePath must be a file path`,
          );
        }
        tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-driver-text-"));
        const tmpFile = path.join(tmpDir, "content");
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
      return await c.sftp(batch, stream);
    } finally {
      if (tmpDir) {
        fs.rmSync(tmpDir, { recursive: true, force: true });
      }
    }
  });
}
