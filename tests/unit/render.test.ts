import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import {
  renderDaemons,
  renderFrrStopDropIn,
  DEFAULT_DAEMONS,
} from "../../components/render/daemons";
import {
  compareInterfaceNames,
  renderEmptyFrrConf,
  renderHostFrrConf,
  renderSwitchFrrConf,
  withKernelForwarding,
} from "../../components/render/frrConf";
import { renderHostUnit, renderSysctl } from "../../components/render/hostNetwork";
import {
  renderNspawnSettings,
  renderUnitOverride,
  DEFAULT_CAPABILITIES,
} from "../../components/render/nspawn";
import { SEED_HOST, SEED_SWITCH } from "../fixtures";

function golden(name: string): string {
  return fs.readFileSync(path.join(__dirname, "..", "golden", name), "utf8");
}

/**
 * The lines of the seed's own frr.conf (shared/seed), indentation aside; its `no ipv6
 * forwarding` is zebra's listing of a host whose IPv6 forwarding was off.
 */
const SEED_FRR_CONF_LINES = [
  "frr defaults traditional",
  "hostname frr",
  "no ipv6 forwarding",
  "service integrated-vtysh-config",
  "router bgp 65001",
  "bgp router-id 2.2.2.2",
  "neighbor TOR peer-group",
  "neighbor TOR remote-as external",
  "neighbor ens3 interface peer-group TOR",
  "address-family ipv4 unicast",
  "network 2.2.2.2/32",
  "exit-address-family",
];

describe("frr.conf for the host", () => {
  const conf = renderHostFrrConf(SEED_HOST);

  it("matches its golden file (seed parameters)", () => {
    assert.equal(conf, golden("host-seed.frr.conf"));
  });

  it("holds every line of the seed's frr.conf, with the seed host's forwarding (IPv6 off)", () => {
    const lines = withKernelForwarding(conf, { ipv4: true, ipv6: false })
      .split("\n")
      .map((l) => l.trim());
    for (const line of SEED_FRR_CONF_LINES) {
      assert.ok(lines.includes(line), `missing: ${line}`);
    }
  });

  it("adds the FRR >= 7.4 policy: export only the loopback, accept what the TOR sends", () => {
    assert.match(conf, /^ip prefix-list TOR-OUT seq 5 permit 2\.2\.2\.2\/32$/m);
    assert.match(
      conf,
      /^route-map TOR-OUT permit 10\n match ip address prefix-list TOR-OUT\nexit$/m,
    );
    assert.match(conf, /^route-map TOR-IN permit 10\nexit$/m);
    assert.match(
      conf,
      /^ {2}neighbor TOR route-map TOR-IN in\n {2}neighbor TOR route-map TOR-OUT out$/m,
    );
    assert.doesNotMatch(conf, /ebgp-requires-policy/);
  });

  it("says nothing about forwarding: the apply adds the kernel's own", () => {
    assert.doesNotMatch(conf, /forwarding/);
  });

  const head = "frr version 8.4.4\nfrr defaults traditional\nhostname frr\n";
  const forwardingTable: [string, string, { ipv4: boolean; ipv6: boolean }, string][] = [
    [
      "both on: no line",
      `${head}service x\n!\n`,
      { ipv4: true, ipv6: true },
      `${head}service x\n!\n`,
    ],
    [
      "both off: both lines after hostname",
      `${head}no zebra nexthop kernel enable\n!\n`,
      { ipv4: false, ipv6: false },
      `${head}no ip forwarding\nno ipv6 forwarding\nno zebra nexthop kernel enable\n!\n`,
    ],
    ["IPv4 off only", `${head}!\n`, { ipv4: false, ipv6: true }, `${head}no ip forwarding\n!\n`],
    [
      "IPv6 off only, given lines replaced",
      `${head}ip forwarding\nno ip forwarding\n!\nipv6 forwarding\n`,
      { ipv4: true, ipv6: false },
      `${head}no ipv6 forwarding\n!\n`,
    ],
    [
      "header only: the lines last",
      "frr version 10.3\nhostname h\n",
      { ipv4: false, ipv6: false },
      "frr version 10.3\nhostname h\nno ip forwarding\nno ipv6 forwarding\n",
    ],
    [
      "indented lines are not the global ones",
      ` no ip forwarding\n`,
      { ipv4: true, ipv6: true },
      ` no ip forwarding\n`,
    ],
  ];
  for (const [title, given, kernel, expected] of forwardingTable) {
    it(`withKernelForwarding: ${title}`, () => {
      assert.equal(withKernelForwarding(given, kernel), expected);
    });
  }

  const table: [string, Partial<typeof SEED_HOST>, string[]][] = [
    [
      "two uplinks",
      { interfaces: ["ens3", "ens4"] },
      [" neighbor ens3 interface peer-group TOR", " neighbor ens4 interface peer-group TOR"],
    ],
    ["4-byte ASN", { asn: 4200000001 }, ["router bgp 4200000001"]],
    [
      "extra network",
      { networks: ["10.1.0.0/24"] },
      ["  network 10.1.0.0/24", "ip prefix-list TOR-OUT seq 10 permit 10.1.0.0/24"],
    ],
    [
      "other peer-group",
      { peerGroup: "SPINE" },
      [
        " neighbor SPINE peer-group",
        "route-map SPINE-OUT permit 10",
        " match ip address prefix-list SPINE-OUT",
      ],
    ],
    ["router-id apart", { routerId: "10.0.0.9" }, [" bgp router-id 10.0.0.9"]],
  ];
  it("bfd and graceful restart: FRR's own order, and neither by default", () => {
    assert.doesNotMatch(conf, /bfd|graceful-restart/);
    const both = renderHostFrrConf({ ...SEED_HOST, bfd: true, gracefulRestart: true });
    assert.match(
      both,
      /^router bgp 65001\n bgp router-id 2\.2\.2\.2\n bgp graceful-restart\n bgp graceful-restart preserve-fw-state\n neighbor TOR peer-group\n neighbor TOR remote-as external\n neighbor TOR bfd\n neighbor ens3 interface peer-group TOR\n !$/m,
    );
    assert.match(
      both,
      /^hostname frr\nno zebra nexthop kernel enable\nservice integrated-vtysh-config$/m,
    );
  });

  it("graceful restart is the same two lines on every release line (no disable-eor: it silences route refresh)", () => {
    const lines = (frrVersion: string) =>
      renderHostFrrConf({ ...SEED_HOST, frrVersion, gracefulRestart: true })
        .split("\n")
        .filter((l) => l.includes("graceful-restart"));
    const both = [" bgp graceful-restart", " bgp graceful-restart preserve-fw-state"];
    assert.deepEqual(lines("8.4.4"), both);
    assert.deepEqual(lines("9.1"), both);
    assert.deepEqual(lines("10.3"), both);
  });

  for (const [title, change, lines] of table) {
    it(`${title}: renders ${lines.length} exact line(s)`, () => {
      const out = renderHostFrrConf({ ...SEED_HOST, ...change }).split("\n");
      for (const line of lines) {
        assert.ok(out.includes(line), `missing ${JSON.stringify(line)}`);
      }
    });
  }
});

