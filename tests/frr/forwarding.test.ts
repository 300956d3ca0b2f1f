/**
 * The host's forwarding is the host's: FRR started with BgpLoopback's frr.conf, a later
 * change applied by `frr-reload.py` and the destroy all leave the kernel's IPv4 and IPv6
 * forwarding as they found them, and each applies cleanly (`frr-reload.py --test`
 * empty), whatever the kernel has, with /proc/sys writable (FRR on a plain host) or
 * read-only (as systemd-nspawn mounts it in a machine on the host's network), on both
 * release lines (tests/frr/rig.ts). The apply gives the file the kernel's own forwarding
 * lines (frrConf.ts withKernelForwarding, frrApply.ts mirror_forwarding).
 *
 * Also FRR's own behaviour that rules out a fixed line either way (frrConf.ts
 * withKernelForwarding says where in FRR's source): `no ip forwarding` turns a writable
 * kernel's forwarding off and, read-only, fails at every reload; a file without it on a
 * kernel with forwarding off makes `frr-reload.py` send `ip forwarding`. Needs root.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";

import {
  FrrConfForm,
  KernelForwarding,
  renderHostFrrConf,
  withKernelForwarding,
} from "../../components/render/frrConf";
import { SEED_HOST } from "../fixtures";
import { FrrRig, RIG_KINDS, startRig } from "./rig";

const STATES: [string, KernelForwarding][] = [
  ["both on (a Docker host)", { ipv4: true, ipv6: true }],
  ["both off", { ipv4: false, ipv6: false }],
  ["IPv4 on, IPv6 off (the seed's host)", { ipv4: true, ipv6: false }],
];

const ON: KernelForwarding = { ipv4: true, ipv6: true };
const OFF: KernelForwarding = { ipv4: false, ipv6: false };

for (const kind of RIG_KINDS) {
  describe(`the host's forwarding, untouched by FRR (real ${kind} daemons)`, function () {
    this.timeout(180000);
    const hostname = os.hostname();
    let rig: FrrRig;
    /** Undoes a read-only /proc/sys, if one is in place. */
    let undo = () => {};

    before(() => {
      rig = startRig(kind);
    });
    afterEach(() => {
      undo();
      undo = () => {};
    });
    after(() => rig?.stop());

    const conf = (networks: string[], form?: FrrConfForm) =>
      renderHostFrrConf({ ...SEED_HOST, frrVersion: rig.version, hostname, networks }, form);

    /** FRR stopped, the kernel set to `k`, /proc/sys read-only if asked. */
    function stoppedWith(k: KernelForwarding, readOnly: boolean): void {
      rig.stopFrr();
      rig.setForwarding(k);
      if (readOnly) {
        undo = rig.readOnlyProcSys();
      }
    }

    /** Applies `networks`' config: success, the kernel still `k`, FRR lists the render. */
    function applied(networks: string[], k: KernelForwarding): void {
      const r = rig.apply(conf(networks));
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.deepEqual(rig.kernelForwarding(), k, "the kernel's forwarding changed");
      assert.equal(rig.running(), withKernelForwarding(conf(networks, "listing"), k));
      assert.equal(rig.reloadTest(), "");
    }

    for (const readOnly of [false, true]) {
      const procSys = readOnly ? "read-only /proc/sys (as in the machine)" : "writable /proc/sys";
      for (const [title, k] of STATES) {
        it(`${procSys}, ${title}: start, a change and the destroy apply; the kernel keeps its forwarding`, () => {
          stoppedWith(k, readOnly);
          applied([], k); // FRR is stopped: the apply starts it with the file
          applied(["10.9.0.0/24"], k); // by frr-reload.py
          const r = rig.remove(hostname);
          assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
          assert.deepEqual(rig.kernelForwarding(), k, "the destroy changed forwarding");
          assert.doesNotMatch(rig.running(), /router bgp/);
        });
      }

      it(`${procSys}: forwarding turned on between two applies (Docker starting): the next one follows`, () => {
        stoppedWith(OFF, false);
        applied([], OFF);
        rig.setForwarding(ON);
        if (readOnly) {
          undo = rig.readOnlyProcSys();
        }
        applied(["10.9.0.0/24"], ON);
      });
    }

    /** FRR running an empty config on a kernel set to `k`; /proc/sys read-only if asked. */
    function runningWith(k: KernelForwarding, readOnly: boolean): void {
      stoppedWith(k, readOnly);
      rig.start();
    }

    /** Writes `text` as frr.conf and runs `frr-reload.py --reload` on it; its exit status. */
    function reload(text: string): number | null {
      fs.writeFileSync(`${rig.etc}/frr.conf`, text);
      return rig.run(["/usr/lib/frr/frr-reload.py", "--reload", "/etc/frr/frr.conf"]).status;
    }

    it("FRR: `no ip forwarding` in the file turns a writable kernel's forwarding off", () => {
      runningWith(ON, false);
      assert.equal(reload(withKernelForwarding(conf([]), OFF)), 0);
      assert.deepEqual(rig.kernelForwarding(), OFF);
    });

    it("FRR: read-only, `no ip forwarding` fails at every reload and stays a difference", () => {
      runningWith(ON, true);
      for (let i = 0; i < 2; i++) {
        assert.notEqual(reload(withKernelForwarding(conf([]), OFF)), 0);
        assert.match(rig.reloadTest(), /^no ip forwarding\nno ipv6 forwarding$/m);
      }
      assert.deepEqual(rig.kernelForwarding(), ON);
    });

    it("FRR: a file without the line on a kernel with forwarding off gets `ip forwarding` from frr-reload.py", () => {
      runningWith(OFF, false);
      assert.equal(rig.running().match(/^no ipv?6? ?forwarding$/gm)?.length, 2);
      assert.equal(reload(conf([])), 0);
      assert.deepEqual(rig.kernelForwarding(), ON);
    });
  });
}
