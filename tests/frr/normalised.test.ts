/**
 * Rendered configs are in each FRR release line's own normalised form: loaded into real
 * daemons of both versions (tests/frr/rig.ts: this machine's 8.4 and trixie's 10.x),
 * `show running-config` gives back exactly the rendered listing (the file, with 8.x's
 * policy moved after `router bgp`: FrrConfForm) and `frr-reload.py --test` finds nothing
 * to change. This is what lets a later reload leave BGP sessions alone.
 * Needs root, the frr and frr-pythontools packages (.ci/run installs them) and
 * debootstrap for the trixie rootfs (built once into /var/cache/frr-nspawn/frr).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";

import { DEFAULT_DAEMONS } from "../../components/render/daemons";
import {
  FrrConfForm,
  renderHostFrrConf,
  renderSwitchFrrConf,
} from "../../components/render/frrConf";
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

    type Case = [string, (v: string, form?: FrrConfForm) => string];
    const cases: Case[] = [
      [
        "host, seed parameters",
        (v, form) => renderHostFrrConf({ ...SEED_HOST, frrVersion: v, hostname }, form),
      ],
      [
        "host, two uplinks, 4-byte ASN, extra networks given out of order",
        (v, form) =>
          renderHostFrrConf(
            {
              ...SEED_HOST,
              frrVersion: v,
              hostname,
              asn: 4200000001,
              interfaces: ["ens3", "ens4"],
              networks: ["10.2.0.0/16", "10.1.0.0/24", "1.0.0.0/8"],
            },
            form,
          ),
      ],
      [
        "host, two uplinks, BFD and graceful restart",
        (v, form) =>
          renderHostFrrConf(
            {
              ...SEED_HOST,
              frrVersion: v,
              hostname,
              interfaces: ["ens3", "ens4"],
              bfd: true,
              gracefulRestart: true,
            },
            form,
          ),
      ],
      [
        "switch, seed parameters",
        (v, form) => renderSwitchFrrConf({ ...SEED_SWITCH, frrVersion: v, hostname }, form),
      ],
      [
        "switch, two downlinks",
        (v, form) =>
          renderSwitchFrrConf(
            {
              ...SEED_SWITCH,
              frrVersion: v,
              hostname,
              downlinks: [
                { port: "swp1", raInterval: 5, raLifetime: 15 },
                { port: "swp2", raInterval: 10, raLifetime: 30 },
              ],
              networks: ["10.9.0.0/24"],
            },
            form,
          ),
      ],
      ...(
        [
          ["switch, two downlinks with BFD", false],
          ["switch, BFD that lets graceful restart through (check-control-plane-failure)", true],
        ] as const
      ).map(([title, cbit]): Case => [
        title,
        (v, form) =>
          renderSwitchFrrConf(
            {
              ...SEED_SWITCH,
              frrVersion: v,
              hostname,
              bfd: true,
              bfdCheckControlPlaneFailure: cbit,
              downlinks: [
                { port: "swp1", raInterval: 5, raLifetime: 15 },
                { port: "swp2", raInterval: 5, raLifetime: 15 },
              ],
            },
            form,
          ),
      ]),
    ];
    for (const [title, render] of cases) {
      it(`${title}: running config equals the render; frr-reload.py --test has nothing to do`, () => {
        // Start from an empty config each time: what FRR lists must come from this render.
        const removed = rig.remove(hostname);
        assert.equal(removed.status, 0, `${removed.stdout}${removed.stderr}`);
        const conf = render(rig.version);
        const testOutput = load(conf);
        // The file has the policy first on every line (FrrConfForm); 8.x lists it last.
        // The apply added the kernel's forwarding lines (a new netns: both off).
        assert.equal(rig.running(), rig.listing(render(rig.version, "listing")));
        assert.equal(testOutput, "");
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
