/**
 * The verify step against real FRR daemons: two network namespaces joined by a veth
 * (ens3 on the host side, swp1 on the switch side), each with Debian's zebra, staticd
 * and bgpd (8.4) in an FRR path space of its own, loaded with the package's renders. The
 * rendered verify script runs as the step would, with `vtysh` on its PATH pointing at
 * one side's path space: BgpLoopback's on the host (uplink ens3), TorCumulus's on the
 * switch (downlink swp1, an interface peer keyed by its port). Each must report the
 * session Established with its loopback advertised, and, once the switch expects
 * another AS, fail naming the neighbour, its state and FRR's last error. Then the same
 * on FRR 10.3 (trixie's, tests/frr/rootfs.sh) in the rack of tests/rack/rig.ts: a TOR
 * with three downlinks, a dual-homed host. Needs root and the frr package (.ci/run
 * installs it).
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { renderHostFrrConf, renderSwitchFrrConf } from "../../components/render/frrConf";
import { parseSessions, renderVerify } from "../../components/render/scripts/verify";
import { SEED_HOST, SEED_SWITCH } from "../fixtures";
import { Rack } from "../rack/rig";
import { mountTrixieRoot, removeFrrRoot } from "./trixieRoot";

const ID = `frrv${process.pid}`;
const SIDES = {
  host: { ns: `${ID}h`, link: "ens3", lo: "2.2.2.2/32", conf: renderHostFrrConf(SEED_HOST) },
  tor: { ns: `${ID}t`, link: "swp1", lo: "1.1.1.1/32", conf: renderSwitchFrrConf(SEED_SWITCH) },
};
const DAEMONS = ["zebra", "staticd", "bgpd"];

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function vtysh(ns: string, ...commands: string[]): string {
  return sh("vtysh", ["-N", ns, ...commands.flatMap((c) => ["-c", c])]);
}

/**
 * Runs the verify script as the step would (`$0` names the run as forLoginShell does),
 * with `vtysh` on its PATH being `vtysh` (a shell word list) of one side.
 */
function runVerifyWith(
  step: string,
  vtyshCommand: string,
  neighbors: string[],
  advertise: string[],
  timeoutSeconds: number,
) {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-verify-"));
  fs.writeFileSync(path.join(bin, "vtysh"), `#!/bin/sh\nexec ${vtyshCommand} "$@"\n`, {
    mode: 0o755,
  });
  const text = renderVerify(
    step,
    { kind: "host" },
    { neighbors, advertise, timeoutSeconds, frrConf: "" },
  );
  try {
    return spawnSync("bash", ["-c", text, `${step} on 192.0.2.10`], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}

/** BgpLoopback's verify on the host side (uplink ens3). */
function runVerify(timeoutSeconds: number) {
  return runVerifyWith(
    "h1-bgp-verify",
    `/usr/bin/vtysh -N ${SIDES.host.ns}`,
    ["ens3"],
    ["2.2.2.2/32"],
    timeoutSeconds,
  );
}

/** TorCumulus's verify on the switch side (downlink swp1). */
function runSwitchVerify(timeoutSeconds: number) {
  return runVerifyWith(
    "tor-verify",
    `/usr/bin/vtysh -N ${SIDES.tor.ns}`,
    ["swp1"],
    ["1.1.1.1/32"],
    timeoutSeconds,
  );
}

describe("verify step against real FRR daemons", function () {
  this.timeout(120000);

  before(() => {
    assert.equal(process.getuid?.(), 0, "these tests start FRR daemons: run them as root");
    for (const side of Object.values(SIDES)) {
      sh("ip", ["netns", "add", side.ns]);
      sh("ip", ["-n", side.ns, "link", "set", "lo", "up"]);
      sh("ip", ["-n", side.ns, "address", "add", side.lo, "dev", "lo"]);
      for (const dir of [`/etc/frr/${side.ns}`, `/var/run/frr/${side.ns}`]) {
        fs.mkdirSync(dir, { recursive: true });
        sh("chown", ["frr:frr", dir]);
      }
      fs.writeFileSync(`/etc/frr/${side.ns}/vtysh.conf`, "service integrated-vtysh-config\n");
      fs.writeFileSync(`/etc/frr/${side.ns}/frr.conf`, side.conf);
    }
    const { host, tor } = SIDES;
    sh(
      "ip",
      ["link", "add", host.link, "netns", host.ns, "type", "veth"].concat([
        "peer",
        "name",
        tor.link,
        "netns",
        tor.ns,
      ]),
    );
    for (const side of Object.values(SIDES)) {
      sh("ip", ["-n", side.ns, "link", "set", side.link, "up"]);
      for (const d of DAEMONS) {
        sh(
          "ip",
          ["netns", "exec", side.ns, `/usr/lib/frr/${d}`, "-d", "-N", side.ns].concat([
            "-A",
            "127.0.0.1",
            "-F",
            "traditional",
            "-f",
            `/etc/frr/${side.ns}/frr.conf`,
          ]),
        );
      }
    }
  });

  after(() => {
    for (const side of Object.values(SIDES)) {
      for (const d of DAEMONS) {
        const pidFile = `/var/run/frr/${side.ns}/${d}.pid`;
        try {
          process.kill(Number(fs.readFileSync(pidFile, "utf8")), "SIGTERM");
        } catch {
          // not started, or gone already
        }
      }
      spawnSync("ip", ["netns", "del", side.ns]);
      fs.rmSync(`/etc/frr/${side.ns}`, { recursive: true, force: true });
      fs.rmSync(`/var/run/frr/${side.ns}`, { recursive: true, force: true });
    }
  });

  it("waits for the session and prints its state: Established, loopback advertised", () => {
    const run = runVerify(60);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(parseSessions(run.stdout), {
      ens3: { state: "Established", advertised: true, lastError: "" },
    });
  });

  it("switch side: the downlink (an interface peer keyed by its port) Established, the switch's loopback advertised", () => {
    const run = runSwitchVerify(60);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(parseSessions(run.stdout), {
      swp1: { state: "Established", advertised: true, lastError: "" },
    });
  });

  it("fails naming the neighbour, its state and FRR's last error when the session is down", () => {
    vtysh(
      SIDES.tor.ns,
      "configure terminal",
      "router bgp 65000",
      "neighbor swp1 interface remote-as 65009",
    );
    const run = runVerify(8);
    assert.equal(run.status, 1);
    const lines = run.stderr.trim().split("\n");
    // The step's summary, its last line, names the neighbour, its state and the error.
    assert.match(
      lines.at(-1)!,
      /^frr-nspawn: h1-bgp-verify on 192\.0\.2\.10: BGP sessions not up after 8s: neighbor ens3 is (Idle|Connect|Active|OpenSent|OpenConfirm) \(last error: [^)]+\)$/,
    );
    const state = parseSessions(run.stdout).ens3;
    assert.notEqual(state.state, "Established");
    assert.equal(state.advertised, false);
    // The switch's side of the same session: its downlink, named with its state and error.
    const tor = runSwitchVerify(5);
    assert.equal(tor.status, 1);
    assert.match(
      tor.stderr.trim().split("\n").at(-1)!,
      /^frr-nspawn: tor-verify on 192\.0\.2\.10: BGP sessions not up after 5s: neighbor swp1 is (Idle|Connect|Active|OpenSent|OpenConfirm) \(last error: [^)]+\)$/,
    );
    assert.equal(parseSessions(tor.stdout).swp1.advertised, false);
  });
});

