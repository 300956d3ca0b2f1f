// Engine options and habits the driver reproduces (pulumi v3.248.0): protect, retainOnDelete,
// ignoreChanges, aliases, deletedWith, customTimeouts, output masking, the plugin environment,
// preview = next apply after a failure, and the stack lock. Each test fails without its behaviour.
// Run: npx mocha lab/driver/options.test.ts
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deleteProtectedMessage, replaceProtectedMessage } from "./engine-options";
import {
  executed,
  fixtureConfig,
  names,
  readState,
  runCli,
  runCliAsync,
  TOKEN,
  type RunResult,
} from "./test-helpers";

const program = path.join(__dirname, "fixtures", "options");
const URN = "urn:pulumi:dev::labtest::";

describe("lab driver: engine options", function () {
  this.timeout(120_000);
  let dir: string;
  const log = (): string => {
    const f = path.join(dir, "log");
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
  };
  const cfg = (over: Record<string, string> = {}) => fixtureConfig(dir, over);
  const run = (
    op: string,
    state: string,
    over: Record<string, string> = {},
    extra: string[] = [],
    env?: NodeJS.ProcessEnv,
  ): RunResult => runCli(op, program, path.join(dir, state), cfg(over), extra, env);
  const stateOf = (s: string) => readState(path.join(dir, s));
  const byName = (s: string, n: string) =>
    Object.values(stateOf(s).resources).find((r) => r.name === n);

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-driver-options-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe("protect", () => {
    it("is recorded, and a component's protect reaches its children (the SDK copies it)", () => {
      const r = run("up", "p.json");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(byName("p.json", "protected")?.options.protect, true);
      assert.equal(byName("p.json", "guarded")?.options.protect, true);
      assert.equal(byName("p.json", "guarded-a")?.options.protect, true);
      assert.equal(byName("p.json", "guarded-b")?.options.protect, true);
      assert.equal(byName("p.json", "pair-a")?.options.protect, false);
    });

    it("refuses to delete a protected resource, in preview and in up", () => {
      const urn = `${URN}command:local:Command::protected`;
      const p = run("preview", "p.json", { withProtected: "false" });
      assert.equal(p.code, 1);
      assert.equal(p.summary.error, deleteProtectedMessage(urn));
      const before = log();
      const r = run("up", "p.json", { withProtected: "false" });
      assert.equal(r.code, 1);
      assert.equal(r.summary.error, deleteProtectedMessage(urn));
      assert.equal(
        r.summary.error,
        `resource "${urn}" cannot be deleted\nbecause it is protected. To unprotect the resource, ` +
          "either remove the `protect` flag from the resource in your Pulumi program and run " +
          `\`pulumi up\`, or use the command:\n\`pulumi state unprotect '${urn}'\``,
      );
      assert.equal(log(), before);
      assert.ok(names(stateOf("p.json")).includes("protected"));
    });

    it("refuses to replace a protected resource and runs nothing", () => {
      const urn = `${URN}command:local:Command::protected`;
      const r = run("up", "p.json", { protectedTrigger: "2" });
      assert.equal(r.code, 1);
      assert.equal(r.summary.ran, 0);
      assert.equal(r.summary.error, replaceProtectedMessage(urn));
    });

    it("refuses to delete the children of a protected component", () => {
      const r = run("up", "p.json", { withProtectedPair: "false" });
      assert.equal(r.code, 1);
      assert.equal(
        r.summary.error,
        deleteProtectedMessage(`${URN}lab:test:Pair$command:local:Command::guarded-b`),
      );
      assert.ok(names(stateOf("p.json")).includes("guarded-b"));
    });

    it("unprotecting is a same step; then the deletes run", () => {
      const r0 = run("up", "p.json", { protect: "false" });
      assert.equal(r0.code, 0, r0.stderr);
      assert.equal(r0.summary.ran, 0);
      const r = run("up", "p.json", {
        protect: "false",
        withProtected: "false",
        withProtectedPair: "false",
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(executed(r.summary), [
        "delete guarded-a",
        "delete guarded-b",
        "delete protected",
      ]);
    });
  });

  describe("retainOnDelete, ignoreChanges, aliases, deletedWith", () => {
    const base = { withProtected: "false", withProtectedPair: "false" };

    it("baseline", () => {
      const r = run("up", "o.json", base);
      assert.equal(r.code, 0, r.stderr);
    });

    it("ignoreChanges: a changed `create` is ignored (same, old value kept)", () => {
      const r = run("up", "o.json", { ...base, ignoringText: "changed" });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.summary.ran, 0);
      assert.equal(r.summary.plan.find((p) => p.name === "ignoring")?.action, "same");
      assert.match(String(byName("o.json", "ignoring")?.inputs["create"]), /create-ignoring >>/);
    });

    it("aliases: a renamed component keeps its children (no replace)", () => {
      const r = run("up", "o.json", { ...base, pairName: "pair2" });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.summary.ran, 0, executed(r.summary).join(", "));
      const plan = Object.fromEntries(r.summary.plan.map((p) => [p.name, p]));
      assert.equal(plan["pair2-a"].action, "same");
      assert.equal(plan["pair2-a"].aliasOf, `${URN}lab:test:Pair$command:local:Command::pair-a`);
      assert.equal(plan["pair2"].aliasOf, `${URN}lab:test:Pair::pair`);
      const n = names(stateOf("o.json"));
      assert.ok(n.includes("pair2-a") && n.includes("pair2-b") && !n.includes("pair-a"), n.join());
      assert.equal(
        byName("o.json", "pair2-b")?.urn,
        `${URN}lab:test:Pair$command:local:Command::pair2-b`,
      );
    });

    it("retainOnDelete: leaving the program removes it from state without running delete", () => {
      const r = run("up", "o.json", { ...base, pairName: "pair2", withRetained: "false" });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.summary.ran, 0);
      assert.equal(r.summary.plan.find((p) => p.name === "retained")?.noop, "retainOnDelete");
      assert.ok(!log().includes("delete-retained"));
      assert.ok(!names(stateOf("o.json")).includes("retained"));
    });

    it("deletedWith: deleted with its host, only the host's delete runs", () => {
      const r = run("up", "o.json", {
        ...base,
        pairName: "pair2",
        withRetained: "false",
        withHost: "false",
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(executed(r.summary), ["delete host"]);
      assert.ok(log().includes("delete-host") && !log().includes("delete-on-host"));
      assert.ok(!names(stateOf("o.json")).includes("on-host"));
    });
  });

  describe("customTimeouts", () => {
    it("kill a local command at the create timeout (exec.CommandContext)", () => {
      const before = log().length;
      const r = run("up", "t.json", { withSlow: "true", sleep: "5", timeout: "1s" });
      assert.equal(r.code, 1);
      assert.match(
        r.summary.error ?? "",
        /^create of .*::slow failed: signal: killed: running "sleep 5;/,
      );
      // The shell is killed at 1 s and never runs `echo slept`; like Go's Wait, the step ends
      // when the orphaned `sleep` closes the output pipe.
      assert.ok(!log().slice(before).includes("slept"));
    });
  });

  it("masks only the values of secure stack config", () => {
    const r = run("up", "m.json", { withMask: "true" }, ["--verbose"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^create command:local:Command coreos-step exit=0 \d+ms$/m);
    assert.match(r.stderr, /coreos-step out: coreos$/m);
    assert.match(r.stderr, /coreos-step out: token=\[secret\]$/m);
    assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN));
  });

  it("local commands get the CLI's environment, not the language host's", () => {
    const env = { ...process.env, LAB_DRIVER_CLI_MARKER: "from-the-cli" };
    const r = run("up", "e.json", { withEnv: "true" }, [], env);
    assert.equal(r.code, 0, r.stderr);
    const out = String(byName("e.json", "env")?.outputs["stdout"]);
    assert.match(out, /^LAB_DRIVER_CLI_MARKER=from-the-cli$/m);
    assert.doesNotMatch(out, /^PULUMI_CONFIG=/m);
    assert.doesNotMatch(out, /^PULUMI_CONFIG_SECRET_KEYS=/m);
    assert.doesNotMatch(out, /^PULUMI_NODEJS_/m);
    assert.ok(!out.includes(TOKEN));
  });

  it("after a failed apply, the preview plans exactly what the next apply runs", () => {
    const start = { withFailing: "true", fail: "false" };
    assert.equal(run("up", "f.json", start).code, 0);
    const changed = {
      withFailing: "true",
      firstText: "first2",
      failingTrigger: "2",
      afterText: "after2",
    };
    const failed = run("up", "f.json", { ...changed, fail: "true" });
    assert.equal(failed.code, 1);
    assert.match(failed.summary.error ?? "", /exit status 4/);
    const preview = run("preview", "f.json", { ...changed, fail: "false" });
    assert.equal(preview.code, 0, preview.stderr);
    const planned = preview.summary.plan
      .filter((p) => p.custom && p.action !== "same" && !p.noop)
      .map((p) => `${p.action} ${p.name}`)
      .sort();
    const next = run("up", "f.json", { ...changed, fail: "false" });
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(executed(next.summary), planned);
    assert.ok(planned.length > 0);
  });

  it("a delete-before-replace whose create failed is replaced next time without deleting again", () => {
    assert.equal(run("up", "d.json", { withDbr: "true" }).code, 0);
    const failed = run("up", "d.json", { withDbr: "true", dbrTrigger: "2", dbrFail: "true" });
    assert.equal(failed.code, 1);
    assert.deepEqual(
      failed.summary.steps.map((s) => `${s.op} ${s.name} ${s.ok}`),
      ["delete dbr true", "create dbr false"],
    );
    assert.equal(byName("d.json", "dbr")?.pendingReplacement, true);
    const preview = run("preview", "d.json", { withDbr: "true", dbrTrigger: "2" });
    assert.equal(preview.summary.plan.find((p) => p.name === "dbr")?.action, "replace");
    const deletes = log()
      .split("\n")
      .filter((l) => l === "delete-dbr").length;
    const next = run("up", "d.json", { withDbr: "true", dbrTrigger: "2" });
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(
      next.summary.steps.map((s) => `${s.op} ${s.name} ${String(s.replacement)}`),
      ["create dbr true"],
    );
    assert.equal(
      log()
        .split("\n")
        .filter((l) => l === "delete-dbr").length,
      deletes,
    );
    assert.equal(byName("d.json", "dbr")?.pendingReplacement, undefined);
  });

  it("a resource pending replacement that leaves the program is not deleted again", () => {
    assert.equal(run("up", "d2.json", { withDbr: "true" }).code, 0);
    assert.equal(
      run("up", "d2.json", { withDbr: "true", dbrTrigger: "2", dbrFail: "true" }).code,
      1,
    );
    const r = run("up", "d2.json", {});
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.summary.steps, []);
    assert.equal(r.summary.plan.find((p) => p.name === "dbr")?.noop, "pendingReplacement");
    assert.ok(!names(stateOf("d2.json")).includes("dbr"));
  });

  it("replacing a delete-before-replace resource deletes the dependents that must be replaced first", () => {
    assert.equal(run("up", "c.json", { withChain: "true" }).code, 0);
    const mark = log().length;
    const r = run("up", "c.json", { withChain: "true", "chain-baseTrigger": "2" });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(log().slice(mark).trim().split("\n"), [
      "delete-chain-dep",
      "delete-chain-base",
      "create-chain-base",
      "create-chain-dep",
    ]);
    assert.deepEqual(executed(r.summary), ["replace chain-base", "replace chain-dep"]);
    assert.equal(byName("c.json", "chain-dep")?.pendingReplacement, undefined);
  });

  it("a second concurrent run of one stack is refused with the backend's lock message", async () => {
    const state = path.join(dir, "l.json");
    // The driver's lock follows pulumi v3.248.0 pkg/backend/diy/lock.go (*diyBackend).Lock
    // and checkForLock (lab/driver/lock.ts): a second run is refused while the first holds
    // it. The first run's step lasts until the second has been refused (the `until` file;
    // 25 s at most, long enough on a loaded machine).
    const go = `${state}.go`;
    const slow = { withSlow: "true", sleep: "25", until: go, timeout: "60s" };
    const first = runCliAsync("up", program, state, cfg(slow), [], `${state}.first.json`);
    const lockDir = `${state}.locks`;
    for (let i = 0; i < 100 && !fs.existsSync(lockDir); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(fs.existsSync(lockDir), "the first run took no lock");
    const second = runCli("up", program, state, cfg(slow));
    assert.equal(second.code, 1);
    assert.equal(second.summary.ran, 0);
    assert.match(
      second.summary.error ?? "",
      /^the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`\.\n {2}\S+\.json: created by \S+@\S+ \(pid \d+\) at \S+$/,
    );
    // The first run still holds the lock until its step ends.
    assert.ok(fs.existsSync(lockDir), "the lock went before the first run ended");
    fs.writeFileSync(go, "");
    const r1 = await first;
    assert.equal(r1.code, 0, r1.stderr);
    assert.ok(!fs.existsSync(lockDir), "the lock was not released");
    assert.equal(runCli("up", program, state, cfg(slow)).summary.ran, 0);
  });
});
