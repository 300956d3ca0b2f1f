/**
 * The whole seed scenario on real hosts: lab/hosts.sh boots two systemd hosts (coreos,
 * tor) joined by a veth link; the lab driver applies examples/seed to them over real
 * SSH, building the image with real debootstrap; the assertions read host state back.
 * Needs root and the packages .ci/run installs. Takes minutes (see README.md).
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { parseImageResult } from "../../components/render/image";
import { parseSessions } from "../../components/render/scripts/verify";
import { DIALECTS, SwitchConfig, SwitchDialect } from "../../components/render/switch";
import {
  COREOS_LISTING,
  DRIVER_STATE,
  LAB,
  LAB_SUITE,
  STATE_DIR,
  LabInfo,
  bgpPeers,
  bgpUp,
  driver,
  hostsDown,
  hostsUp,
  inFrr,
  rebootHost,
  seedConfig,
  ssh,
  sshRaw,
  sshInBackground,
  sshScript,
  stateOutputs,
  torFrrVersion,
  torKeys,
  torOwnConfig,
  waitUntil,
} from "../../lab/scenario";

const routeGet = `ip route get ${LAB.tor.loopback}`;
const NEW_NETWORK = "10.255.1.0/24";
/** coreos reaches the root netns side of its management veth: the lab's own address. */
const LAB_HTTP = { address: "10.254.1.1", port: 8099 };
/** Seconds between pings of the outage measurements (20 per second). */
const PING_INTERVAL = 0.05;
/** Pings lost while FRR restarts in the machine (step 7a): the yardstick of step 7. */
let restartLoss = { sent: 0, lost: 0 };
/** The FrrImage's build result, kept by step 7 for the rollback of step 7c. */
let firstImage: ReturnType<typeof parseImageResult>;

/**
 * Pings the tor's loopback from coreos's (20/s) while `action` runs, until BGP is up both
 * ways again and pings answer; returns how many were sent and lost.
 */
