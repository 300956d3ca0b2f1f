// Tests for the lab driver: run the CLI (one process per operation) against the
// fixture programs and check what ran, in which order, and what state holds.
// Run: npx mocha --import=tsx --timeout 120000 lab/driver/driver.test.ts
import * as assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dialDelaysMs, hostKeyAlgorithms, SshOptions } from "./ssh";
import {
  fixtureConfig,
  TOKEN,
  countingRelay,
  freePort,
  names,
  readState,
  runCli,
  runCliAsync,
  waitForPort,
  type RunResult,
} from "./test-helpers";

describe("lab driver (local commands)", function () {
  this.timeout(120_000);
  const program = path.join(__dirname, "fixtures", "local");
  let dir: string;
  let state: string;
  const log = (): string[] => fs.readFileSync(path.join(dir, "log"), "utf8").trim().split("\n");
  const cfg = (over: Record<string, string> = {}) => fixtureConfig(dir, over);
  const up = (over: Record<string, string> = {}, extra: string[] = []): RunResult =>
    runCli("up", program, state, cfg(over), extra);
  const noSecret = (r: RunResult): void => {
    assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN), "secret printed");
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-driver-test-"));
    state = path.join(dir, "state.json");
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("preview on empty state runs nothing and writes no state", () => {
    const r = runCli("preview", program, state, cfg());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.ran, 0);
    assert.ok(!fs.existsSync(state));
    assert.ok(!fs.existsSync(path.join(dir, "log")));
    const actions = Object.fromEntries(r.summary.plan.map((p) => [p.name, p.action]));
    assert.equal(actions["pair-a"], "create");
    assert.equal(actions["c"], "create");
  });

  it("up creates everything; component children have the component in their URN", () => {
    const r = up({}, ["--verbose"]);
    assert.equal(r.code, 0, r.stderr);
    noSecret(r);
    assert.equal(r.summary.ran, 4);
    assert.deepEqual(r.summary.steps.map((s) => `${s.op} ${s.name}`).sort(), [
      "create c",
      "create pair-a",
      "create pair-b",
      "create s",
    ]);
    assert.match(r.stdout, /^create command:local:Command pair-a exit=0 \d+ms$/m);
    assert.equal(fs.readFileSync(path.join(dir, "a.txt"), "utf8"), "hello");
    const s = readState(state);
    assert.deepEqual(names(s), ["c", "labtest-dev", "pair", "pair-a", "pair-b", "s"]);
    const b = Object.values(s.resources).find((x) => x.name === "pair-b");
    assert.equal(b?.urn, "urn:pulumi:dev::labtest::lab:test:Pair$command:local:Command::pair-b");
    assert.equal(b?.outputs["stdout"], "out-1", "one trailing newline trimmed");
    const sres = Object.values(s.resources).find((x) => x.name === "s");
    assert.deepEqual(sres?.secretInputs, ["create"]);
    // A secret `create` does not make stdout secret (the provider's default secret wiring is
    // same-name only); additionalSecretOutputs does.
    assert.deepEqual(sres?.secretOutputs, ["stderr"]);
    // dependsOn a component is expanded to its children.
    const c = Object.values(s.resources).find((x) => x.name === "c");
    assert.ok(c?.options.dependsOn.includes(b!.urn));
    // c waited for pair-b (dependsOn): its create is logged after pair-b's.
    assert.ok(log().indexOf("create-c") > log().indexOf("create-b-1"));
  });

  it("a second up with no change runs zero commands", () => {
    const before = fs.readFileSync(path.join(dir, "log"), "utf8");
    const r = up();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.ran, 0);
    assert.deepEqual([...new Set(r.summary.plan.map((p) => p.action))], ["same"]);
    assert.equal(fs.readFileSync(path.join(dir, "log"), "utf8"), before);
  });

  it("preview of a change runs nothing and leaves state untouched", () => {
    const stateBefore = fs.readFileSync(state, "utf8");
    const r = runCli("preview", program, state, cfg({ createText: "changed" }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.ran, 0);
    assert.equal(r.summary.plan.find((p) => p.name === "pair-a")?.action, "update");
    assert.equal(fs.readFileSync(state, "utf8"), stateBefore);
    assert.equal(fs.readFileSync(path.join(dir, "a.txt"), "utf8"), "hello");
  });

  it("changing `create` is an update that re-runs create (no update command)", () => {
    const r = up({ createText: "changed" });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.summary.steps.map((s) => `${s.op} ${s.name}`),
      ["update pair-a"],
    );
    assert.equal(fs.readFileSync(path.join(dir, "a.txt"), "utf8"), "changed");
  });

  it("changing triggers replaces: create the new one, then delete the old one", () => {
    const r = up({ createText: "changed", trigger: "2" });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.summary.steps.map((s) => `${s.op} ${s.name}`),
      ["create pair-b", "delete pair-b"],
    );
    assert.ok(r.summary.steps.every((s) => s.replacement === true));
    const l = log();
    // The old delete sees the old stdout in PULUMI_COMMAND_STDOUT.
    assert.ok(
      l.indexOf("create-b-2") >= 0 && l.indexOf("delete-b-out-1") > l.indexOf("create-b-2"),
      l.join(","),
    );
    assert.equal(readState(state).pendingDeletes.length, 0);
  });

  it("with deleteBeforeReplace the old one is deleted first", () => {
    // Turning dbr on alone is not an input change.
    const r0 = up({ createText: "changed", trigger: "2", dbr: "true" });
    assert.equal(r0.summary.ran, 0);
    const r = up({ createText: "changed", trigger: "3", dbr: "true" });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.summary.steps.map((s) => `${s.op} ${s.name}`),
      ["delete pair-b", "create pair-b"],
    );
    const l = log();
    assert.ok(
      l.indexOf("delete-b-out-2") >= 0 && l.indexOf("delete-b-out-2") < l.indexOf("create-b-3"),
      l.join(","),
    );
  });

  it("a failing command fails the run with its output and is not saved", () => {
    const r = up({ createText: "changed", trigger: "3", dbr: "true", fail: "true" });
    assert.equal(r.code, 1);
    assert.equal(r.summary.ok, false);
    assert.match(r.summary.error ?? "", /exit status 3/);
    assert.match(r.summary.error ?? "", /boom-err/);
    assert.match(r.stderr, /boom-err/);
    assert.ok(!names(readState(state)).includes("failing-a"));
    // Its dependent never ran, and the run ended with the failure rather than stalling.
    assert.ok(!names(readState(state)).includes("failing-b"));
    assert.ok(!log().some((line) => line.startsWith("after")));
    assert.doesNotMatch(r.stderr, /promises were still active/);
    noSecret(r);
  });

  it("removing a resource from the program deletes it (and only it)", () => {
    const r = up({ createText: "changed", trigger: "3", dbr: "true", withC: "false" });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.summary.steps.map((s) => `${s.op} ${s.name}`),
      ["delete c"],
    );
    assert.ok(!names(readState(state)).includes("c"));
    assert.equal(log().at(-1), "delete-c");
  });

  it("destroy deletes the rest, dependents first, and empties state", () => {
    // Bring c back so there is a dependency chain c -> pair-b -> pair-a.
    const r1 = up({ createText: "changed", trigger: "3", dbr: "true" });
    assert.deepEqual(
      r1.summary.steps.map((s) => `${s.op} ${s.name}`),
      ["create c"],
    );
    const mark = log().length;
    const r = runCli("destroy", program, state, cfg());
    assert.equal(r.code, 0, r.stderr);
    noSecret(r);
    assert.deepEqual(r.summary.steps.map((s) => s.name).sort(), ["c", "pair-a", "pair-b", "s"]);
    const l = log().slice(mark);
    assert.ok(l.indexOf("delete-c") < l.indexOf("delete-b-out-3"), l.join(","));
    assert.ok(l.indexOf("delete-b-out-3") < l.indexOf("delete-a"), l.join(","));
    assert.ok(!fs.existsSync(path.join(dir, "a.txt")));
    const s = readState(state);
    assert.deepEqual(s.resources, {});
    const r2 = runCli("destroy", program, state, cfg());
    assert.equal(r2.summary.ran, 0);
  });

  it("deletes independent resources at once, as one antichain (ScheduleDeletes)", () => {
    const r1 = up({ withC: "false", twins: "true" });
    assert.equal(r1.code, 0, r1.stderr);
    const mark = log().length;
    const r = runCli("destroy", program, state, cfg({ withC: "false", twins: "true" }));
    assert.equal(r.code, 0, r.stderr);
    const l = log().slice(mark);
    const last = Math.max(l.indexOf("start-t1"), l.indexOf("start-t2"));
    const first = Math.min(l.indexOf("end-t1"), l.indexOf("end-t2"));
    assert.ok(last >= 0 && last < first, `both deletes start before either ends: ${l.join(",")}`);
    // pair-b depends on pair-a: its delete ends before pair-a's starts.
    assert.ok(l.indexOf("delete-b-out-3") < l.indexOf("delete-a"), l.join(","));
    assert.deepEqual(readState(state).resources, {});
  });

  it("a failed delete: the one running beside it finishes and leaves state; the run fails", () => {
    // The delete that runs is the one in state (the create's inputs).
    const r1 = up({ withC: "false", twins: "true", twinFails: "true" });
    assert.equal(r1.code, 0, r1.stderr);
    const mark = log().length;
    const r = runCli(
      "destroy",
      program,
      state,
      cfg({ withC: "false", twins: "true", twinFails: "true" }),
    );
    assert.equal(r.code, 1);
    const l = log().slice(mark);
    assert.ok(l.includes("end-t2") && l.includes("end-t1"), l.join(","));
    const left = names(readState(state));
    assert.ok(left.includes("t2"), left.join(","));
    assert.ok(!left.includes("t1"), left.join(","));
    // The other deletes of that antichain ran; nothing waits behind it in this program.
    // t2's delete is fixed by an update (a changed delete re-runs create), then destroyed.
    assert.equal(up({ withC: "false", twins: "true" }).code, 0);
    const r2 = runCli("destroy", program, state, cfg({ withC: "false", twins: "true" }));
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(readState(state).resources, {});
  });
});

