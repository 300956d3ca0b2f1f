/**
 * The package's own apply and destroy scripts (TorCumulus `cli: "vtysh"`: FRR on the
 * switch itself) against real daemons of both release lines (tests/frr/rig.ts): adding
 * and removing a downlink, changing RA timing both ways, an empty config (destroy). After
 * each step the running config is the render, `frr-reload.py --test` is empty and every
 * daemon is still the one that started (none crashed). Also: with the package's daemons
 * file no FRR daemon listens beyond loopback except bgpd on 179. Needs root (see rig.ts).
 */
import * as assert from "node:assert/strict";
import * as os from "node:os";

import {
  FrrConfForm,
  renderSwitchFrrConf,
  renderHostFrrConf,
} from "../../components/render/frrConf";
import { SwitchDownlink } from "../../components/render/switch/model";
import { SEED_HOST, SEED_SWITCH } from "../fixtures";
import { FrrRig, RIG_KINDS, startRig } from "./rig";

/** Listening TCP sockets as `process address:port`, from `ss -ltnpH`. */
function listeners(rig: FrrRig): string[] {
  return rig
    .check(["ss", "-ltnpH"])
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const fields = l.trim().split(/\s+/);
      const proc = /users:\(\("([^"]+)"/.exec(l)?.[1] ?? "?";
      return `${proc} ${fields[3]}`;
    })
    .sort();
}

for (const kind of RIG_KINDS) {
  describe(`apply and destroy scripts on real ${kind} daemons`, function () {
    this.timeout(180000);
    const hostname = os.hostname();
    let rig: FrrRig;
    let pids: Record<string, number>;

    before(() => {
      rig = startRig(kind);
      pids = rig.daemonPids();
    });
    after(() => rig?.stop());

    const sw = (downlinks: SwitchDownlink[], form?: FrrConfForm) =>
      renderSwitchFrrConf({ ...SEED_SWITCH, frrVersion: rig.version, hostname, downlinks }, form);
    const dl = (port: string, raInterval: number, raLifetime: number): SwitchDownlink => ({
      port,
      raInterval,
      raLifetime,
    });

    /** Applies the file `render()` gives; FRR then lists what `render("listing")` gives. */
    function applied(render: (form?: FrrConfForm) => string): void {
      const r = rig.apply(render());
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.equal(rig.running(), rig.listing(render("listing")));
      assert.equal(rig.reloadTest(), "");
      assert.deepEqual(rig.daemonPids(), pids, "a daemon restarted or crashed");
    }

    it("no daemon listens beyond loopback, except bgpd on 179", () => {
      applied((f) => sw([dl("swp1", 5, 15)], f));
      const all = listeners(rig);
      const daemons =
        kind === "apt" ? ["bgpd", "staticd", "zebra"] : ["bgpd", "mgmtd", "staticd", "zebra"];
      assert.deepEqual(
        [...new Set(all.map((l) => l.split(" ")[0]))].sort(),
        daemons,
        all.join("\n"),
      );
      const exposed = all.filter((l) => !/ 127\.0\.0\.1:[0-9]+$/.test(l));
      assert.ok(
        exposed.every((l) => /^bgpd .*:179$/.test(l)),
        `listening beyond loopback:\n${exposed.join("\n")}`,
      );
    });

    it("adds a second downlink", () =>
      applied((f) => sw([dl("swp1", 5, 15), dl("swp2", 10, 30)], f)));
    it("slows RA down (lifetime must change first)", () =>
      applied((f) => sw([dl("swp1", 30, 90), dl("swp2", 60, 180)], f)));
    it("speeds RA up (interval must change first)", () =>
      applied((f) => sw([dl("swp1", 5, 15), dl("swp2", 10, 30)], f)));
    it("removes a downlink (explicit negations, no `no interface`)", () =>
      applied((f) => sw([dl("swp1", 5, 15)], f)));

    it("destroy: an empty config, the file removed, every daemon still up", () => {
      const r = rig.remove(hostname);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.equal(
        rig.running(),
        rig.listing(
          `frr version ${rig.version}\nfrr defaults traditional\nhostname ${hostname}\nservice integrated-vtysh-config\n!\n`,
        ),
      );
      assert.deepEqual(rig.daemonPids(), pids, "a daemon restarted or crashed");
    });

    it("destroy again: nothing left, still success", () => {
      const r = rig.remove(hostname);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    });

    it("host side (BgpLoopback's frr.conf): apply, re-apply unchanged, destroy", () => {
      const conf = (form?: FrrConfForm) =>
        renderHostFrrConf({ ...SEED_HOST, frrVersion: rig.version, hostname }, form);
      applied(conf);
      applied(conf);
      const r = rig.remove(hostname);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.doesNotMatch(rig.running(), /router bgp|route-map|prefix-list/);
      assert.deepEqual(rig.daemonPids(), pids, "a daemon restarted or crashed");
    });

    if (kind === "trixie") {
      it("a reload that exits non-zero but leaves nothing to do: success, with a warning quoting FRR", () => {
        const restore = rig.failingReload(true, "% Configuration failed. YANG error(s): stand-in");
        try {
          const r = rig.apply(sw([dl("swp1", 5, 15), dl("swp2", 10, 30)]));
          assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
          assert.match(
            r.stderr,
            /warning: frr-reload\.py exited non-zero, but the running config matches/,
          );
          assert.match(r.stderr, /% Configuration failed\. YANG error\(s\): stand-in/);
        } finally {
          restore();
        }
        assert.equal(
          rig.running(),
          rig.listing(sw([dl("swp1", 5, 15), dl("swp2", 10, 30)], "listing")),
        );
      });

      it("a reload that exits non-zero and leaves differences: failure, naming them", () => {
        const restore = rig.failingReload(false, "% stand-in refusal");
        try {
          const r = rig.apply(
            sw([dl("swp1", 5, 15)]).replace(
              "network 1.1.1.1/32",
              "network 1.1.1.1/32\n  network 10.7.0.0/16",
            ),
          );
          assert.notEqual(r.status, 0);
          assert.match(r.stderr, /frr\.conf is in place but not fully applied/);
          assert.match(
            r.stderr,
            /frr-reload\.py --test still finds these differences:[^]*network 10\.7\.0\.0\/16/,
          );
        } finally {
          restore();
        }
      });
    }

    it("a rejected config fails the apply and leaves the running config alone", () => {
      applied((f) => sw([dl("swp1", 5, 15)], f));
      const r = rig.apply(
        sw([dl("swp1", 5, 15)]).replace("router bgp 65000", "router bgp 70000000000"),
      );
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /vtysh --dryrun rejected the new frr\.conf/);
      assert.equal(rig.running(), rig.listing(sw([dl("swp1", 5, 15)], "listing")));
    });
  });
}
