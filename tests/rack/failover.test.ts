/**
 * The rack (tests/rack/rig.ts): two dual-homed hosts and one single-homed host on two
 * TORs, real FRR daemons in network namespaces, the hosts' frr.conf and daemons file
 * rendered by the package (BgpLoopback's `bfd` and `gracefulRestart`). A 20-per-second
 * ping between loopbacks runs while a link goes down, a TOR's daemons stop, a TOR hangs,
 * and a host's FRR restarts; the pings lost are printed (`RACK …` lines) and the goals
 * they meet asserted. Needs root, the frr and iputils-ping packages (.ci/run installs
 * them) and, for the FRR 10 case, the trixie rootfs of tests/frr/rootfs.sh.
 *
 * Reproduce: `npx mocha tests/rack/failover.test.ts` (as root), then `grep RACK`.
 */
import * as assert from "node:assert/strict";

import { mountTrixieRoot, removeFrrRoot } from "../frr/trixieRoot";
import { Rack, sleep } from "./rig";

const MS_PER_PING = 50;
/** Full ECMP: every host reaches the others' loopbacks over each of its uplinks. */
const CONVERGED: [string, string, string[]][] = [
  ["h1", "h2", ["ens3", "ens4"]],
  ["h2", "h1", ["ens3", "ens4"]],
  ["h2", "h3", ["ens3"]],
  ["h3", "h2", ["ens3"]],
];

function report(title: string, lost: number, sent: number, note = ""): void {
  console.log(
    `      RACK ${title}: ${lost}/${sent} pings lost (${lost * MS_PER_PING} ms at 20/s)${note}`,
  );
}

/** The TOR and its port at the other end of `host`'s `nic`. */
function peerOf(rack: Rack, host: string, nic: string): { tor: string; port: string } {
  const { box, port } = rack.boxes[host].links[nic];
  return { tor: box, port };
}

/** Polls `ok` every 250 ms until it holds (true) or `timeoutMs` passes (false). */
async function waitFor(ok: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) {
      return false;
    }
    await sleep(250);
  }
  return true;
}

