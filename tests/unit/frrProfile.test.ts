import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  renderHostFrrConf,
  renderSwitchFrrConf,
  sortPrefixes,
} from "../../components/render/frrConf";
import { frrLine, frrProfile, vtyDaemons } from "../../components/render/frrProfile";
import { INTERFACE_PLAN_PY } from "../../components/render/scripts/interfacePlan";
import { SEED_HOST, SEED_SWITCH } from "../fixtures";

describe("FRR release-line profiles", () => {
  const lines: [string, string][] = [
    ["7.2", "8"],
    ["8.4.4", "8"],
    ["9.1.2", "9"],
    ["10.3", "10"],
    ["10.0.1", "10"],
    ["11.0", "10"],
  ];
  for (const [version, line] of lines) {
    it(`frr version ${version} renders as line ${line}`, () =>
      assert.equal(frrLine(version), line));
  }

  it("rejects a version without a major number", () => {
    assert.throws(() => frrLine("x.1"), /"x\.1" is not an FRR version/);
  });

  it("mgmtd runs from 9 on; every running daemon gets a local VTY", () => {
    assert.deepEqual(vtyDaemons(frrProfile("8.4.4")), ["zebra", "staticd", "bgpd"]);
    assert.deepEqual(vtyDaemons(frrProfile("9.1")), ["zebra", "mgmtd", "staticd", "bgpd"]);
    assert.deepEqual(vtyDaemons(frrProfile("10.3")), ["zebra", "mgmtd", "staticd", "bgpd"]);
  });
});

describe("frr.conf in FRR 10's order", () => {
  it("host: policy right after the header, route-maps sorted by name", () => {
    const conf = renderHostFrrConf({ ...SEED_HOST, frrVersion: "10.3" });
    assert.equal(
      conf.split("\n").slice(5, 13).join("\n"),
      [
        "ip prefix-list TOR-OUT seq 5 permit 2.2.2.2/32",
        "!",
        "route-map TOR-IN permit 10",
        "exit",
        "!",
        "route-map TOR-OUT permit 10",
        " match ip address prefix-list TOR-OUT",
        "exit",
      ].join("\n"),
    );
    assert.match(conf, /^exit\n!\nrouter bgp 65001\n/m);
    assert.match(conf, /exit-address-family\nexit\n!\n$/);
  });

  it("switch: route-maps, then interfaces, then router bgp", () => {
    const conf = renderSwitchFrrConf({ ...SEED_SWITCH, frrVersion: "10.3" });
    const at = [
      "route-map DOWNLINKS-IN",
      "route-map DOWNLINKS-OUT",
      "interface lo",
      "interface swp1",
      "router bgp",
    ].map((needle) => conf.indexOf(needle));
    assert.ok(
      at.every((i, k) => i > 0 && (k === 0 || i > at[k - 1])),
      JSON.stringify(at),
    );
  });

  it("8.x lists policy after router bgp; the file has it first, as on 10.x", () => {
    const listing = renderHostFrrConf(SEED_HOST, "listing");
    assert.ok(listing.indexOf("router bgp") < listing.indexOf("ip prefix-list"));
    const file = renderHostFrrConf(SEED_HOST);
    assert.ok(file.indexOf("route-map TOR-IN") < file.indexOf("router bgp"));
    const block = (text: string, start: string) =>
      text.slice(text.indexOf(`\n${start}`)).split("\n!\n")[0];
    for (const start of ["router bgp", "ip prefix-list", "route-map TOR-OUT", "route-map TOR-IN"]) {
      assert.equal(block(file, start), block(listing, start), start);
    }
    assert.equal(file.length, listing.length);
    const sw = renderSwitchFrrConf(SEED_SWITCH);
    assert.ok(sw.indexOf("route-map DOWNLINKS-OUT") < sw.indexOf("interface lo"));
    const swListing = renderSwitchFrrConf(SEED_SWITCH, "listing");
    assert.ok(swListing.indexOf("router bgp") < swListing.indexOf("route-map DOWNLINKS-IN"));
  });
  it("10.x: the file is the listing", () => {
    const v = { ...SEED_HOST, frrVersion: "10.3" };
    assert.equal(renderHostFrrConf(v), renderHostFrrConf(v, "listing"));
  });
});

