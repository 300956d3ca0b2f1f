/**
 * TorCumulus's vtysh dialect on real daemons of both FRR release lines (tests/frr/rig.ts:
 * Debian's 8.4 and trixie's 10.x): two resources on one switch whose own config (a spine
 * neighbour and its route-map) must come through untouched; RA timing changed both ways
 * (FRR 10.3 refuses an interval above the lifetime); every daemon still the one that
 * started (FRR 10.3's mgmtd crashed on whole-file reloads); destroy twice. Needs root.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";

import { DEFAULT_DAEMONS } from "../../components/render/daemons";
import { DIALECTS, SwitchConfig, switchStatePath } from "../../components/render/switch";
import { FrrRig, RIG_KINDS, startRig } from "./rig";

const OWN = [
  "router bgp 65000",
  "bgp router-id 10.255.0.2",
  "neighbor 192.0.2.254 remote-as 65100",
  "address-family ipv4 unicast",
  "neighbor 192.0.2.254 route-map SPINE-IN in",
  "exit-address-family",
  "exit",
  "route-map SPINE-IN permit 10",
  "set local-preference 200",
];

const A: SwitchConfig = {
  id: `rig-vtysh-a-${process.pid}`,
  description: "frr-nspawn rig a",
  cumulusVersion: "",
  bfd: false,
  bfdCheckControlPlaneFailure: false,
  asn: 65000,
  routerId: "10.255.0.2",
  loopback: "10.255.0.2/32",
  downlinks: [{ port: "swp1", raInterval: 5, raLifetime: 15 }],
  networks: [],
};
const B: SwitchConfig = {
  ...A,
  id: `rig-vtysh-b-${process.pid}`,
  downlinks: [{ port: "swp2", raInterval: 5, raLifetime: 15 }],
  networks: ["10.9.0.0/24"],
};

for (const kind of RIG_KINDS) {
  describe(`vtysh dialect on real ${kind} daemons`, function () {
    this.timeout(180000);
    let rig: FrrRig;
    let pids: Record<string, number>;
    let own: string;

    /** The switch's own part of the running config. */
    const ownPart = () =>
      rig
        .running()
        .split("\n")
        .filter((l) => l.includes("192.0.2.254") || /SPINE-IN|local-preference/.test(l))
        .join("\n");
    const ok = (script: string) => {
      const r = rig.run(["bash", "-s"], script);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    };

    before(function () {
      // A cold trixie rig first builds its rootfs with debootstrap (tests/frr/rootfs.sh).
      this.timeout(1200000);
      // bfdd on, as `bfd: true` needs on a plain-FRR switch.
      rig = startRig(kind, { ...DEFAULT_DAEMONS, bfd: true });
      rig.check(["vtysh", "-c", "configure terminal", ...OWN.flatMap((l) => ["-c", l])]);
      pids = rig.daemonPids();
      own = ownPart();
      assert.equal(own.split("\n").length, 4, own);
    });
    after(() => {
      rig?.stop();
      for (const c of [A, B]) fs.rmSync(switchStatePath(c.id), { force: true });
    });

    it("creates two resources; the switch's own config and every daemon untouched", () => {
      ok(DIALECTS.vtysh.applyScript("a", A));
      ok(DIALECTS.vtysh.applyScript("b", B));
      const running = rig.running();
      assert.match(running, /^ neighbor swp1 interface remote-as external$/m);
      assert.match(running, /^ neighbor swp2 interface remote-as external$/m);
      assert.match(running, /^ ipv6 nd ra-lifetime 15$/m);
      assert.equal(ownPart(), own);
      assert.deepEqual(rig.daemonPids(), pids, "a daemon restarted or crashed");
    });

    it("changes RA timing up past the old lifetime and back down", () => {
      for (const [interval, lifetime] of [
        [60, 180],
        [5, 15],
      ]) {
        ok(
          DIALECTS.vtysh.applyScript("a", {
            ...A,
            downlinks: [{ port: "swp1", raInterval: interval, raLifetime: lifetime }],
          }),
        );
        const running = rig.running();
        assert.match(running, new RegExp(`^ ipv6 nd ra-interval ${interval}$`, "m"));
        assert.match(running, new RegExp(`^ ipv6 nd ra-lifetime ${lifetime}$`, "m"));
      }
      assert.deepEqual(rig.daemonPids(), pids, "a daemon restarted or crashed");
    });

    it("bfd on and off: only the BFD line comes and goes; no daemon restarts", () => {
      ok(DIALECTS.vtysh.applyScript("a", { ...A, bfd: true }));
      assert.match(rig.running(), /^ neighbor swp1 bfd$/m);
      assert.doesNotMatch(rig.running(), /^ neighbor swp2 bfd$/m);
      ok(DIALECTS.vtysh.applyScript("a", A));
      const running = rig.running();
      assert.doesNotMatch(running, /bfd/);
      assert.match(running, /^ neighbor swp1 interface remote-as external$/m);
      assert.equal(ownPart(), own);
      assert.deepEqual(rig.daemonPids(), pids, "a daemon restarted or crashed");
    });

    it("bfdCheckControlPlaneFailure on and off: only its line comes and goes; no daemon restarts", () => {
      const cbit = { ...A, bfd: true, bfdCheckControlPlaneFailure: true };
      ok(DIALECTS.vtysh.applyScript("a", cbit));
      assert.match(
        rig.running(),
        /^ neighbor swp1 bfd\n neighbor swp1 bfd check-control-plane-failure$/m,
      );
      // A second run finds both lines there and changes nothing.
      ok(DIALECTS.vtysh.applyScript("a", cbit));
      ok(DIALECTS.vtysh.applyScript("a", { ...A, bfd: true }));
      let running = rig.running();
      assert.match(running, /^ neighbor swp1 bfd$/m);
      assert.doesNotMatch(running, /check-control-plane-failure/);
      ok(DIALECTS.vtysh.applyScript("a", cbit));
      ok(DIALECTS.vtysh.applyScript("a", A));
      running = rig.running();
      assert.doesNotMatch(running, /bfd/);
      assert.equal(ownPart(), own);
      assert.deepEqual(rig.daemonPids(), pids, "a daemon restarted or crashed");
    });

    it("destroys each independently (twice is fine); switch-wide lines and own config stay", () => {
      ok(DIALECTS.vtysh.removeScript("a", A));
      let running = rig.running();
      assert.doesNotMatch(running, /swp1/);
      assert.match(running, /^ neighbor swp2 interface remote-as external$/m);
      ok(DIALECTS.vtysh.removeScript("b", B));
      ok(DIALECTS.vtysh.removeScript("b", B));
      running = rig.running();
      assert.doesNotMatch(running, /swp[12]|rig-vtysh/);
      assert.match(running, /^router bgp 65000$/m);
      assert.match(running, /^ ip address 10\.255\.0\.2\/32$/m);
      assert.equal(ownPart(), own);
      assert.deepEqual(rig.daemonPids(), pids, "a daemon restarted or crashed");
    });
  });
}