describe("frr.conf for a plain-FRR switch", () => {
  const conf = renderSwitchFrrConf(SEED_SWITCH);

  it("matches its golden file (seed parameters)", () => {
    assert.equal(conf, golden("switch-seed.frr.conf"));
  });

  it("uses `interface` on the unnumbered neighbour (FRR rejects the seed's NCLU form)", () => {
    assert.match(conf, /^ neighbor swp1 interface remote-as external$/m);
  });

  it("sends router advertisements with the seed's timing", () => {
    assert.match(
      conf,
      /^interface swp1\n ipv6 nd ra-interval 5\n ipv6 nd ra-lifetime 15\n no ipv6 nd suppress-ra\nexit$/m,
    );
  });

  it("bfd on every downlink, right after its neighbour line", () => {
    assert.doesNotMatch(conf, /bfd/);
    const two = renderSwitchFrrConf({
      ...SEED_SWITCH,
      bfd: true,
      downlinks: [
        { port: "swp1", raInterval: 5, raLifetime: 15 },
        { port: "swp2", raInterval: 5, raLifetime: 15 },
      ],
    });
    assert.match(
      two,
      /^ neighbor swp1 interface remote-as external\n neighbor swp1 bfd\n neighbor swp2 interface remote-as external\n neighbor swp2 bfd\n !$/m,
    );
    const cbit = renderSwitchFrrConf({
      ...SEED_SWITCH,
      bfd: true,
      bfdCheckControlPlaneFailure: true,
    });
    assert.match(
      cbit,
      /^ neighbor swp1 interface remote-as external\n neighbor swp1 bfd\n neighbor swp1 bfd check-control-plane-failure\n !$/m,
    );
    // Without bfd there is nothing to check.
    assert.doesNotMatch(
      renderSwitchFrrConf({ ...SEED_SWITCH, bfdCheckControlPlaneFailure: true }),
      /bfd/,
    );
  });

  it("empty config keeps only the header", () => {
    assert.equal(
      renderEmptyFrrConf("8.4.4", "tor"),
      "frr version 8.4.4\nfrr defaults traditional\nhostname tor\nservice integrated-vtysh-config\n!\n",
    );
  });
});