async function pingLossDuring(
  lab: LabInfo,
  action: () => void,
): Promise<{ sent: number; lost: number }> {
  const pidFile = "/run/frr-nspawn-lab-ping.pid";
  const done = sshInBackground(
    lab,
    "coreos",
    `ping -i ${PING_INTERVAL} -I ${LAB.coreos.loopback} ${LAB.tor.loopback} > /run/frr-nspawn-lab-ping.out & echo $! > ${pidFile}; wait; tail -2 /run/frr-nspawn-lab-ping.out`,
  );
  let out = "";
  await new Promise((resolve) => setTimeout(resolve, 3000));
  try {
    action();
  } finally {
    waitUntil(() => bgpUp(lab, "coreos", LAB.coreos.nic) && bgpUp(lab, "tor", LAB.tor.port), 120);
    waitUntil(
      () => sshRawStatus(lab, `ping -c 1 -W 1 -I ${LAB.coreos.loopback} ${LAB.tor.loopback}`) === 0,
      60,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    ssh(lab, "coreos", `kill -INT "$(cat ${pidFile})"`);
    out = await done;
  }
  const stats = /(\d+) packets transmitted, (\d+) received/.exec(out);
  assert.ok(stats, `no ping statistics in: ${out}`);
  return { sent: Number(stats[1]), lost: Number(stats[1]) - Number(stats[2]) };
}
/** The seed's switch as TorCumulus "tor" of stack lab renders it. */
const SEED_TOR: SwitchConfig = {
  id: "frr-nspawn-seed-lab-tor",
  description: "frr-nspawn frr-nspawn-seed/lab tor",
  cumulusVersion: "5.9",
  bfd: false,
  bfdCheckControlPlaneFailure: false,
  asn: LAB.tor.asn,
  routerId: LAB.tor.loopback,
  loopback: `${LAB.tor.loopback}/32`,
  downlinks: [{ port: LAB.tor.port, raInterval: 5, raLifetime: 15 }],
  networks: [],
};
/**
 * A second TorCumulus on the same switch, on a port of its own. Its port has no host
 * behind it: the test runs its dialect scripts alone (no verify step); as a component it
 * would need `verify: false`.
 */
const SECOND_TOR: SwitchConfig = {
  ...SEED_TOR,
  id: "frr-nspawn-seed-lab-tor2",
  description: "frr-nspawn frr-nspawn-seed/lab tor2",
  downlinks: [{ port: "swp2", raInterval: 5, raLifetime: 15 }],
  networks: ["10.255.9.0/24"],
};

/** The config after step 5 (a network added); later steps keep it. */
const changed = { hostNetworks: JSON.stringify([NEW_NETWORK]) };

function sshRawStatus(lab: LabInfo, command: string): number | null {
  return sshRaw(lab, "coreos", command).status;
}

function bgpRoutes(lab: LabInfo, host: "coreos" | "tor"): string[] {
  const vtysh = "vtysh -c 'show bgp ipv4 unicast json'";
  const out = ssh(lab, host, host === "coreos" ? inFrr(vtysh) : vtysh);
  return Object.keys((JSON.parse(out) as { routes: Record<string, unknown> }).routes);
}

describe(`lab: the seed scenario on real hosts (${LAB_SUITE} hosts and image)`, function () {
  this.timeout(20 * 60 * 1000);
  let lab: LabInfo;
  let before0: string;
  let torDaemonsBefore: string;
  let torOwnBefore: string[];
  // Set when the suite starts (mocha loads every file of a run first).
  let started = Date.now();

  before(() => {
    assert.equal(process.getuid?.(), 0, "the lab boots systemd-nspawn hosts: run it as root");
    started = Date.now();
    hostsDown();
    fs.rmSync(DRIVER_STATE, { force: true });
    // A lock a killed run left (the driver refuses a locked stack, as the DIY backend does);
    // lab runs are exclusive under flock, so no other run holds it.
    fs.rmSync(`${DRIVER_STATE}.locks`, { recursive: true, force: true });
    lab = hostsUp();
    before0 = ssh(lab, "coreos", COREOS_LISTING);
    torDaemonsBefore = ssh(lab, "tor", "cat /etc/frr/daemons");
    torOwnBefore = torOwnConfig(lab);
    assert.equal(torOwnBefore.length, 5, torOwnBefore.join("\n"));
    // A Cumulus data plane port is down until configured: the nclu dialect brings it up.
    ssh(lab, "tor", "ip link set swp1 down");
    console.log(`      lab hosts up after ${Math.round((Date.now() - started) / 1000)} s`);
  });

  after(() => {
    console.log(`      lab total ${Math.round((Date.now() - started) / 1000)} s`);
    if (process.env.LAB_KEEP === undefined) {
      hostsDown();
    }
  });

  it("previews examples/seed: the provider's Check passes for every step, every script readable, nothing run", () => {
    const summary = driver("preview", seedConfig(lab));
    // Every step's script as a user reads it in the preview ([secret], [unknown] where so).
    for (const p of summary.plan.filter((x) => x.custom)) {
      console.log(`      ${p.action} ${p.type} ${p.name} (Check ${p.check ?? "not run"})`);
      for (const [which, text] of Object.entries(p.scripts ?? {})) {
        console.log(`        ${which}:`);
        text.split("\n").forEach((line) => console.log(`          ${line}`));
      }
    }
    // The provider's Check (pulumi-command 1.2.1, as lab/driver runs it) passed for every resource.
    assert.deepEqual(summary.diagnostics, []);
    assert.deepEqual(
      summary.plan.filter((p) => p.custom && p.check !== "passed").map((p) => p.name),
      [],
    );
    assert.ok(summary.ok, summary.error);
    assert.equal(summary.ran, 0);
    const planned = summary.plan.filter((p) => p.type.startsWith("command:"));
    // 13 steps, and the host library's copy and install by the machine (BgpLoopback, which
    // follows it, sources the machine's).
    assert.equal(planned.length, 15);
    assert.ok(planned.every((p) => p.action === "create"));
    assert.equal(ssh(lab, "coreos", COREOS_LISTING), before0);
  });

  it("applies examples/seed: every step runs once and BGP comes up", () => {
    const summary = driver("up", seedConfig(lab));
    assert.ok(summary.ok, summary.error);
    assert.equal(summary.ran, 15, summary.steps.map((s) => `${s.op} ${s.name}`).join(", "));
    assert.ok(
      waitUntil(() => bgpUp(lab, "coreos", LAB.coreos.nic) && bgpUp(lab, "tor", LAB.tor.port), 90),
      "BGP did not reach Established with a prefix each way within 90 s",
    );
    // The verify step saw the session up before the apply ended, and says so.
    assert.deepEqual(parseSessions(String(stateOutputs("coreos-bgp-verify").stdout)), {
      [LAB.coreos.nic]: { state: "Established", advertised: true, lastError: "" },
    });
    // So did the switch's (TorCumulus's verify, on by default): its downlink, from the tor.
    assert.deepEqual(parseSessions(String(stateOutputs("tor-verify").stdout)), {
      [LAB.tor.port]: { state: "Established", advertised: true, lastError: "" },
    });
    console.log(`      applied and converged after ${Math.round((Date.now() - started) / 1000)} s`);
  });

  it("1. the image was built, its sha256 matches the output, and it imported", () => {
    const result = parseImageResult(String(stateOutputs("frr-image-build").stdout));
    const actual = execFileSync("sha256sum", [result.imagePath], { encoding: "utf8" }).split(
      " ",
    )[0];
    assert.equal(actual, result.sha256);
    // The image and the tor come from the same suite: the same FRR release.
    assert.equal(result.frrVersion, torFrrVersion(lab));
    assert.match(result.frrVersion, LAB_SUITE === "bookworm" ? /^8\.4\./ : /^(9|10)\./);
    // The image's version flows into the machine's frr.conf by default.
    assert.match(
      ssh(lab, "coreos", "cat /var/lib/machines/frr/etc/frr/frr.conf"),
      new RegExp(`^frr version ${result.frrVersion.replace(/\./g, "\\.")}$`, "m"),
    );
    assert.match(ssh(lab, "coreos", "machinectl list-images --no-legend"), /^frr\s/m);
  });

  it("2. the FRR machine runs in coreos's network namespace with CAP_NET_ADMIN, frr active", () => {
    assert.equal(
      ssh(lab, "coreos", "machinectl show frr --property=State --value").trim(),
      "running",
    );
    const leader = ssh(lab, "coreos", "machinectl show frr --property=Leader --value").trim();
    const [hostNs, machineNs] = ssh(lab, "coreos", `readlink /proc/1/ns/net /proc/${leader}/ns/net`)
      .trim()
      .split("\n");
    assert.equal(machineNs, hostNs);
    const capEff = /CapEff:\s*([0-9a-f]+)/.exec(
      ssh(lab, "coreos", `cat /proc/${leader}/status`),
    )![1];
    assert.ok((BigInt(`0x${capEff}`) >> 12n) & 1n, `CAP_NET_ADMIN (12) not in CapEff ${capEff}`);
    assert.equal(ssh(lab, "coreos", inFrr("systemctl is-active frr")).trim(), "active");
    // Graceful restart (BgpLoopback's default): frr.service stops zebra first (the drop-in
    // of renderFrrStopDropIn), as the machine's systemd has loaded it.
    const execStop = ssh(lab, "coreos", inFrr("systemctl show frr --property=ExecStop"));
    assert.match(execStop, /daemon_stop zebra --quiet/);
    assert.match(execStop, /frrinit\.sh stop/);
  });

  it("2b. in coreos's network namespace no FRR daemon listens beyond loopback, except bgpd on 179", () => {
    const frr = /^(zebra|bgpd|staticd|mgmtd|watchfrr|ospfd|ripd|isisd|bfdd|pathd)$/;
    const listening = ssh(lab, "coreos", "ss -ltunpH")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => ({
        proc: /users:\(\("([^"]+)"/.exec(l)?.[1] ?? "?",
        local: l.trim().split(/\s+/)[4],
      }))
      .filter((x) => frr.test(x.proc));
    console.log(`      FRR listeners: ${listening.map((x) => `${x.proc} ${x.local}`).join(", ")}`);
    assert.ok(
      listening.some((x) => x.proc === "bgpd" && /:179$/.test(x.local)),
      "bgpd is not on 179",
    );
    const exposed = listening.filter(
      (x) =>
        !/^(127\.0\.0\.1|\[::1\]|\[::ffff:127\.0\.0\.1\]):[0-9]+$/.test(x.local) &&
        !(x.proc === "bgpd" && /:179$/.test(x.local)),
    );
    assert.deepEqual(exposed, []);
  });

  it("3. BGP unnumbered: both sides Established, each learns the other's /32, ping between loopbacks", () => {
    assert.equal(bgpPeers(lab, "coreos")[LAB.coreos.nic].state, "Established");
    assert.equal(bgpPeers(lab, "tor")[LAB.tor.port].state, "Established");
    assert.ok(bgpRoutes(lab, "coreos").includes(`${LAB.tor.loopback}/32`));
    assert.ok(bgpRoutes(lab, "tor").includes(`${LAB.coreos.loopback}/32`));
    const route = ssh(lab, "coreos", routeGet);
    assert.match(
      route,
      new RegExp(`dev ${LAB.coreos.nic} src ${LAB.coreos.loopback.replace(/\./g, "\\.")}`),
    );
    assert.match(route, /via (169\.254\.0\.1|inet6 fe80::[0-9a-f:]+) /);
    assert.match(
      ssh(lab, "coreos", `ping -c 3 -W 2 -I ${LAB.coreos.loopback} ${LAB.tor.loopback}`),
      / 0% packet loss/,
    );
  });

  it("3b. NCLU (default dialect): port up, RA per port, commit described, the tor's own config untouched", () => {
    // As the stand-in lists it, like the documented listings: a port with settings only
    // with them, the neighbour as frr.conf has it; RA itself needs no line.
    const commands = ssh(lab, "tor", "net show configuration commands");
    for (const line of [
      "net add interface swp1 ipv6 nd ra-interval 5",
      "net add interface swp1 ipv6 nd ra-lifetime 15",
      "net add bgp neighbor swp1 interface remote-as external",
      `net add loopback lo ip address ${LAB.tor.loopback}/32`,
    ]) {
      assert.ok(commands.split("\n").includes(line), `missing ${line}:\n${commands}`);
    }
    assert.doesNotMatch(commands, /suppress-ra/);
    assert.match(ssh(lab, "tor", "ip -o link show dev swp1"), /<[^>]*\bUP\b/);
    assert.match(
      ssh(lab, "tor", "net show commit history"),
      /frr-nspawn frr-nspawn-seed\/lab tor$/m,
    );
    assert.doesNotMatch(ssh(lab, "tor", "net pending"), /^\S+ +\d{4}-\d\d-\d\d .* net /m);
    assert.deepEqual(torOwnConfig(lab), torOwnBefore);
  });

  it("4. a second apply with no change runs zero commands", () => {
    const summary = driver("up", seedConfig(lab));
    assert.ok(summary.ok, summary.error);
    assert.equal(summary.ran, 0, summary.steps.map((s) => `${s.op} ${s.name}`).join(", "));
  });

  it("5. adding a network reloads frr.conf alone: no session reset, no ping lost", async () => {
    // Something in coreos's RIB to announce (BGP's import check wants it there).
    ssh(lab, "coreos", `ip route replace blackhole ${NEW_NETWORK}`);
    const peersBefore = [
      bgpPeers(lab, "coreos")[LAB.coreos.nic],
      bgpPeers(lab, "tor")[LAB.tor.port],
    ];
    const pingDone = sshInBackground(
      lab,
      "coreos",
      `ping -i 0.05 -w 20 -I ${LAB.coreos.loopback} ${LAB.tor.loopback} | tail -2`,
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const summary = driver("up", seedConfig(lab, changed));
    assert.ok(summary.ok, summary.error);
    assert.deepEqual(
      summary.steps.map((s) => `${s.op} ${s.name}`),
      ["update coreos-bgp-frr-conf", "update coreos-bgp-verify"],
    );
    assert.ok(
      waitUntil(() => bgpRoutes(lab, "tor").includes(NEW_NETWORK), 30),
      `tor never learned ${NEW_NETWORK}`,
    );
    const pingOut = await pingDone;

    const stats = /(\d+) packets transmitted, (\d+) received/.exec(pingOut);
    assert.ok(stats, `no ping statistics in: ${pingOut}`);
    assert.ok(Number(stats[1]) > 200, `only ${stats[1]} pings were sent`);
    assert.equal(stats[2], stats[1], `pings lost during the reload: ${pingOut}`);
    const peersAfter = [
      bgpPeers(lab, "coreos")[LAB.coreos.nic],
      bgpPeers(lab, "tor")[LAB.tor.port],
    ];
    for (let i = 0; i < 2; i++) {
      assert.equal(
        peersAfter[i].connectionsEstablished,
        peersBefore[i].connectionsEstablished,
        "a session was re-established",
      );
      assert.equal(
        peersAfter[i].connectionsDropped,
        peersBefore[i].connectionsDropped,
        "a session dropped",
      );
    }
    assert.match(
      ssh(lab, "coreos", inFrr("vtysh -c 'show running-config'")),
      new RegExp(`^  network ${NEW_NETWORK.replace(/\./g, "\\.")}$`, "m"),
    );
  });

  it("6. coreos reboots: loopback, sysctls, machine and BGP come back by themselves", () => {
    rebootHost("coreos");
    assert.ok(
      waitUntil(() => bgpUp(lab, "coreos", LAB.coreos.nic) && bgpUp(lab, "tor", LAB.tor.port), 120),
      "BGP did not come back within 120 s of the reboot",
    );
    assert.match(
      ssh(lab, "coreos", "ip -4 -o address show dev lo"),
      new RegExp(` ${LAB.coreos.loopback.replace(/\./g, "\\.")}/32 `),
    );
    assert.equal(
      ssh(
        lab,
        "coreos",
        "sysctl -n net.ipv6.conf.all.disable_ipv6 net.ipv6.conf.default.disable_ipv6 net.ipv6.conf.ens3.disable_ipv6",
      ),
      "0\n0\n0\n",
    );
    assert.equal(
      ssh(lab, "coreos", "machinectl show frr --property=State --value").trim(),
      "running",
    );
    assert.match(
      ssh(lab, "coreos", `ping -c 3 -W 2 -I ${LAB.coreos.loopback} ${LAB.tor.loopback}`),
      / 0% packet loss/,
    );
  });

  it("6b. the seed's own unit override works too, and switching back restores least privilege", () => {
    const leaderCaps = () => {
      const leader = ssh(lab, "coreos", "machinectl show frr --property=Leader --value").trim();
      return /CapEff:\s*([0-9a-f]+)/.exec(ssh(lab, "coreos", `cat /proc/${leader}/status`))![1];
    };
    const converged = () =>
      waitUntil(() => bgpUp(lab, "coreos", LAB.coreos.nic) && bgpUp(lab, "tor", LAB.tor.port), 120);
    const leastPrivilege = leaderCaps();

    let summary = driver("up", seedConfig(lab, { ...changed, machineSettings: "unit-override" }));
    assert.ok(summary.ok, summary.error);
    assert.deepEqual(
      summary.steps.map((s) => `${s.op} ${s.name}`),
      ["update coreos-frr-settings"],
    );
    assert.ok(converged(), "BGP did not come back with the unit override");
    assert.match(
      ssh(lab, "coreos", "cat /etc/systemd/system/systemd-nspawn@frr.service.d/frr-nspawn.conf"),
      / --capability=all /,
    );
    assert.equal(sshRawStatus(lab, "test -e /etc/systemd/nspawn/frr.nspawn"), 1);
    assert.ok(
      BigInt(`0x${leaderCaps()}`) > BigInt(`0x${leastPrivilege}`),
      "the override grants more capabilities",
    );

    summary = driver("up", seedConfig(lab, changed));
    assert.ok(summary.ok, summary.error);
    assert.ok(converged(), "BGP did not come back with the settings file");
    assert.equal(leaderCaps(), leastPrivilege);
    assert.equal(sshRawStatus(lab, "test -e /etc/systemd/system/systemd-nspawn@frr.service.d"), 1);
  });

  it("7a. baseline: pings lost while FRR restarts inside the machine", async () => {
    restartLoss = await pingLossDuring(lab, () => {
      ssh(lab, "coreos", inFrr("systemctl restart frr"));
    });
    console.log(
      `      systemctl restart frr: ${restartLoss.lost} of ${restartLoss.sent} pings lost (${(restartLoss.lost * PING_INTERVAL).toFixed(2)} s)`,
    );
    assert.ok(restartLoss.sent > 100, `only ${restartLoss.sent} pings were sent`);
    // Issue 11's goal, met with graceful restart (the default): frr.service stops zebra
    // first, and frr.conf has its policy before `router bgp` (README, "Failover and
    // hitless restarts").
    assert.equal(restartLoss.lost, 0, "pings lost across systemctl restart frr");
  });

  it("7. a new image from a URL goes in beside the old one; the outage is about an FRR restart", async () => {
    const built = parseImageResult(String(stateOutputs("frr-image-build").stdout));
    firstImage = built;
    // The same rootfs as a plain tar (another image, another checksum), served over
    // http from the lab's own management address for coreos to download.
    const served = fs.mkdtempSync(path.join(STATE_DIR, "served-"));
    execFileSync("sh", ["-c", `gzip -dc '${built.imagePath}' > '${served}/frr-image.tar'`]);
    const sha = execFileSync("sha256sum", [`${served}/frr-image.tar`], { encoding: "utf8" }).split(
      " ",
    )[0];
    const server = spawn(
      "python3",
      ["-m", "http.server", "--bind", LAB_HTTP.address, String(LAB_HTTP.port)],
      {
        cwd: served,
        stdio: "ignore",
      },
    );
    let ops: string[] = [];
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const url = `http://${LAB_HTTP.address}:${LAB_HTTP.port}/frr-image.tar`;
      const loss = await pingLossDuring(lab, () => {
        const summary = driver(
          "up",
          seedConfig(lab, { ...changed, imageUrl: url, imageSha256: sha }),
        );
        assert.ok(summary.ok, summary.error);
        ops = summary.steps.map((s) => `${s.op} ${s.name}`);
      });
      console.log(
        `      new image: ${loss.lost} of ${loss.sent} pings lost (${(loss.lost * PING_INTERVAL).toFixed(2)} s); restart: ${restartLoss.lost}`,
      );
      // The goal (issue 7): at most 1.2 times a restart's outage, 2 pings (0.1 s) of slack
      // for the stream's granularity. The delete-first replacement this replaced lost
      // 198-231 pings at ~18 per second (11-13 s).
      const goal = Math.max(restartLoss.lost * 1.2, restartLoss.lost + 2);
      console.log(
        `      goal ${goal.toFixed(0)} pings (1.2 x restart): ${loss.lost <= goal ? "met" : "NOT met"}`,
      );
      assert.ok(
        loss.lost <= goal,
        `the image replacement lost ${loss.lost} pings; goal ${goal.toFixed(0)} (restart: ${restartLoss.lost})`,
      );
    } finally {
      server.kill();
      fs.rmSync(served, { recursive: true, force: true });
    }
    // Imported beside (create first), the machine switched by an update of the start step.
    assert.ok(ops.includes("create coreos-frr-fetch"), ops.join(", "));
    const importCreate = ops.indexOf("create coreos-frr-import");
    const importDelete = ops.indexOf("delete coreos-frr-import");
    assert.ok(importCreate >= 0 && importDelete > importCreate, ops.join(", "));
    assert.ok(ops.includes("update coreos-frr-start"), ops.join(", "));
    assert.ok(!ops.includes("delete coreos-frr-start"), ops.join(", "));
    assert.ok(ops.includes("delete frr-image-build"), ops.join(", "));
    assert.ok(
      ops.includes("update coreos-bgp-daemons") && ops.includes("update coreos-bgp-frr-conf"),
      ops.join(", "),
    );
    assert.ok(
      waitUntil(() => bgpUp(lab, "coreos", LAB.coreos.nic) && bgpUp(lab, "tor", LAB.tor.port), 120),
      "BGP did not come back on the new image",
    );
    assert.equal(ssh(lab, "coreos", "cat /var/lib/frr-nspawn/frr/active").trim(), sha.slice(0, 16));
    // The previous image is kept for a rollback.
    const previous = built.recipeHash.slice(0, 16);
    assert.equal(ssh(lab, "coreos", "cat /var/lib/frr-nspawn/frr/previous").trim(), previous);
    assert.match(
      ssh(lab, "coreos", "machinectl list-images --no-legend"),
      new RegExp(`^frr-${previous}\\s`, "m"),
    );
    assert.match(ssh(lab, "coreos", "cat /etc/systemd/nspawn/frr.nspawn"), /^VirtualEthernet=no$/m);
    assert.ok(
      !ssh(lab, "coreos", "ls /var/tmp").includes(previous),
      "the old tarball is still on coreos",
    );
  });

  it("7b. an image that does not start: the old one comes back running, and the step fails", async () => {
    const served = fs.mkdtempSync(path.join(STATE_DIR, "served-"));
    // A tarball that imports but is no OS: nspawn refuses to boot it.
    fs.mkdirSync(path.join(served, "root", "etc"), { recursive: true });
    fs.writeFileSync(path.join(served, "root", "etc", "hostname"), "broken\n");
    execFileSync("tar", [
      "-C",
      path.join(served, "root"),
      "-cf",
      path.join(served, "broken.tar"),
      ".",
    ]);
    const sha = execFileSync("sha256sum", [`${served}/broken.tar`], { encoding: "utf8" }).split(
      " ",
    )[0];
    const activeBefore = ssh(lab, "coreos", "cat /var/lib/frr-nspawn/frr/active").trim();
    const server = spawn(
      "python3",
      ["-m", "http.server", "--bind", LAB_HTTP.address, String(LAB_HTTP.port)],
      { cwd: served, stdio: "ignore" },
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const url = `http://${LAB_HTTP.address}:${LAB_HTTP.port}/broken.tar`;
      const summary = driver(
        "up",
        seedConfig(lab, { ...changed, imageUrl: url, imageSha256: sha }),
      );
      assert.ok(!summary.ok, "an image that cannot boot was reported as applied");
      assert.match(String(summary.error), /did not come up: putting the previous image back/);
    } finally {
      server.kill();
      fs.rmSync(served, { recursive: true, force: true });
    }
    assert.equal(ssh(lab, "coreos", "cat /var/lib/frr-nspawn/frr/active").trim(), activeBefore);
    assert.equal(
      ssh(lab, "coreos", "machinectl show frr --property=State --value").trim(),
      "running",
    );
    assert.ok(
      waitUntil(() => bgpUp(lab, "coreos", LAB.coreos.nic) && bgpUp(lab, "tor", LAB.tor.port), 120),
      "BGP did not come back on the old image",
    );
  });

  it("7c. rolling back to the previous image reuses it (no import) and BGP comes back", () => {
    const previous = firstImage.recipeHash.slice(0, 16);
    const summary = driver("up", seedConfig(lab, changed));
    assert.ok(summary.ok, summary.error);
    const ops = summary.steps.map((s) => `${s.op} ${s.name}`);
    assert.ok(ops.includes("update coreos-frr-start"), ops.join(", "));
    assert.equal(ssh(lab, "coreos", "cat /var/lib/frr-nspawn/frr/active").trim(), previous);
    assert.ok(
      waitUntil(() => bgpUp(lab, "coreos", LAB.coreos.nic) && bgpUp(lab, "tor", LAB.tor.port), 120),
      "BGP did not come back on the previous image",
    );
  });

  // Every other dialect on the same booted lab (no reboot): the seed's switch lines are
  // taken off with NCLU's remove, then each dialect creates, updates and destroys them
  // (with a second TorCumulus on the same switch) while coreos's BGP stays as it is.
  const dialects: [string, SwitchDialect, string][] = [
    ["nvue (Cumulus 5.9 syntax)", DIALECTS.nvue, "5.9"],
    ["nvue (Cumulus 5.15 syntax)", DIALECTS.nvue, "5.15"],
    ["vtysh (plain FRR: the lab suite's release)", DIALECTS.vtysh, "5.9"],
  ];
  const runOn = (script: string) => {
    const r = sshScript(lab, "tor", script);
    assert.equal(r.status, 0, r.out);
    return r.out;
  };
  const torUp = () => bgpUp(lab, "coreos", LAB.coreos.nic) && bgpUp(lab, "tor", LAB.tor.port);

  it("7d. NCLU's remove takes only the seed's own lines off the tor (the BGP session goes)", () => {
    // A second port for the second resource (the tor has no dummy driver: a veth pair).
    ssh(
      lab,
      "tor",
      "ip link show swp2 >/dev/null 2>&1 || ip link add swp2 type veth peer name swp2p",
    );
    runOn(DIALECTS.nclu.removeScript("lab-nclu", SEED_TOR));
    assert.ok(
      !torKeys(lab).includes("router bgp 65000 / neighbor swp1 interface remote-as external"),
    );
    assert.ok(torKeys(lab).includes(`interface lo / ip address ${LAB.tor.loopback}/32`));
    assert.deepEqual(torOwnConfig(lab), torOwnBefore);
  });

  for (const [title, d, version] of dialects) {
    it(`7e. ${title}: create, a second resource, update, destroy each; BGP and pings real, the tor's own config untouched`, () => {
      ssh(lab, "tor", `echo ${version} > /etc/frr-nspawn-lab/cumulus-version`);
      const a = { ...SEED_TOR, cumulusVersion: version };
      const b = { ...SECOND_TOR, cumulusVersion: version };
      runOn(d.applyScript(`lab-${d.cli}`, a));
      assert.ok(waitUntil(torUp, 90), `BGP did not come up with ${title}`);
      assert.match(
        ssh(lab, "coreos", `ping -c 3 -W 2 -I ${LAB.coreos.loopback} ${LAB.tor.loopback}`),
        / 0% packet loss/,
      );
      const session = bgpPeers(lab, "tor")[LAB.tor.port].connectionsEstablished;
      runOn(d.applyScript(`lab-${d.cli}-2`, b));
      // An update; what the stack then holds is what its destroy removes.
      const a2 = { ...a, downlinks: [{ port: LAB.tor.port, raInterval: 10, raLifetime: 30 }] };
      runOn(d.applyScript(`lab-${d.cli}`, a2));
      const keys = torKeys(lab);
      assert.ok(keys.includes("interface swp1 / ipv6 nd ra-interval 10"), keys.join("\n"));
      assert.ok(keys.includes("router bgp 65000 / neighbor swp2 interface remote-as external"));
      assert.deepEqual(torOwnConfig(lab), torOwnBefore);
      runOn(d.removeScript(`lab-${d.cli}-2`, b));
      assert.ok(
        !torKeys(lab).includes("router bgp 65000 / neighbor swp2 interface remote-as external"),
      );
      assert.ok(torUp(), "the first resource's session went with the second's destroy");
      assert.equal(
        bgpPeers(lab, "tor")[LAB.tor.port].connectionsEstablished,
        session,
        "the session was reset by an update or by the other resource",
      );
      if (d.cli === "nvue") {
        assert.match(
          ssh(lab, "tor", "nv config history"),
          /message: frr-nspawn frr-nspawn-seed\/lab tor2 \(destroy\)/,
        );
      }
      runOn(d.removeScript(`lab-${d.cli}`, a2));
      assert.deepEqual(
        torKeys(lab).filter((k) => k.includes("swp1")),
        [],
        "the first resource's lines are not all gone",
      );
      assert.deepEqual(torOwnConfig(lab), torOwnBefore);
    });
  }

  it("7f. NCLU puts the seed's lines back (what the stack's state says is there)", () => {
    ssh(lab, "tor", "echo 5.9 > /etc/frr-nspawn-lab/cumulus-version; ip link del swp2");
    runOn(DIALECTS.nclu.applyScript("lab-nclu", SEED_TOR));
    assert.ok(waitUntil(torUp, 90), "BGP did not come back with NCLU");
  });

  it("8. destroy leaves coreos as it was and the tor without the lab's BGP config", () => {
    const summary = driver("destroy", seedConfig(lab, changed));
    assert.ok(summary.ok, summary.error);
    // Every step that leaves something of its own has a delete: 4 BGP, start, settings,
    // import, verify (which removes what the push copied), the switch step, build, and the
    // machine's -lib. CopyToRemote has none; the push and the two session checks
    // (bgp-verify, the switch's verify) leave nothing of their own to undo.
    assert.equal(summary.ran, 11, summary.steps.map((s) => `${s.op} ${s.name}`).join(", "));
    assert.equal(ssh(lab, "coreos", COREOS_LISTING), before0);
    // The seed's own lines are gone; switch-wide settings and the tor's own config stay.
    const keys = torKeys(lab);
    assert.ok(!keys.some((k) => k.includes("swp1")), keys.join("\n"));
    assert.ok(keys.includes("router bgp 65000 / bgp router-id 10.255.0.2"));
    assert.deepEqual(torOwnConfig(lab), torOwnBefore);
    assert.equal(ssh(lab, "tor", "cat /etc/frr/daemons"), torDaemonsBefore);
  });
});
