/**
 * Rendered configs are in each FRR release line's own normalised form: loaded into real
 * daemons of both versions (tests/frr/rig.ts: this machine's 8.4 and trixie's 10.x),
 * `show running-config` gives back exactly the rendered text and `frr-reload.py --test`
 * finds nothing to change. This is what lets a later reload leave BGP sessions alone.
 * Needs root, the frr and frr-pythontools packages (.ci/run installs them) and
 * debootstrap for the trixie rootfs (built once into /var/cache/frr-nspawn/frr).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";

import { DEFAULT_DAEMONS } from "../../components/render/daemons";
import { renderHostFrrConf, renderSwitchFrrConf } from "../../components/render/frrConf";
import { frrProfile } from "../../components/render/frrProfile";
import { SEED_HOST, SEED_SWITCH } from "../fixtures";
import { FrrRig, RIG_KINDS, startRig } from "./rig";

for (const kind of RIG_KINDS) {
  describe(`rendered frr.conf is FRR's own normalised text (real ${kind} daemons)`, function () {
    this.timeout(180000);
    const hostname = os.hostname();
    let rig: FrrRig;

    before(() => {
      // bfdd runs, as BgpLoopback's `bfd` starts it: its config must not show either.
      rig = startRig(kind, { ...DEFAULT_DAEMONS, bfd: true, retainRoutesSeconds: 120 });
    });

    it("bfdd runs in the rig", () => {
      assert.ok(rig.daemonPids().bfdd > 0, JSON.stringify(rig.daemonPids()));
    });
    after(() => rig?.stop());

    /** Loads `conf` with the package's apply script; returns what a reload would still change. */
    function load(conf: string): string {
      const r = rig.apply(conf);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      return rig.reloadTest();
    }

    it(`the rig runs FRR ${kind === "apt" ? "8" : "10"}.x`, () => {
      assert.match(rig.version, kind === "apt" ? /^8\./ : /^10\./);
    });

    const cases: [string, (v: string) => string][] = [
      [
        "host, seed parameters",
        (v) => renderHostFrrConf({ ...SEED_HOST, frrVersion: v, hostname }),
      ],
      [
        "host, two uplinks, 4-byte ASN, extra networks given out of order",
        (v) =>
          renderHostFrrConf({
            ...SEED_HOST,
            frrVersion: v,
            hostname,
            asn: 4200000001,
            interfaces: ["ens3", "ens4"],
            networks: ["10.2.0.0/16", "10.1.0.0/24", "1.0.0.0/8"],
          }),
      ],
      [
        "host, two uplinks, BFD and graceful restart",
        (v) =>
          renderHostFrrConf({
            ...SEED_HOST,
            frrVersion: v,
            hostname,
            interfaces: ["ens3", "ens4"],
            bfd: true,
            gracefulRestart: true,
          }),
      ],
      [
        "switch, seed parameters",
        (v) => renderSwitchFrrConf({ ...SEED_SWITCH, frrVersion: v, hostname }),
      ],
      [
        "switch, two downlinks",
        (v) =>
          renderSwitchFrrConf({
            ...SEED_SWITCH,
            frrVersion: v,
            hostname,
            downlinks: [
              { port: "swp1", raInterval: 5, raLifetime: 15 },
              { port: "swp2", raInterval: 10, raLifetime: 30 },
            ],
            networks: ["10.9.0.0/24"],
          }),
      ],
      [
        "switch, two downlinks with BFD",
        (v) =>
          renderSwitchFrrConf({
            ...SEED_SWITCH,
            frrVersion: v,
            hostname,
            bfd: true,
            downlinks: [
              { port: "swp1", raInterval: 5, raLifetime: 15 },
              { port: "swp2", raInterval: 5, raLifetime: 15 },
            ],
          }),
      ],
    ];
    for (const [title, render] of cases) {
      it(`${title}: running config equals the render; frr-reload.py --test adds only what FRR never lists`, () => {
        // Start from an empty config each time: what FRR lists must come from this render.
        const removed = rig.remove(hostname, true);
        assert.equal(removed.status, 0, `${removed.stdout}${removed.stderr}`);
        const conf = render(rig.version);
        const testOutput = load(conf);
        // Lines the release line takes but never lists (8.4: disable-eor) are the one
        // exception: absent from the running config, and all frr-reload.py would add.
        const unlisted = frrProfile(rig.version).gracefulRestart.notInRunningConfig.filter((l) =>
          conf.includes(`\n ${l}\n`),
        );
        const listed = conf
          .split("\n")
          .filter((l) => !unlisted.includes(l.trim()))
          .join("\n");
        assert.equal(rig.running(), listed);
        const toAdd = testOutput
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l !== "" && !/^(Lines To Add|=+|router bgp [0-9]+|exit)$/.test(l));
        assert.deepEqual(toAdd, unlisted, `frr-reload.py --test:\n${testOutput}`);
      });
    }

    it("the check can fail: a config in another order is reported by frr-reload.py", () => {
      const conf = renderHostFrrConf({ ...SEED_HOST, frrVersion: rig.version, hostname });
      load(conf);
      const reordered = conf
        .replace(" bgp router-id 2.2.2.2\n", "")
        .replace(
          " neighbor TOR peer-group\n",
          " neighbor TOR peer-group\n bgp router-id 2.2.2.3\n",
        );
      fs.writeFileSync(`${rig.etc}/other.conf`, reordered);
      assert.match(rig.reloadTest("/etc/frr/other.conf"), /bgp router-id 2\.2\.2\.3/);
    });

    it("the other release line's order is not this one's: frr-reload.py --test sees it", () => {
      const other = kind === "apt" ? "10.3" : "8.4.4";
      const conf = renderHostFrrConf({ ...SEED_HOST, frrVersion: rig.version, hostname });
      load(conf);
      const foreign = renderHostFrrConf({ ...SEED_HOST, frrVersion: other, hostname }).replace(
        `frr version ${other}`,
        `frr version ${rig.version}`,
      );
      assert.notEqual(foreign, conf);
      load(foreign);
      assert.notEqual(rig.running(), foreign);
    });
  });
}
