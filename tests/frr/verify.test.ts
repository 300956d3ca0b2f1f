/**
 * The verify step against real FRR daemons: two network namespaces joined by a veth
 * (ens3 on the host side, swp1 on the switch side), each with Debian's zebra, staticd
 * and bgpd in an FRR path space of its own, loaded with the package's renders. The
 * rendered verify script runs as the step would, with `vtysh` on its PATH pointing at
 * the host's path space; it must report the session Established with the loopback
 * advertised, and, once the switch expects another AS, fail naming the neighbour, its
 * state and FRR's last error. Needs root and the frr package (.ci/run installs it).
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { renderHostFrrConf, renderSwitchFrrConf } from "../../components/render/frrConf";
import { parseSessions, renderVerify } from "../../components/render/scripts/verify";
import { SEED_HOST, SEED_SWITCH } from "../fixtures";

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

/** Runs the verify script as the step would, FRR's vtysh being the host side's. */
function runVerify(timeoutSeconds: number) {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-verify-"));
  fs.writeFileSync(
    path.join(bin, "vtysh"),
    `#!/bin/sh\nexec /usr/bin/vtysh -N ${SIDES.host.ns} "$@"\n`,
    { mode: 0o755 },
  );
  const text = renderVerify(
    "h1-bgp-verify",
    { kind: "host" },
    { neighbors: ["ens3"], advertise: ["2.2.2.2/32"], timeoutSeconds, frrConf: SIDES.host.conf },
  );
  try {
    // $0 as forLoginShell names the run: `<step> on <host>`.
    return spawnSync("bash", ["-c", text, "h1-bgp-verify on 192.0.2.10"], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
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
  });
});
