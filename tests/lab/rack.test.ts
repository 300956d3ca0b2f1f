/**
 * The rack on real hosts: lab/hosts.sh's `rack` topology boots two CoreOS stand-ins (h1,
 * h2) and two switches (t1, t2), each host cabled to both switches; the lab driver
 * applies examples/rack (hosts in waves of one, NCLU on the switches) over real SSH; the
 * assertions read host and switch state back. A 20-per-second ping between the hosts'
 * loopbacks runs while an uplink goes down, a switch hangs (with the switches' default
 * timers, then with BFD), and a host's FRR restarts; `RACK-LAB` lines give the pings lost.
 * Needs root and the packages .ci/run installs.
 *
 * Reproduce: `npx mocha tests/lab/rack.test.ts` (as root), then `grep RACK-LAB`.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { parseImageResult } from "../../components/render/image";
import { parseSessions } from "../../components/render/scripts/verify";
import {
  HOSTS,
  PingResult,
  RACK,
  RackChange,
  RACK_STATE_DIR,
  SWITCHES,
  UPLINK_SWITCH,
  bgpIdentity,
  pathOf,
  pingDuring,
  rackConfig,
  rackConverged,
  routeDevs,
} from "../../lab/rack";
import {
  LabInfo,
  driver,
  driverState,
  freezeHost,
  hostsDown,
  hostsUp,
  inFrr,
  ssh,
  stateOutputs,
  torKeys,
  waitUntil,
} from "../../lab/scenario";

const MS_PER_PING = 50;

function report(title: string, r: { sent: number; lost: number }): void {
  console.log(
    `      RACK-LAB ${title}: ${r.lost}/${r.sent} pings lost (${r.lost * MS_PER_PING} ms)`,
  );
}

/** A switch's config of its own (lab/lib/rootfs.sh): its spine neighbour and route-map. */
function ownConfig(lab: LabInfo, name: string): string[] {
  return torKeys(lab, name).filter(
    (k) => k.includes("192.0.2.254") || k.startsWith("route-map SPINE-IN"),
  );
}

function converge(lab: LabInfo, seconds = 120): void {
  assert.ok(
    waitUntil(() => rackConverged(lab), seconds),
    "the rack did not converge",
  );
}

