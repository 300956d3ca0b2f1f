/**
 * Rendered configs are in FRR's own normalised form: loaded into real FRR daemons
 * (Debian's zebra, bgpd, staticd in a private network namespace and FRR path space),
 * `show running-config` gives back exactly the rendered text and `frr-reload.py --test`
 * finds nothing to change. This is what lets a later reload leave BGP sessions alone.
 * Needs root and the frr and frr-pythontools packages (.ci/run installs them).
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { renderHostFrrConf, renderSwitchFrrConf } from "../../components/render/frrConf";
import { SEED_HOST, SEED_SWITCH } from "../fixtures";

const NS = `frrnspawn-t${process.pid}`;
const SPACE = `frrnspawn-t${process.pid}`;
const ETC = `/etc/frr/${SPACE}`;
const RUN = `/var/run/frr/${SPACE}`;
const DAEMONS = ["zebra", "staticd", "bgpd"];

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function vtysh(...commands: string[]): string {
  return sh("vtysh", ["-N", SPACE, ...commands.flatMap((c) => ["-c", c])]);
}

/** `show running-config` without vtysh's own framing lines. */
function running(): string {
  const lines = vtysh("show running-config").split("\n");
  const start = lines.indexOf("Current configuration:") + 2; // and the "!" after it
  const end = lines.lastIndexOf("end");
  return lines.slice(start, end).join("\n") + "\n";
}

/** Loads `conf` the way BgpLoopback does on a running FRR: frr-reload.py --reload. */
function reload(conf: string): { file: string; testOutput: string } {
  const file = path.join(os.tmpdir(), `frr-nspawn-normalised-${process.pid}.conf`);
  fs.writeFileSync(file, conf);
  sh("/usr/lib/frr/frr-reload.py", ["--reload", "-N", SPACE, file]);
  const test = spawnSync("/usr/lib/frr/frr-reload.py", ["--test", "-N", SPACE, file], {
    encoding: "utf8",
  });
  assert.equal(test.status, 0, test.stderr);
  return { file, testOutput: test.stdout.trim() };
}

describe("rendered frr.conf is FRR's own normalised text (real daemons)", function () {
  this.timeout(60000);
  const hostname = os.hostname();

  before(() => {
    assert.equal(
      process.getuid?.(),
      0,
      "these tests start FRR daemons in a network namespace: run them as root",
    );
    assert.ok(
      fs.existsSync("/usr/lib/frr/frr-reload.py"),
      "frr-reload.py not found: apt-get install frr frr-pythontools",
    );
    sh("ip", ["netns", "add", NS]);
    sh("ip", ["-n", NS, "link", "set", "lo", "up"]);
    for (const [a, b] of [
      ["ens3", "p-ens3"],
      ["ens4", "p-ens4"],
      ["swp1", "p-swp1"],
      ["swp2", "p-swp2"],
    ]) {
      sh("ip", ["-n", NS, "link", "add", a, "type", "veth", "peer", "name", b]);
      sh("ip", ["-n", NS, "link", "set", a, "up"]);
    }
    for (const dir of [ETC, RUN]) {
      fs.mkdirSync(dir, { recursive: true });
      sh("chown", ["frr:frr", dir]);
    }
    fs.writeFileSync(`${ETC}/vtysh.conf`, "service integrated-vtysh-config\n");
    fs.writeFileSync(`${ETC}/frr.conf`, "");
    sh("chown", ["frr:frr", `${ETC}/frr.conf`]);
    for (const d of DAEMONS) {
      sh("ip", [
        "netns",
        "exec",
        NS,
        `/usr/lib/frr/${d}`,
        "-d",
        "-N",
        SPACE,
        "-A",
        "127.0.0.1",
        "-F",
        "traditional",
      ]);
    }
  });

  after(() => {
    for (const d of DAEMONS) {
      const pidFile = `${RUN}/${d}.pid`;
      if (fs.existsSync(pidFile)) {
        try {
          process.kill(Number(fs.readFileSync(pidFile, "utf8")), "SIGTERM");
        } catch {
          // already gone
        }
      }
    }
    spawnSync("ip", ["netns", "del", NS]);
    fs.rmSync(ETC, { recursive: true, force: true });
    fs.rmSync(RUN, { recursive: true, force: true });
  });

  const cases: [string, string][] = [
    ["host, seed parameters", renderHostFrrConf({ ...SEED_HOST, hostname })],
    [
      "host, two uplinks, 4-byte ASN, extra networks",
      renderHostFrrConf({
        ...SEED_HOST,
        hostname,
        asn: 4200000001,
        interfaces: ["ens3", "ens4"],
        networks: ["10.1.0.0/24", "10.2.0.0/16"],
      }),
    ],
    ["switch, seed parameters", renderSwitchFrrConf({ ...SEED_SWITCH, hostname })],
    [
      "switch, two downlinks",
      renderSwitchFrrConf({
        ...SEED_SWITCH,
        hostname,
        downlinks: [
          { port: "swp1", raInterval: 5, raLifetime: 15 },
          { port: "swp2", raInterval: 10, raLifetime: 30 },
        ],
        networks: ["10.9.0.0/24"],
      }),
    ],
  ];
  for (const [title, conf] of cases) {
    it(`${title}: running config equals the render; frr-reload.py --test has nothing to do`, () => {
      const { file, testOutput } = reload(conf);
      try {
        assert.equal(running(), conf);
        assert.equal(testOutput, "");
      } finally {
        fs.rmSync(file, { force: true });
      }
    });
  }

  it("the check can fail: a config in another order is reported by frr-reload.py", () => {
    const conf = renderHostFrrConf({ ...SEED_HOST, hostname });
    reload(conf);
    const reordered = conf
      .replace(" bgp router-id 2.2.2.2\n", "")
      .replace(" neighbor TOR peer-group\n", " neighbor TOR peer-group\n bgp router-id 2.2.2.3\n");
    const tmp = path.join(os.tmpdir(), `frr-nspawn-normalised-x${process.pid}.conf`);
    fs.writeFileSync(tmp, reordered);
    const test = spawnSync("/usr/lib/frr/frr-reload.py", ["--test", "-N", SPACE, tmp], {
      encoding: "utf8",
    });
    fs.rmSync(tmp, { force: true });
    assert.match(test.stdout, /bgp router-id 2\.2\.2\.3/);
  });
});
