/**
 * Upgrade in the lab: examples/seed deployed by a previous version of this package (the
 * commit FRR_NSPAWN_PREVIOUS, checked out beside this one with its own lab driver, so
 * that its program imports its own components), then updated by this version while pings
 * run between the loopbacks, updated again (nothing to do) and destroyed. Not part of
 * `npm test` (it needs a commit to start from): `FRR_NSPAWN_PREVIOUS=<commit> npm run
 * test:upgrade`, as root, on a clone with history. The commit's lab/scenario.ts must take
 * `driver(operation, config)`, as it has since the host library (0a5f6ae). Fails, never
 * skips, without the variable.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import {
  COREOS_LISTING,
  DRIVER_STATE,
  IMAGE_WORK_DIR,
  LAB,
  LabInfo,
  REPO,
  bgpUp,
  driver,
  hostsDown,
  hostsUp,
  seedConfig,
  ssh,
  sshInBackground,
  sshRaw,
  waitUntil,
} from "../../lab/scenario";

const LIBRARIES = "ls -1A /var/lib/frr-nspawn/lib /var/lib/frr-nspawn/lib/*.users 2>&1";

/**
 * examples/seed with the tor as a plain-FRR switch (`torCli: vtysh`), in every phase.
 * Before 0396099 the NCLU dialect checked `net show configuration commands` for lines in
 * a form that the documented listing does not have (one port per line, neighbours as
 * added); the lab's NCLU stand-in now prints the documented form, so a stack of such a
 * commit cannot be deployed on it, as it could not on a real switch. The host side, what
 * this test is about, is the same with either dialect; the NCLU dialect's update from an
 * older state file is a unit test (tests/unit/switch.test.ts "nclu: an update after …").
 */
function config(lab: LabInfo): ReturnType<typeof seedConfig> {
  return seedConfig(lab, { torCli: "vtysh" });
}

describe(`upgrade: a stack of ${process.env.FRR_NSPAWN_PREVIOUS ?? "(FRR_NSPAWN_PREVIOUS unset)"} updated by this version`, function () {
  this.timeout(30 * 60 * 1000);
  let lab: LabInfo;
  let before0 = "";
  let tree = "";
  let previous: typeof import("../../lab/scenario");
  const bgp = () =>
    waitUntil(() => bgpUp(lab, "coreos", LAB.coreos.nic) && bgpUp(lab, "tor", LAB.tor.port), 120);

  before(() => {
    assert.equal(process.getuid?.(), 0, "the lab boots systemd-nspawn hosts: run it as root");
    const commit = process.env.FRR_NSPAWN_PREVIOUS;
    assert.ok(commit, "set FRR_NSPAWN_PREVIOUS to the commit whose stack this version updates");
    tree = fs.mkdtempSync("/var/tmp/frr-nspawn-previous-");
    execFileSync("git", ["-C", REPO, "worktree", "add", "--detach", tree, commit], {
      stdio: "ignore",
    });
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(tree, "node_modules"));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    previous = require(path.join(tree, "lab", "scenario")) as typeof import("../../lab/scenario");
    hostsDown();
    fs.rmSync(DRIVER_STATE, { force: true });
    fs.rmSync(`${DRIVER_STATE}.locks`, { recursive: true, force: true });
    lab = hostsUp();
    before0 = ssh(lab, "coreos", COREOS_LISTING);
  });

  after(() => {
    hostsDown();
    if (tree !== "") {
      execFileSync("git", ["-C", REPO, "worktree", "remove", "--force", tree]);
    }
  });

  it("the previous version deploys examples/seed", () => {
    // Its images go in this version's work folder, where a warm lab keeps them.
    const s = previous.driver("up", config(lab));
    assert.ok(s.ok, s.error);
    assert.ok(bgp(), "BGP did not come up after the previous version's deploy");
    console.log(
      `      previous version: ${s.ran} steps; its libraries: ${ssh(lab, "coreos", LIBRARIES).split("\n").join(" ")}`,
    );
  });

  it("this version updates it: every step succeeds, BGP stays up, no ping is lost", async () => {
    const pid = "/run/frr-nspawn-upgrade-ping.pid";
    const out = "/run/frr-nspawn-upgrade-ping.out";
    const done = sshInBackground(
      lab,
      "coreos",
      `ping -i 0.05 -I ${LAB.coreos.loopback} ${LAB.tor.loopback} > ${out} & echo $! > ${pid}; wait; tail -2 ${out}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const s = driver("up", config(lab));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    ssh(lab, "coreos", `kill -INT "$(cat ${pid})"`);
    const stats = /(\d+) packets transmitted, (\d+) received/.exec(await done);
    const steps = s.steps.map((x) => `${x.op} ${x.name}`);
    console.log(`      this version: ${s.ran} steps: ${steps.join(", ")}`);
    console.log(`      UPGRADE ${stats?.[0] ?? "no ping statistics"}`);
    assert.ok(s.ok, s.error);
    assert.ok(stats, "no ping statistics");
    assert.equal(Number(stats[1]) - Number(stats[2]), 0, "pings lost during the update");
    assert.ok(bgp(), "BGP is not up after the update");
    assert.equal(
      sshRaw(lab, "coreos", `ping -c 1 -W 1 -I ${LAB.coreos.loopback} ${LAB.tor.loopback}`).status,
      0,
    );
    // One library on the host, with the machine's marker; the push library beside the image.
    const libs = ssh(lab, "coreos", LIBRARIES);
    console.log(`      libraries after: ${libs.split("\n").join(" ")}`);
    assert.equal(libs.match(/^frr-nspawn-[0-9a-f]{16}\.sh$/gm)?.length, 1, libs);
    assert.ok(
      fs
        .readdirSync(IMAGE_WORK_DIR)
        .some(
          (d) =>
            fs.existsSync(path.join(IMAGE_WORK_DIR, d)) &&
            fs.statSync(path.join(IMAGE_WORK_DIR, d)).isDirectory() &&
            fs
              .readdirSync(path.join(IMAGE_WORK_DIR, d))
              .some((f) => /^push-[0-9a-f]{16}\.sh$/.test(f)),
        ),
      "no push library beside the image",
    );
  });

  it("a second update runs nothing", () => {
    const s = driver("up", config(lab));
    assert.ok(s.ok, s.error);
    assert.equal(s.ran, 0, s.steps.map((x) => `${x.op} ${x.name}`).join(", "));
  });

  it("destroy leaves coreos as it was", () => {
    const s = driver("destroy", config(lab));
    assert.ok(s.ok, s.error);
    assert.equal(ssh(lab, "coreos", COREOS_LISTING), before0);
  });
});