// ------------------------------------------------------------- remote ---

describe("lab driver: SSH dial (unit)", () => {
  it("offers only the pinned key's type (x/crypto HostKeyAlgorithms = [key.Type()])", () => {
    assert.equal(hostKeyAlgorithms("ssh-ed25519 AAAAC3Nz host"), "ssh-ed25519");
    assert.equal(hostKeyAlgorithms("ssh-rsa AAAAB3Nz"), "ssh-rsa");
    assert.equal(hostKeyAlgorithms("ecdsa-sha2-nistp256 AAAAE2V"), "ecdsa-sha2-nistp256");
    assert.equal(hostKeyAlgorithms(undefined), undefined);
  });

  it("bounds each dial by perDialTimeout (0: none) and pins only the given key's algorithm", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-driver-sshopts-"));
    try {
      const conn = {
        host: "h",
        port: 22,
        user: "root",
        dialErrorLimit: 10,
        perDialTimeout: 7,
        hostKey: "ssh-ed25519 AAAAC3Nz",
      };
      const o = new SshOptions(dir, conn, {}).options;
      assert.ok(o.includes("ConnectTimeout=7"), o.join(" "));
      assert.ok(o.includes("HostKeyAlgorithms=ssh-ed25519"), o.join(" "));
      const none = new SshOptions(dir, { ...conn, perDialTimeout: 0, hostKey: undefined }, {})
        .options;
      assert.ok(!none.some((x) => x.startsWith("ConnectTimeout=")), none.join(" "));
      assert.ok(!none.some((x) => x.startsWith("HostKeyAlgorithms=")), none.join(" "));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("waits 100 ms ×1.5 up to 5 s between dials, dialErrorLimit of them", () => {
    assert.deepEqual(
      dialDelaysMs(10).map((d) => Math.round(d * 1000) / 1000),
      [100, 150, 225, 337.5, 506.25, 759.375, 1139.063, 1708.594, 2562.891, 3844.336],
    );
    assert.deepEqual(dialDelaysMs(0), []);
    assert.equal(dialDelaysMs(-1, 20).at(-1), 5000);
  });
});

describe("lab driver (remote over a real sshd)", function () {
  this.timeout(120_000);
  before(() => {
    // Fails rather than skips: these are the driver's SSH and SFTP paths.
    assert.equal(process.getuid?.(), 0, "the remote tests start their own sshd: run them as root");
    assert.ok(
      fs.existsSync("/usr/sbin/sshd") && fs.existsSync("/usr/bin/ssh-keygen"),
      "install openssh-server and openssh-client for the remote tests",
    );
  });
  const program = path.join(__dirname, "fixtures", "remote");
  let dir: string;
  let remoteDir: string;
  let state: string;
  let sshd: ChildProcess | undefined;
  let port: number;
  let clientKey: string;
  let hostPub: string;
  let rsaHostPub: string;
  let binFile: string;
  const pub = (f: string): string =>
    fs.readFileSync(f, "utf8").trim().split(" ").slice(0, 2).join(" ");

  const cfg = (over: Record<string, string> = {}): Record<string, unknown> => {
    const c: Record<string, unknown> = {
      "labtest:dir": { value: remoteDir, secret: false },
      "labtest:port": { value: String(port), secret: false },
      "labtest:privateKey": { value: clientKey, secret: true },
      "labtest:hostKey": { value: hostPub, secret: false },
      "labtest:filePath": { value: binFile, secret: false },
    };
    for (const [k, v] of Object.entries(over)) {
      c[`labtest:${k}`] = { value: v, secret: false };
    }
    return c;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-driver-ssh-test-"));
    remoteDir = path.join(dir, "remote");
    fs.mkdirSync(remoteDir);
    state = path.join(dir, "state.json");
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client_key")]);
    clientKey = fs.readFileSync(path.join(dir, "client_key"), "utf8");
    hostPub = fs
      .readFileSync(path.join(dir, "host_key.pub"), "utf8")
      .trim()
      .split(" ")
      .slice(0, 2)
      .join(" ");
    spawnSync("ssh-keygen", [
      "-q",
      "-t",
      "rsa",
      "-b",
      "2048",
      "-N",
      "",
      "-f",
      path.join(dir, "host_rsa"),
    ]);
    rsaHostPub = pub(path.join(dir, "host_rsa.pub"));
    fs.copyFileSync(path.join(dir, "client_key.pub"), path.join(dir, "authorized_keys"));
    binFile = path.join(dir, "payload.bin");
    fs.writeFileSync(binFile, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256)));
    port = await freePort();
    fs.writeFileSync(
      path.join(dir, "sshd_config"),
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${path.join(dir, "host_key")}`,
        `HostKey ${path.join(dir, "host_rsa")}`,
        `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
        `PidFile ${path.join(dir, "sshd.pid")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "Subsystem sftp internal-sftp",
      ].join("\n") + "\n",
    );
    fs.mkdirSync("/run/sshd", { recursive: true });
    sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", path.join(dir, "sshd_config")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    sshd.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    assert.ok(await waitForPort(port, 10_000), `sshd did not start: ${err}`);
  });

  after(() => {
    if (sshd?.pid) {
      process.kill(sshd.pid, "SIGTERM");
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates over ssh (login shell, stdin) and copies text and file assets byte for byte", () => {
    const r = runCli("up", program, state, cfg(), ["--verbose"]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(r.summary.steps.map((s) => `${s.op} ${s.name}`).sort(), [
      "create file",
      "create marker",
      "create text",
    ]);
    const marker = Object.values(readState(state).resources).find((x) => x.name === "marker");
    assert.equal(marker?.outputs["stdout"], "from-stdin\ncreated");
    assert.match(fs.readFileSync(path.join(remoteDir, "marker"), "utf8"), /sh/); // $0 is the login shell
    assert.equal(
      fs.readFileSync(path.join(remoteDir, "sub", "deeper", "text.txt"), "utf8"),
      "text-v1\n",
    );
    assert.deepEqual(fs.readFileSync(path.join(remoteDir, "copied.bin")), fs.readFileSync(binFile));
    assert.ok(!r.stdout.includes("PRIVATE KEY") && !r.stderr.includes("PRIVATE KEY"));
    assert.ok(
      !fs.readFileSync(state, "utf8").includes('"privateKey": "[secret]'),
      "state keeps the key for deletes",
    );
  });

  it("a second up runs nothing; a text change re-copies only that asset", () => {
    const r0 = runCli("up", program, state, cfg());
    assert.equal(r0.summary.ran, 0, r0.stdout);
    const r = runCli("up", program, state, cfg({ text: "text-v2\n" }));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.summary.steps.map((s) => `${s.op} ${s.name}`),
      ["update text"],
    );
    assert.equal(
      fs.readFileSync(path.join(remoteDir, "sub", "deeper", "text.txt"), "utf8"),
      "text-v2\n",
    );
  });

  it("retries every dial error as the provider does: a host-key mismatch, dialErrorLimit + 1 dials", async () => {
    const other = path.join(dir, "other_key");
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const relay = await countingRelay(port);
    try {
      const r = await runCliAsync(
        "up",
        program,
        path.join(dir, "state-wrong.json"),
        cfg({ hostKey: pub(`${other}.pub`), port: String(relay.port), dialErrorLimit: "2" }),
      );
      assert.equal(r.code, 1);
      // Three steps dial in parallel, each 3 times (try 0, 1, 2: dials > 2 stops).
      assert.equal(relay.count(), 9);
      assert.match(
        r.summary.error ?? "",
        /^create of \S+ failed: after 2 failed attempts: [^]*Host key verification failed\.$/,
      );
      // The provider's backoff: 100 ms, then 150 ms, between the three dials.
      const step = r.summary.steps.find((s) => s.name === "marker");
      assert.ok(step && step.durationMs >= 250, JSON.stringify(step));
    } finally {
      await relay.close();
    }
  });

  it("retries a failed authentication too", async () => {
    const wrongKey = path.join(dir, "wrong_client");
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", wrongKey]);
    const relay = await countingRelay(port);
    try {
      const c = cfg({ port: String(relay.port), dialErrorLimit: "1", onlySlow: "true" });
      c["labtest:privateKey"] = { value: fs.readFileSync(wrongKey, "utf8"), secret: true };
      const r = await runCliAsync("up", program, path.join(dir, "state-auth.json"), c);
      assert.equal(r.code, 1);
      assert.equal(relay.count(), 2);
      assert.match(r.summary.error ?? "", /after 1 failed attempts: [^]*Permission denied/);
    } finally {
      await relay.close();
    }
  });

  it("offers only the pinned key's algorithm: a pinned RSA key offers ssh-rsa, which sshd refuses", () => {
    // x/crypto with HostKeyAlgorithms ["ssh-rsa"] fails the same way against an OpenSSH >= 8.8
    // server; OpenSSH's own default list would have negotiated rsa-sha2-512 and connected.
    const r = runCli(
      "up",
      program,
      path.join(dir, "state-rsa.json"),
      cfg({ hostKey: rsaHostPub, dialErrorLimit: "0", onlySlow: "true", sleep: "0" }),
    );
    assert.equal(r.code, 1);
    assert.match(
      r.summary.error ?? "",
      /after 0 failed attempts: [^]*no matching host key type found/,
    );
  });

  it("dials through a jump host (connection.proxy)", async () => {
    const relay = await countingRelay(port);
    try {
      const r = await runCliAsync(
        "up",
        program,
        path.join(dir, "state-proxy.json"),
        cfg({ onlySlow: "true", sleep: "0", viaProxy: "true", port: String(relay.port) }),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.summary.steps.map((s) => `${s.op} ${s.name}`),
        ["create slow"],
      );
      // Both hops use the relay's port: one connection to the jump host, one from it to the
      // target (-W); a single dial, no retry.
      assert.equal(relay.count(), 2);
    } finally {
      await relay.close();
    }
  });

  it("customTimeouts do not stop a running remote command", () => {
    const r = runCli(
      "up",
      program,
      path.join(dir, "state-slow.json"),
      cfg({ onlySlow: "true", sleep: "3", timeout: "1s" }),
    );
    assert.equal(r.code, 0, r.stderr);
    const slow = Object.values(readState(path.join(dir, "state-slow.json")).resources).find(
      (x) => x.name === "slow",
    );
    assert.equal(slow?.outputs["stdout"], "done");
    assert.ok(r.summary.steps[0].durationMs >= 3000);
  });

  it("customTimeouts bound the dial retries (context deadline exceeded)", async () => {
    const closed = await freePort();
    const r = runCli(
      "up",
      program,
      path.join(dir, "state-closed.json"),
      cfg({ port: String(closed), dialErrorLimit: "-1", onlySlow: "true", timeout: "2s" }),
    );
    assert.equal(r.code, 1);
    assert.match(r.summary.error ?? "", /failed: context deadline exceeded$/);
    const d = r.summary.steps[0].durationMs;
    assert.ok(d >= 1900 && d < 6000, `dialled for ${d} ms`);
  });

  it("`environment` on a remote command fails with a clear message", () => {
    const r = runCli("up", program, state, cfg({ text: "text-v2\n", withEnv: "true" }));
    assert.equal(r.code, 1);
    assert.match(r.summary.error ?? "", /AcceptEnv/);
  });

  it("destroy runs the remote delete", () => {
    const r = runCli("destroy", program, state, cfg());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.summary.steps.map((s) => `${s.op} ${s.name}`),
      ["delete marker"],
    );
    assert.ok(!fs.existsSync(path.join(remoteDir, "marker")));
  });
});