describe("network lines in FRR's prefix-tree order", () => {
  const table: [string[], string[]][] = [
    [
      ["10.2.0.0/16", "2.2.2.2/32", "10.1.0.0/24"],
      ["2.2.2.2/32", "10.1.0.0/24", "10.2.0.0/16"],
    ],
    [
      ["10.0.0.0/24", "10.0.0.0/8"],
      ["10.0.0.0/8", "10.0.0.0/24"],
    ],
    [
      ["10.1.0.0/16", "10.0.0.0/8", "9.255.0.0/16"],
      ["9.255.0.0/16", "10.0.0.0/8", "10.1.0.0/16"],
    ],
    [
      ["192.168.0.0/16", "0.0.0.0/0", "200.0.0.0/8"],
      ["0.0.0.0/0", "192.168.0.0/16", "200.0.0.0/8"],
    ],
  ];
  for (const [input, sorted] of table) {
    it(`${input.join(" ")} → ${sorted.join(" ")}`, () =>
      assert.deepEqual(sortPrefixes(input), sorted));
  }
});

describe("interface plan (python3, as the apply script runs it)", () => {
  function plan(running: string, wanted: string): string[] {
    const file = path.join(os.tmpdir(), `frr-nspawn-plan-${process.pid}.conf`);
    fs.writeFileSync(file, wanted);
    try {
      const r = spawnSync("python3", ["-c", INTERFACE_PLAN_PY, file], {
        input: running,
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split("\n").filter((l) => l !== "");
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
  const stanza = (name: string, ...lines: string[]) =>
    [`interface ${name}`, ...lines.map((l) => ` ${l}`), "exit", "!", ""].join("\n");
  const ra = (i: number, l: number) => [
    `ipv6 nd ra-interval ${i}`,
    `ipv6 nd ra-lifetime ${l}`,
    "no ipv6 nd suppress-ra",
  ];

  const table: [string, string, string, string[]][] = [
    ["unchanged: nothing to send", stanza("swp1", ...ra(5, 15)), stanza("swp1", ...ra(5, 15)), []],
    [
      "new downlink: interval before lifetime (the default interval is 600 s)",
      "",
      stanza("swp1", ...ra(5, 15)),
      [
        "interface swp1\tipv6 nd ra-interval 5",
        "interface swp1\tipv6 nd ra-lifetime 15",
        "interface swp1\tno ipv6 nd suppress-ra",
      ],
    ],
    [
      "slower RA: lifetime first",
      stanza("swp1", ...ra(5, 15)),
      stanza("swp1", ...ra(30, 90)),
      ["interface swp1\tipv6 nd ra-lifetime 90", "interface swp1\tipv6 nd ra-interval 30"],
    ],
    [
      "faster RA: interval first",
      stanza("swp1", ...ra(30, 90)),
      stanza("swp1", ...ra(5, 15)),
      ["interface swp1\tipv6 nd ra-interval 5", "interface swp1\tipv6 nd ra-lifetime 15"],
    ],
    [
      "removed downlink: explicit negations, lifetime before interval",
      stanza("swp1", ...ra(5, 15)) + stanza("swp2", ...ra(10, 30)),
      stanza("swp1", ...ra(5, 15)),
      [
        "interface swp2\tipv6 nd suppress-ra",
        "interface swp2\tno ipv6 nd ra-lifetime 30",
        "interface swp2\tno ipv6 nd ra-interval 10",
      ],
    ],
    [
      "empty config: every interface line negated",
      stanza("lo", "ip address 1.1.1.1/32") +
        "router bgp 65000\n neighbor swp1 interface remote-as external\nexit\n",
      "",
      ["interface lo\tno ip address 1.1.1.1/32"],
    ],
    [
      "interval dropped, lifetime raised: lifetime first so the default interval fits",
      stanza("swp1", "ipv6 nd ra-interval 5", "ipv6 nd ra-lifetime 15"),
      stanza("swp1", "ipv6 nd ra-lifetime 900"),
      ["interface swp1\tipv6 nd ra-lifetime 900", "interface swp1\tno ipv6 nd ra-interval 5"],
    ],
  ];
  for (const [title, running, wanted, expected] of table) {
    it(title, () => assert.deepEqual(plan(running, wanted), expected));
  }
});
