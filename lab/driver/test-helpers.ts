// Helpers for the driver's tests: run the CLI (one process per operation) and read its summary.
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import type { StateFile, Summary } from "./types";

const CLI = path.join(__dirname, "cli.ts");
const REPO = path.join(__dirname, "..", "..");

/**
 * The secret the fixture programs read from stack config; no output may show it. It is
 * given as secure config because that is what the engine masks (pulumi v3.248.0,
 * pkg/engine/events.go makeEventEmitter; lab/driver/values.ts follows it). This helper
 * changes no behaviour of the driver: it only gathers the tests' fixture config.
 */
export const TOKEN = "tok-3f9a-very-secret";

/**
 * Stack config for the fixture programs (project `labtest`): their working folder, the
 * secret {@link TOKEN}, and any plain keys in `over`.
 */
export function fixtureConfig(
  dir: string,
  over: Record<string, string> = {},
): Record<string, unknown> {
  const c: Record<string, unknown> = {
    "labtest:dir": { value: dir, secret: false },
    "labtest:token": { value: TOKEN, secret: true },
  };
  for (const [k, v] of Object.entries(over)) {
    c[`labtest:${k}`] = { value: v, secret: false };
  }
  return c;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  summary: Summary;
  ms: number;
}

function cliArgs(
  op: string,
  program: string,
  state: string,
  configFile: string,
  extra: string[],
): string[] {
  return [
    "--import",
    "tsx",
    CLI,
    op,
    "--program",
    program,
    "--state",
    state,
    "--config",
    configFile,
    "--project",
    "labtest",
    ...extra,
  ];
}

function parse(code: number | null, stdout: string, stderr: string, ms: number): RunResult {
  const line = stdout.split("\n").find((l) => l.startsWith("LAB-DRIVER-SUMMARY "));
  assert.ok(line, `no summary line; stdout:\n${stdout}\nstderr:\n${stderr}`);
  return {
    code,
    stdout,
    stderr,
    summary: JSON.parse(line.slice("LAB-DRIVER-SUMMARY ".length)) as Summary,
    ms,
  };
}

/** Runs one driver operation and waits for it (blocks the event loop). */
export function runCli(
  op: string,
  program: string,
  state: string,
  config: Record<string, unknown>,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): RunResult {
  const configFile = `${state}.config.json`;
  fs.writeFileSync(configFile, JSON.stringify(config));
  const started = Date.now();
  const r = spawnSync(process.execPath, cliArgs(op, program, state, configFile, extra), {
    encoding: "utf8",
    cwd: REPO,
    timeout: 120_000,
    env,
  });
  return parse(r.status, r.stdout, r.stderr, Date.now() - started);
}

/** Runs one driver operation without blocking (for tests that serve or race while it runs). */
export function runCliAsync(
  op: string,
  program: string,
  state: string,
  config: Record<string, unknown>,
  extra: string[] = [],
  configFile = `${state}.config.json`,
): Promise<RunResult> {
  fs.writeFileSync(configFile, JSON.stringify(config));
  const args = cliArgs(op, program, state, configFile, extra);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        resolve(parse(code, stdout, stderr, Date.now() - started));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

export function readState(file: string): StateFile {
  return JSON.parse(fs.readFileSync(file, "utf8")) as StateFile;
}

export function names(s: StateFile): string[] {
  return Object.values(s.resources)
    .map((r) => r.name)
    .sort();
}

/** "op name" of each executed step, replacements as "replace name" once. */
export function executed(s: Summary): string[] {
  const out: string[] = [];
  for (const st of s.steps) {
    const v = st.replacement ? `replace ${st.name}` : `${st.op} ${st.name}`;
    if (!out.includes(v) || !st.replacement) {
      out.push(v);
    }
  }
  return out.sort();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() =>
        typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port")),
      );
    });
  });
}

export async function waitForPort(port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.end();
        res(true);
      });
      s.on("error", () => res(false));
    });
    if (ok) {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** A TCP relay to 127.0.0.1:target that counts the connections made through it. */
export async function countingRelay(
  target: number,
): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((c) => {
    n++;
    const up = net.connect(target, "127.0.0.1");
    sockets.add(c).add(up);
    c.pipe(up).pipe(c);
    const done = (): void => {
      c.destroy();
      up.destroy();
    };
    c.on("error", done).on("close", done);
    up.on("error", done).on("close", done);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const a = srv.address();
  const port = typeof a === "object" && a ? a.port : 0;
  return {
    port,
    count: () => n,
    close: () =>
      new Promise<void>((r) => {
        sockets.forEach((s) => s.destroy());
        srv.close(() => r());
      }),
  };
}