describe("verify step against real FRR 10.3 daemons (trixie), both sides of a rack", function () {
  this.timeout(300000);
  const root = `/var/tmp/frr-nspawn-verify-${process.pid}`;
  let rack: Rack | undefined;
  const vtyshOf = (box: string) => `chroot ${root} vtysh -N ${rack!.boxes[box].ns}`;

  before(() => {
    assert.equal(process.getuid?.(), 0, "these tests start FRR daemons: run them as root");
    const version = mountTrixieRoot(root);
    rack = new Rack({ bfd: false, gracefulRestart: true }, root, version);
    rack.up();
  });
  after(async () => {
    await rack?.down();
    removeFrrRoot(root);
  });

  it("switch side: every downlink of t1 Established, t1's loopback advertised to each", () => {
    const run = runVerifyWith(
      "t1-verify",
      vtyshOf("t1"),
      ["swp1", "swp2", "swp3"],
      ["10.255.1.1/32"],
      90,
    );
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    const up = { state: "Established", advertised: true, lastError: "" };
    assert.deepEqual(parseSessions(run.stdout), { swp1: up, swp2: up, swp3: up });
  });

  it("host side: both uplinks of the dual-homed h1 Established, its loopback advertised", () => {
    const run = runVerifyWith("h1-verify", vtyshOf("h1"), ["ens3", "ens4"], ["10.255.0.1/32"], 60);
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    const up = { state: "Established", advertised: true, lastError: "" };
    assert.deepEqual(parseSessions(run.stdout), { ens3: up, ens4: up });
  });

  it("a downlink whose host has another AS: only it is named, with its state and 10.3's last error", () => {
    execFileSync(
      "chroot",
      [root, "vtysh", "-N", rack!.boxes.t1.ns].concat([
        "-c",
        "configure terminal",
        "-c",
        "router bgp 65000",
        "-c",
        "neighbor swp3 interface remote-as 65009",
      ]),
    );
    const run = runVerifyWith(
      "t1-verify",
      vtyshOf("t1"),
      ["swp1", "swp2", "swp3"],
      ["10.255.1.1/32"],
      8,
    );
    assert.equal(run.status, 1);
    assert.match(
      run.stderr.trim().split("\n").at(-1)!,
      /^frr-nspawn: t1-verify on 192\.0\.2\.10: BGP sessions not up after 8s: neighbor swp3 is (Idle|Connect|Active|OpenSent|OpenConfirm) \(last error: [^)]+\)$/,
    );
    const sessions = parseSessions(run.stdout);
    assert.equal(sessions.swp1.state, "Established");
    assert.notEqual(sessions.swp3.state, "Established");
  });
});