function rackSuite(bfd: boolean): void {
  const mode = bfd ? "with BFD" : "default timers";
  describe(`rack of real FRR 8.4 daemons, graceful restart on, ${mode}`, function () {
    this.timeout(240000);
    let rack: Rack;

    before(async () => {
      assert.equal(process.getuid?.(), 0, "the rack starts FRR daemons: run it as root");
      // With BFD, the TORs let a host's graceful restart through (TorCumulus's
      // bfdCheckControlPlaneFailure): without it a restart lost 58/300 pings (2.9 s).
      rack = new Rack({ bfd, bfdCheckControlPlaneFailure: bfd, gracefulRestart: true });
      rack.up();
      await rack.converge(CONVERGED);
    });
    after(async () => {
      await rack?.down();
    });

    it("ECMP: each host's loopback is in the far host's kernel via both TORs", async () => {
      assert.deepEqual(rack.routeDevs("h2", "h1"), ["ens3", "ens4"]);
      assert.deepEqual(rack.routeDevs("h1", "h2"), ["ens3", "ens4"]);
      assert.deepEqual(rack.routeDevs("h3", "h1"), ["ens3"]);
      if (bfd) {
        // A BFD session starts once its BGP session is up, and comes up a moment later.
        const bfdUp = () =>
          (rack.vtysh("h1", "show bfd peers brief").match(/\bup\b/g) ?? []).length === 2;
        assert.ok(await waitFor(bfdUp, 15000), rack.vtysh("h1", "show bfd peers brief"));
      }
    });

    it("(b) the TOR on the ping's path stops its daemons: traffic moves to the other", async () => {
      const { tor } = peerOf(rack, "h1", rack.pathOf("h1", "h2"));
      const ping = rack.ping("h1", "h2", 160);
      await sleep(1500);
      await rack.stop(tor);
      const r = await ping;
      report(`TOR ${tor} daemons stopped, ${mode}`, r.lost, r.sent);
      rack.start(tor);
      // bgpd's NOTIFICATION on exit tells the hosts at once, with or without BFD.
      assert.ok(r.lost * MS_PER_PING < 1000, `lost ${r.lost}`);
      await rack.converge(CONVERGED);
    });

    it("(b') the TOR on the ping's path hangs (daemons frozen, no forwarding)", async () => {
      const { tor } = peerOf(rack, "h1", rack.pathOf("h1", "h2"));
      const ping = rack.ping("h1", "h2", 160);
      await sleep(1500);
      rack.exec(tor, ["sysctl", "-qw", "net.ipv4.ip_forward=0"]);
      rack.signal(tor, "SIGSTOP");
      const r = await ping;
      rack.signal(tor, "SIGCONT");
      rack.exec(tor, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
      if (bfd) {
        report(`TOR ${tor} hangs, ${mode}`, r.lost, r.sent);
        // bfdd's 300 ms × 3 detection, then BGP and zebra move the route.
        assert.ok(r.lost * MS_PER_PING < 1000, `goal < 1 s with BFD; lost ${r.lost}`);
      } else {
        report(
          `TOR ${tor} hangs, ${mode}`,
          r.lost,
          r.sent,
          " — not recovered within the window: the hold time is 180 s",
        );
        // Without BFD only the hold timer notices a silent TOR.
        assert.ok(r.lost > r.sent / 2, `lost ${r.lost}`);
      }
      await rack.converge(CONVERGED);
    });

    for (const [host, far, homing] of [
      ["h1", "h2", "dual-homed"],
      ["h3", "h2", "single-homed"],
    ] as const) {
      it(`(c) ${host} (${homing}) restarts FRR: stop (zebra first, as the drop-in does) and start`, async () => {
        const ping = rack.ping(far, host, 300);
        await sleep(1000);
        const started = Date.now();
        await rack.stop(host);
        const kept = rack.routeDevs(host, far);
        rack.start(host);
        const restart = Date.now() - started;
        const r = await ping;
        report(
          `FRR restart of ${host} (${homing}, ${restart} ms), routes kept while stopped: ${kept.join(",") || "none"}, ${mode}`,
          r.lost,
          r.sent,
          r.lost === 0 ? "" : " — GOAL (0) NOT MET",
        );
        await rack.converge(CONVERGED);
        // zebra went first (renderFrrStopDropIn), so bgpd's withdrawals never reached the kernel.
        assert.deepEqual(kept, host === "h1" ? ["ens3", "ens4"] : ["ens3"]);
        // With BFD, bfdd stops with the rest; the TORs ignore its session going down (C bit
        // clear, graceful restart negotiated) and keep the host's routes.
        assert.equal(r.lost, 0, `goal: 0 pings lost across an FRR restart\n${r.output}`);
      });
    }

    it("(d) a TOR changes its inbound policy: the hosts answer its route refresh", async () => {
      // bgpd answers no route refresh before it has sent End-of-RIB, so a host that never
      // sent one (`bgp graceful-restart disable-eor`) would leave the TOR with its old view.
      const h2 = `${rack.boxes.h2.lo}/32`;
      const has = () => rack.vtysh("t1", "show bgp ipv4 unicast").includes(h2);
      const policy = (cmds: string[]) =>
        rack.vtysh("t1", ["configure terminal", ...cmds, "end"].join("\n"));
      assert.ok(has(), "t1 has h2's loopback before the change");
      policy([
        `ip prefix-list RACK-DENY seq 5 permit ${h2}`,
        "route-map DOWNLINKS-IN deny 5",
        " match ip address prefix-list RACK-DENY",
      ]);
      rack.vtysh("t1", "clear bgp swp2 soft in");
      const gone = await waitFor(() => !has(), 15000);
      policy(["no route-map DOWNLINKS-IN deny 5", "no ip prefix-list RACK-DENY"]);
      rack.vtysh("t1", "clear bgp swp2 soft in");
      const back = await waitFor(has, 15000);
      assert.ok(gone, "t1 still has h2's loopback after denying it inbound");
      assert.ok(back, "h2 did not send its loopback again when t1 asked (route refresh)");
      await rack.converge(CONVERGED);
    });

    it("(a) the link the ping takes goes down: traffic moves to the other TOR", async () => {
      const nic = rack.pathOf("h1", "h2");
      const ping = rack.ping("h1", "h2", 120);
      await sleep(1500);
      rack.exec("h1", ["ip", "link", "set", nic, "down"]);
      const r = await ping;
      report(`link down (h1 ${nic}), ${mode}`, r.lost, r.sent);
      rack.exec("h1", ["ip", "link", "set", nic, "up"]);
      // Carrier loss is seen at once on both ends, with or without BFD.
      assert.ok(r.lost * MS_PER_PING < 1000, `lost ${r.lost}`);
      // Back up: the sessions come back and, the next hops being inline (graceful
      // restart's `no zebra nexthop kernel enable`), so does the kernel's ECMP (with
      // kernel nexthop objects, FRR 8.4's zebra listed both next hops and the kernel one).
      const { tor, port } = peerOf(rack, "h1", nic);
      await sleep(500);
      rack.vtysh("h1", `clear bgp ${nic}`);
      rack.vtysh(tor, `clear bgp ${port}`);
      const back = await rack.converge(CONVERGED);
      console.log(`      RACK after the link came back: ECMP again in the kernel after ${back} ms`);
    });
  });
}

rackSuite(false);
rackSuite(true);

describe("FRR 10 (trixie): a host's FRR restart with graceful restart and BFD", function () {
  this.timeout(240000);
  const root = `/var/tmp/frr-nspawn-rack-${process.pid}`;
  let rack: Rack | undefined;

  before(async () => {
    assert.equal(process.getuid?.(), 0, "the rack starts FRR daemons: run it as root");
    const version = mountTrixieRoot(root);
    // BFD with the TORs' bfdCheckControlPlaneFailure (the 8.4 suite above has both modes;
    // the trixie seed lab restarts 10.3 without BFD).
    rack = new Rack(
      { bfd: true, bfdCheckControlPlaneFailure: true, gracefulRestart: true },
      root,
      version,
    );
    rack.up();
    await rack.converge(CONVERGED);
  });
  after(async () => {
    await rack?.down();
    removeFrrRoot(root);
  });

  for (const [host, far, homing] of [
    ["h1", "h2", "dual-homed"],
    ["h3", "h2", "single-homed"],
  ] as const) {
    it(`(c) ${host} (${homing}) restarts FRR: its kernel routes outlive the stop`, async () => {
      const r0 = rack!;
      const ping = r0.ping(far, host, 300);
      await sleep(1000);
      const started = Date.now();
      await r0.stop(host);
      // bgpd 10.x leaves its routes with zebra on a GR exit, zebra -r leaves them in the kernel.
      const kept = r0.routeDevs(host, far);
      r0.start(host);
      const restart = Date.now() - started;
      const r = await ping;
      report(
        `FRR ${r0.version} restart of ${host} (${homing}, ${restart} ms), routes kept while stopped: ${kept.join(",") || "none"}`,
        r.lost,
        r.sent,
        r.lost === 0 ? "" : " — GOAL (0) NOT MET",
      );
      assert.deepEqual(kept, host === "h1" ? ["ens3", "ens4"] : ["ens3"]);
      await r0.converge(CONVERGED);
      assert.equal(r.lost, 0, `goal: 0 pings lost across an FRR restart\n${r.output}`);
    });
  }
});
