/**
 * Every rendered frr.conf is read by Debian's real FRR parser (`vtysh --dryrun -f`).
 * Needs the `frr` package (.ci/run installs it); without vtysh this fails, never skips.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  HostFrrConfig,
  renderEmptyFrrConf,
  renderHostFrrConf,
  renderSwitchFrrConf,
} from "../../components/render/frrConf";
import { DRYRUN_REJECTED_LINE } from "../../components/render/scripts/frrApply";
import { SEED_HOST, SEED_SWITCH } from "../fixtures";

const VTYSH = "/usr/bin/vtysh";

/** Accepted: exit 0 and no rejected line (the same rule as the apply script's). */
function dryrun(conf: string): { ok: boolean; output: string } {
  const file = path.join(os.tmpdir(), `frr-nspawn-dryrun-${process.pid}.conf`);
  fs.writeFileSync(file, conf);
  try {
    const r = spawnSync(VTYSH, ["--dryrun", "-f", file], { encoding: "utf8" });
    const output = `${r.stdout}${r.stderr}`;
    return { ok: r.status === 0 && !DRYRUN_REJECTED_LINE.test(output), output };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** The matrix: uplinks × ASN sizes × extra networks × peer-group names. */
function hostMatrix(): [string, HostFrrConfig][] {
  const out: [string, HostFrrConfig][] = [];
  for (const interfaces of [["ens3"], ["ens3", "ens4"], ["eno1", "eno2", "bond0.100"]]) {
    for (const asn of [65001, 4200000001, 1]) {
      for (const networks of [
        [],
        ["10.1.0.0/24"],
        ["10.1.0.0/24", "192.168.7.0/25", "172.16.0.0/12"],
      ]) {
        const peerGroup = interfaces.length === 2 ? "SPINES" : "TOR";
        const title = `${interfaces.join("+")} as${asn} nets${networks.length} ${peerGroup}`;
        out.push([
          title,
          {
            ...SEED_HOST,
            interfaces,
            asn,
            networks,
            peerGroup,
            routerId: "10.255.0.1",
            loopback: "10.255.0.1/32",
          },
        ]);
      }
    }
  }
  return out;
}

describe("rendered frr.conf passes FRR's own parser (vtysh --dryrun)", () => {
  before(() => {
    assert.ok(
      fs.existsSync(VTYSH),
      "vtysh not found: install Debian's frr (apt-get install frr) to run these tests",
    );
  });

  const matrix = hostMatrix();
  it(`the matrix has at least 20 combinations (${matrix.length})`, () =>
    assert.ok(matrix.length >= 20));

  for (const [title, config] of matrix) {
    it(`host: ${title}`, () => {
      const r = dryrun(renderHostFrrConf(config));
      assert.ok(r.ok, r.output);
    });
  }

  for (const downlinks of [
    SEED_SWITCH.downlinks,
    [
      { port: "swp1", raInterval: 5, raLifetime: 15 },
      { port: "swp2", raInterval: 30, raLifetime: 90 },
    ],
  ]) {
    for (const asn of [65000, 4200000000]) {
      it(`switch: ${downlinks.length} downlink(s), as${asn}`, () => {
        const r = dryrun(
          renderSwitchFrrConf({ ...SEED_SWITCH, downlinks, asn, networks: ["10.2.0.0/16"] }),
        );
        assert.ok(r.ok, r.output);
      });
    }
  }

  it("the header-only config left by destroy parses", () => {
    assert.ok(dryrun(renderEmptyFrrConf("8.4.4", "frr")).ok);
  });

  // The parser must be able to say no, or the checks above prove nothing.
  const broken: [string, (conf: string) => string][] = [
    ["ASN out of range", (c) => c.replace("router bgp 65001", "router bgp 70000000000")],
    ["router-id not an address", (c) => c.replace("bgp router-id 2.2.2.2", "bgp router-id 2.2.2")],
    ["prefix without length", (c) => c.replace("  network 2.2.2.2/32", "  network 2.2.2.2/")],
    [
      "unknown keyword",
      (c) => c.replace(" neighbor TOR remote-as external", " neighbor TOR remote-as externall"),
    ],
    ["prefix-list with a bad action", (c) => c.replace("seq 5 permit", "seq 5 allow")],
    [
      "route-map with a bad action",
      (c) => c.replace("route-map TOR-IN permit 10", "route-map TOR-IN accept 10"),
    ],
  ];
  for (const [title, breakIt] of broken) {
    it(`rejects a broken render: ${title}`, () => {
      const conf = breakIt(renderHostFrrConf(SEED_HOST));
      assert.notEqual(conf, renderHostFrrConf(SEED_HOST), "the breakage did not apply");
      assert.equal(dryrun(conf).ok, false);
    });
  }
});