describe("daemons, nspawn settings, host files", () => {
  const daemonsTable: [string, string[]][] = [
    [
      "8.4.4",
      [
        'zebra_options=" -A 127.0.0.1 -s 90000000"',
        'staticd_options=" -A 127.0.0.1"',
        'bgpd_options=" -A 127.0.0.1"',
      ],
    ],
    [
      "10.3",
      [
        'zebra_options=" -A 127.0.0.1 -s 90000000"',
        'mgmtd_options=" -A 127.0.0.1"',
        'staticd_options=" -A 127.0.0.1"',
        'bgpd_options=" -A 127.0.0.1"',
      ],
    ],
  ];
  it("daemons file with bfd and route retention: bfdd on, its VTY local, zebra -r -K120 (attached)", () => {
    assert.equal(
      renderDaemons({ ...DEFAULT_DAEMONS, bfd: true, retainRoutesSeconds: 120 }, "10.3"),
      [
        "# FRR daemons, written by frr-nspawn. Changing this file restarts FRR.",
        "bgpd=yes",
        "bfdd=yes",
        "vtysh_enable=yes",
        'zebra_options=" -A 127.0.0.1 -s 90000000 -r -K120"',
        'mgmtd_options=" -A 127.0.0.1"',
        'staticd_options=" -A 127.0.0.1"',
        'bgpd_options=" -A 127.0.0.1"',
        'bfdd_options=" -A 127.0.0.1"',
        "",
      ].join("\n"),
    );
  });

  for (const [version, options] of daemonsTable) {
    it(`daemons file for FRR ${version}: the seed's options, every daemon's VTY on 127.0.0.1`, () => {
      assert.equal(
        renderDaemons(DEFAULT_DAEMONS, version),
        [
          "# FRR daemons, written by frr-nspawn. Changing this file restarts FRR.",
          "bgpd=yes",
          "vtysh_enable=yes",
          ...options,
          "",
        ].join("\n"),
      );
    });
  }

  for (const expected of [true, false]) {
    it(`frr.service stop drop-in, gracefulRestart ${expected}: ${expected ? "zebra first" : "none"}`, () => {
      const dropIn = renderFrrStopDropIn(expected);
      if (!expected) {
        assert.equal(dropIn, undefined);
        return;
      }
      assert.deepEqual(dropIn?.split("\n").slice(3), [
        "[Service]",
        "ExecStop=",
        "ExecStop=-/bin/bash -c '. /usr/lib/frr/frrcommon.sh && daemon_stop watchfrr --quiet; daemon_stop zebra --quiet'",
        "ExecStop=/usr/lib/frr/frrinit.sh stop",
        "",
      ]);
    });
  }

  it(".nspawn file: host network, least privilege", () => {
    assert.equal(renderNspawnSettings(DEFAULT_CAPABILITIES), golden("frr.nspawn"));
    assert.match(renderNspawnSettings(DEFAULT_CAPABILITIES), /^VirtualEthernet=no$/m);
    assert.match(
      renderNspawnSettings(DEFAULT_CAPABILITIES),
      /^Capability=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE$/m,
    );
  });

  it("unit override is the seed's ExecStart without --network-veth and -U", () => {
    const text = renderUnitOverride();
    assert.match(text, /^ExecStart=$/m);
    assert.match(text, / --capability=all /);
    assert.doesNotMatch(text, /--network-veth| -U /);
  });

  it("sysctl file turns IPv6 on for all, default and each uplink", () => {
    assert.equal(
      renderSysctl({ machine: "frr", loopback: "2.2.2.2/32", interfaces: ["ens3"] }),
      [
        "# Written by frr-nspawn (BgpLoopback): IPv6 for BGP unnumbered (machine frr).",
        "net.ipv6.conf.all.disable_ipv6 = 0",
        "net.ipv6.conf.default.disable_ipv6 = 0",
        "net.ipv6.conf.ens3.disable_ipv6 = 0",
        "",
      ].join("\n"),
    );
  });

  it("host unit runs before the machine and removes the address when stopped", () => {
    const unit = renderHostUnit({ machine: "frr", loopback: "2.2.2.2/32", interfaces: ["ens3"] });
    assert.equal(unit, golden("frr-nspawn-network-frr.service"));
    assert.match(unit, /^Before=systemd-nspawn@frr\.service$/m);
    assert.match(unit, /^ExecStart=ip -4 address replace 2\.2\.2\.2\/32 dev lo$/m);
    assert.match(unit, /^ExecStop=-ip -4 address del 2\.2\.2\.2\/32 dev lo$/m);
  });
});

describe("interface order", () => {
  it("follows FRR: names compared with numbers as numbers", () => {
    assert.deepEqual(
      ["swp10", "swp2", "lo", "swp1s1", "swp1", "eth0"].sort(compareInterfaceNames),
      ["eth0", "lo", "swp1", "swp1s1", "swp2", "swp10"],
    );
  });
});