describe(`lab: a rack of dual-homed hosts on two switches (examples/rack)`, function () {
  this.timeout(20 * 60 * 1000);
  let lab: LabInfo;
  const own: Record<string, string[]> = {};
  /** What the stack runs now: later changes keep the image the rollout put in. */
  let deployed: RackChange = {};
  // Set when the suite starts (mocha loads every file of a run first).
  let started = Date.now();

  before(() => {
    assert.equal(process.getuid?.(), 0, "the lab boots systemd-nspawn hosts: run it as root");
    started = Date.now();
    hostsDown("rack");
    fs.rmSync(driverState(RACK), { force: true });
    fs.rmSync(`${driverState(RACK)}.locks`, { recursive: true, force: true });
    lab = hostsUp("rack");
    for (const name of Object.keys(SWITCHES)) {
      own[name] = ownConfig(lab, name);
      assert.equal(own[name].length, 5, own[name].join("\n"));
      // A Cumulus data plane port is down until configured: the nclu dialect brings it up.
      ssh(lab, name, "ip link set swp1 down; ip link set swp2 down");
    }
    console.log(`      rack hosts up after ${Math.round((Date.now() - started) / 1000)} s`);
  });

  after(() => {
    console.log(`      rack lab total ${Math.round((Date.now() - started) / 1000)} s`);
    if (process.env.LAB_KEEP === undefined) {
      hostsDown("rack");
    }
    for (const dir of fs.readdirSync(RACK_STATE_DIR).filter((d) => d.startsWith("image-"))) {
      fs.rmSync(path.join(RACK_STATE_DIR, dir), { recursive: true, force: true });
    }
  });

  it("applies examples/rack wave by wave: h2 starts once h1 has verified both uplinks", () => {
    const summary = driver("up", rackConfig(lab), false, RACK);
    assert.ok(summary.ok, summary.error);
    const order = summary.steps.map((s) => `${s.op} ${s.name}`);
    const h1Verified = order.indexOf("create h1-bgp-verify");
    const h2First = order.findIndex((s) => s.includes(" h2-"));
    assert.ok(h1Verified >= 0 && h2First > h1Verified, order.join(", "));
    for (const name of Object.keys(HOSTS)) {
      assert.deepEqual(parseSessions(String(stateOutputs(`${name}-bgp-verify`, RACK).stdout)), {
        ens3: { state: "Established", advertised: true, lastError: "" },
        ens4: { state: "Established", advertised: true, lastError: "" },
      });
    }
    converge(lab);
    console.log(`      applied and converged after ${Math.round((Date.now() - started) / 1000)} s`);
  });

  it("ECMP: each host's loopback is in the other's kernel through both switches", () => {
    assert.deepEqual(routeDevs(lab, "h1", "h2"), ["ens3", "ens4"]);
    assert.deepEqual(routeDevs(lab, "h2", "h1"), ["ens3", "ens4"]);
    for (const name of Object.keys(SWITCHES)) {
      // Each switch reaches each host over its own port to it.
      const routes = ssh(lab, name, "ip -4 route show proto bgp");
      assert.match(routes, /^10\.255\.0\.11 .*dev swp1/m, routes);
      assert.match(routes, /^10\.255\.0\.12 .*dev swp2/m, routes);
    }
  });

  it("h1 (dual-homed) restarts FRR in its machine: no ping lost", async () => {
    const r = await pingDuring(lab, "h2", "h1", 20, () => {
      ssh(lab, "h1", inFrr("systemctl restart frr"));
    });
    report("FRR restart of dual-homed h1 (graceful restart)", r);
    converge(lab);
    assert.equal(r.lost, 0, r.output);
  });

  it("a new image, rolled out wave by wave: h1's and h2's machines replaced, no ping lost", async () => {
    const built = parseImageResult(String(stateOutputs("frr-image-build", RACK).stdout));
    // The same rootfs as a plain tar: another image, another checksum, pushed from here.
    const dir = fs.mkdtempSync(path.join(RACK_STATE_DIR, "image-"));
    const tar = path.join(dir, "frr-image.tar");
    execFileSync("sh", ["-c", `gzip -dc '${built.imagePath}' > '${tar}'`]);
    const sha256 = execFileSync("sha256sum", [tar], { encoding: "utf8" }).split(" ")[0];
    let ops: string[] = [];
    deployed = { image: { path: tar, sha256 } };
    const r = await pingDuring(lab, "h2", "h1", undefined, () => {
      const summary = driver("up", rackConfig(lab, deployed), false, RACK);
      assert.ok(summary.ok, summary.error);
      ops = summary.steps.map((s) => `${s.op} ${s.name}`);
    });
    report("new image on h1 then h2 (dual-homed, waves of one)", r);
    // h1's machine switched and verified before h2's was touched.
    const h1Verified = ops.indexOf("update h1-bgp-verify");
    const h2First = ops.findIndex((s) => s.includes(" h2-"));
    assert.ok(
      ops.includes("update h1-frr-start") && ops.includes("update h2-frr-start"),
      ops.join(", "),
    );
    assert.ok(h1Verified >= 0 && h2First > h1Verified, ops.join(", "));
    for (const name of Object.keys(HOSTS)) {
      assert.equal(
        ssh(lab, name, "cat /var/lib/frr-nspawn/frr/active").trim(),
        sha256.slice(0, 16),
      );
    }
    assert.equal(r.lost, 0, r.output);
  });

  it("the uplink carrying h1's pings goes down: traffic moves to the other switch", async () => {
    const uplink = pathOf(lab, "h1", "h2");
    const r = await pingDuring(lab, "h1", "h2", 8, () => {
      ssh(lab, "h1", `ip link set ${uplink} down`);
    });
    ssh(lab, "h1", `ip link set ${uplink} up`);
    report(`h1's uplink ${uplink} down`, r);
    converge(lab);
    // Carrier loss is seen at once on both ends, without BFD.
    assert.ok(r.lost * MS_PER_PING < 1000, r.output);
  });

  /** Freezes the switch on h1's path to h2 (FRR stopped, forwarding off) for the ping. */
  async function switchHangs(title: string): Promise<PingResult> {
    const tor = UPLINK_SWITCH[pathOf(lab, "h1", "h2")];
    const r = await pingDuring(lab, "h1", "h2", 16, () => {
      ssh(lab, tor, "sysctl -qw net.ipv4.ip_forward=0");
      freezeHost(tor, true, "rack");
    });
    freezeHost(tor, false, "rack");
    ssh(lab, tor, "sysctl -qw net.ipv4.ip_forward=1");
    report(`switch ${tor} on the path hangs, ${title}`, r);
    converge(lab, 180);
    return r;
  }

  it("the switch on the path hangs, default timers: only the hold timer notices", async () => {
    const r = await switchHangs("default timers");
    // The switches' datacenter defaults (keepalive 3 s, hold 9 s) bound the loss.
    assert.ok(r.lost > 40 && r.lost * MS_PER_PING <= 12000, r.output);
  });

  it("BFD turned on for the rack (a change applied wave by wave)", () => {
    deployed = { ...deployed, bfd: true };
    const summary = driver("up", rackConfig(lab, deployed), false, RACK);
    assert.ok(summary.ok, summary.error);
    converge(lab);
    // A BFD session starts once its BGP session is up, and comes up a moment later.
    for (const name of Object.keys(HOSTS)) {
      const peers = () => ssh(lab, name, inFrr("vtysh -c 'show bfd peers brief'"));
      const up = () => (peers().match(/\bup\b/g) ?? []).length === 2;
      assert.ok(waitUntil(up, 15), peers());
    }
  });

  it("the switch on the path hangs, with BFD: failover under 1 s", async () => {
    const r = await switchHangs("with BFD");
    assert.ok(r.lost * MS_PER_PING < 1000, r.output);
  });

  it("a broken change stops after the first wave: h1 fails its verify, h2 is untouched", () => {
    const h2Before = bgpIdentity(lab, "h2");
    // Every host's AS set to the switches' own: a copy-paste mistake the switches refuse.
    const summary = driver("up", rackConfig(lab, { ...deployed, hostAsn: 65000 }), false, RACK);
    assert.ok(!summary.ok, "the broken change applied");
    const ran = summary.steps.map((s) => `${s.op} ${s.name}`);
    const failure =
      /frr-nspawn: h1-bgp-verify on 10\.254\.11\.2: BGP sessions not up after 45s: neighbor ens3 is \w+ \(last error: [^)]+\)[^\n"\\]*/.exec(
        summary.error ?? "",
      );
    console.log(
      `      RACK-LAB broken change: ran ${ran.join(", ")}; failed with: ${failure?.[0]}`,
    );
    assert.ok(failure, summary.error);
    assert.ok(ran.includes("update h1-bgp-frr-conf"), ran.join(", "));
    assert.deepEqual(
      ran.filter((s) => s.includes(" h2-")),
      [],
    );
    assert.equal(bgpIdentity(lab, "h2"), h2Before);
    // Putting the change right brings h1 back; h2 has nothing to do.
    const fixed = driver("up", rackConfig(lab, deployed), false, RACK);
    assert.ok(fixed.ok, fixed.error);
    const fixedRan = fixed.steps.map((s) => `${s.op} ${s.name}`);
    assert.deepEqual(
      fixedRan.filter((s) => s.includes(" h2-")),
      [],
    );
    converge(lab);
    assert.equal(bgpIdentity(lab, "h2"), h2Before);
  });

  it("destroy: the machines go, the switches keep their own config", () => {
    // A host's BgpLoopback sources its NspawnMachine's host library: one file, one marker.
    const library =
      "ls -1A /var/lib/frr-nspawn/lib/*.users 2>&1 | wc -l; ls -1A ~ | grep -c '^frr-nspawn-' || true";
    for (const name of Object.keys(HOSTS)) {
      assert.equal(ssh(lab, name, "ls -1 /var/lib/frr-nspawn/lib/*.sh | wc -l").trim(), "1");
      assert.equal(ssh(lab, name, library).trim(), "1\n0");
    }
    const summary = driver("destroy", rackConfig(lab, deployed), false, RACK);
    assert.ok(summary.ok, summary.error);
    for (const name of Object.keys(HOSTS)) {
      assert.equal(ssh(lab, name, "machinectl list --no-legend | wc -l").trim(), "0");
      // The last of them removed the library, and nothing of frr-nspawn's is left.
      assert.equal(
        ssh(lab, name, "ls -1A /var/lib/frr-nspawn 2>&1 || true").trim(),
        "ls: cannot access '/var/lib/frr-nspawn': No such file or directory",
      );
    }
    for (const name of Object.keys(SWITCHES)) {
      assert.deepEqual(ownConfig(lab, name), own[name]);
      const keys = torKeys(lab, name).filter((k) => /swp\d/.test(k));
      assert.deepEqual(keys, []);
    }
  });
});
