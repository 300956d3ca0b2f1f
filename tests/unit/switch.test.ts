/**
 * The switch dialects: every `net`/`nv` line a dialect can emit (its switch-wide and own
 * lines, their removals, and every call its scripts make) matches a documented command
 * form (tests/unit/switch-docs.ts, each row citing its CumulusNetworks/docs page); the
 * ownership model (what is set, what is removed, in which order) is the same for all.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { DIALECTS, SwitchConfig, SwitchDialect, Words } from "../../components/render/switch";
import { atLeast, nvueSyntax } from "../../components/render/switch/nvue";
import { FRR_LISTING_AWK } from "../../components/render/switch/vtysh";
import {
  DocumentedForm,
  NCLU_FORMS,
  NVUE_515_FORMS,
  NVUE_59_FORMS,
  NVUE_COMMON_FORMS,
} from "./switch-docs";

const TWO: SwitchConfig = {
  id: "p-s-tor",
  description: "frr-nspawn p/s tor",
  cumulusVersion: "5.9",
  bfd: true,
  bfdCheckControlPlaneFailure: false,
  asn: 65000,
  routerId: "10.255.0.2",
  loopback: "10.255.0.2/32",
  downlinks: [
    { port: "swp1", raInterval: 5, raLifetime: 15 },
    { port: "swp12s1", raInterval: 30, raLifetime: 0 },
  ],
  networks: ["10.1.0.0/24", "192.168.7.0/25"],
};

/**
 * Every `net …` / `nv …` command a script runs (through its checking wrappers `nclu`
 * and `nvue`, or directly), with single-quoted words unquoted.
 */
export function commandsIn(script: string, tool: "net" | "nv"): string[] {
  const names = tool === "net" ? ["net", "nclu"] : ["nv", "nvue"];
  const SEP = "\u0000";
  const found: string[] = [];
  for (const line of script.split("\n")) {
    // The wrapper's own definition, and messages (which name commands for people).
    if (line.includes('"$@"') || /^\s*echo /.test(line)) continue;
    // Shell words, quotes removed; separators (; | & ( ) < > tab) as their own tokens.
    const tokens: string[] = [];
    let word = "";
    let quote = "";
    const flush = () => {
      if (word !== "") tokens.push(word);
      word = "";
    };
    for (const ch of line) {
      if (quote !== "") {
        if (ch === quote) quote = "";
        else word += ch;
      } else if (ch === "'" || ch === '"') {
        quote = ch;
      } else if (ch === " ") {
        flush();
      } else if (";|&()<>\t".includes(ch)) {
        flush();
        tokens.push(SEP);
      } else {
        word += ch;
      }
    }
    flush();
    const starts = new Set([SEP, "then", "do", "else", "if", "!", "$"]);
    tokens.forEach((t, i) => {
      if (!names.includes(t) || !(i === 0 || starts.has(tokens[i - 1]))) return;
      const words: string[] = [];
      for (let k = i + 1; k < tokens.length && tokens[k] !== SEP; k++) words.push(tokens[k]);
      if (words.length > 0 && /^[a-z]/.test(words[0])) found.push([tool, ...words].join(" "));
    });
  }
  return found;
}

function matchOne(table: DocumentedForm[], line: string): DocumentedForm {
  const rows = table.filter((r) => r.form.test(line));
  assert.equal(rows.length, 1, `${JSON.stringify(line)} matches ${rows.length} documented forms`);
  return rows[0];
}

function allLines(d: SwitchDialect, c: SwitchConfig): Words[] {
  return [...d.shared(c), ...d.owned(c).flatMap((o) => [o.add, o.remove])];
}

const cases: [string, SwitchDialect, SwitchConfig, "net" | "nv", DocumentedForm[]][] = [
  ["nclu", DIALECTS.nclu, TWO, "net", NCLU_FORMS],
  ["nvue 5.9", DIALECTS.nvue, TWO, "nv", [...NVUE_59_FORMS, ...NVUE_COMMON_FORMS]],
  [
    "nvue 5.4 (no -m, then nv config save)",
    DIALECTS.nvue,
    { ...TWO, cumulusVersion: "5.4" },
    "nv",
    [...NVUE_59_FORMS, ...NVUE_COMMON_FORMS],
  ],
  [
    "nvue 5.15",
    DIALECTS.nvue,
    { ...TWO, cumulusVersion: "5.15" },
    "nv",
    [...NVUE_515_FORMS, ...NVUE_COMMON_FORMS],
  ],
];

describe("switch dialects: every emitted line is a documented command form", () => {
  for (const [title, d, c, tool, table] of cases) {
    it(`${title}: every switch-wide, own and removal line`, () => {
      const lines = allLines(d, c).map((w) => w.join(" "));
      assert.ok(lines.length >= 20, `only ${lines.length} lines`);
      for (const line of lines) matchOne(table, line);
    });
    it(`${title}: every command the apply and remove scripts run`, () => {
      const used = [
        ...commandsIn(d.applyScript("s", c), tool),
        ...commandsIn(d.removeScript("s", c), tool),
      ];
      assert.ok(used.length >= 20, `only ${used.length} commands found`);
      for (const line of used) matchOne(table, line);
    });
  }

  it("the scanner finds commands, quoted words included, and the table can say no", () => {
    assert.deepEqual(
      commandsIn(
        "x=$(nclu commit description 'a b')\nif has 'y'; then nclu add bgp z >/dev/null; fi",
        "net",
      ),
      ["net commit description a b", "net add bgp z"],
    );
    assert.throws(() => matchOne(NCLU_FORMS, "net del bgp autonomous-system 65000"));
    // Not a documented form (4.3 documents `net add bgp neighbor swp51 graceful-restart-mode helper`).
    assert.throws(() => matchOne(NCLU_FORMS, "net add bgp graceful-restart-helper"));
    assert.throws(() =>
      matchOne(
        [...NVUE_515_FORMS, ...NVUE_COMMON_FORMS],
        "nv set interface lo ip address 1.1.1.1/32",
      ),
    );
    assert.throws(() => matchOne([...NVUE_59_FORMS, ...NVUE_COMMON_FORMS], "nv unset router bgp"));
  });

  it("every table row cites a page of the 3.7–5.x docs", () => {
    for (const row of [...NCLU_FORMS, ...NVUE_59_FORMS, ...NVUE_515_FORMS, ...NVUE_COMMON_FORMS]) {
      assert.match(row.page, /^content\/(cumulus-linux-(37|41|44|59|515)|nvue-reference)\/.+\.md$/);
      assert.ok(row.example.length > 0);
    }
  });
});

describe("switch dialects: one ownership model", () => {
  it("nclu: switch-wide lines, then own lines; RA interval and lifetime per port (RA is on by itself)", () => {
    assert.deepEqual(
      DIALECTS.nclu.shared(TWO).map((w) => w.join(" ")),
      [
        "net add loopback lo ip address 10.255.0.2/32",
        "net add interface swp1",
        "net add interface swp12s1",
        "net add bgp autonomous-system 65000",
        "net add bgp router-id 10.255.0.2",
        "net add bgp ipv4 unicast network 10.255.0.2/32",
      ],
    );
    assert.deepEqual(
      DIALECTS.nclu.owned(TWO).map((o) => `${o.add.join(" ")} | ${o.remove.join(" ")}`),
      [
        "net add interface swp1 ipv6 nd ra-interval 5 | net del interface swp1 ipv6 nd ra-interval 5",
        "net add interface swp1 ipv6 nd ra-lifetime 15 | net del interface swp1 ipv6 nd ra-lifetime 15",
        "net add interface swp12s1 ipv6 nd ra-interval 30 | net del interface swp12s1 ipv6 nd ra-interval 30",
        "net add interface swp12s1 ipv6 nd ra-lifetime 0 | net del interface swp12s1 ipv6 nd ra-lifetime 0",
        "net add bgp ipv4 unicast network 10.1.0.0/24 | net del bgp ipv4 unicast network 10.1.0.0/24",
        "net add bgp ipv4 unicast network 192.168.7.0/25 | net del bgp ipv4 unicast network 192.168.7.0/25",
        "net add bgp neighbor swp1 remote-as external | net del bgp neighbor swp1 remote-as external",
        "net add bgp neighbor swp12s1 remote-as external | net del bgp neighbor swp12s1 remote-as external",
        "net add bgp neighbor swp1 bfd | net del bgp neighbor swp1 bfd",
        "net add bgp neighbor swp12s1 bfd | net del bgp neighbor swp12s1 bfd",
      ],
    );
  });

  it("nvue: milliseconds for the RA interval; 5.15 syntax by version", () => {
    const own = (v: string) =>
      DIALECTS.nvue.owned({ ...TWO, cumulusVersion: v }).map((o) => o.add.join(" "));
    assert.deepEqual(own("5.9").slice(0, 3), [
      "nv set interface swp1 ip neighbor-discovery router-advertisement enable on",
      "nv set interface swp1 ip neighbor-discovery router-advertisement interval 5000",
      "nv set interface swp1 ip neighbor-discovery router-advertisement lifetime 15",
    ]);
    assert.deepEqual(own("5.15").slice(0, 3), [
      "nv set interface swp1 ipv6 neighbor-discovery router-advertisement state enabled",
      "nv set interface swp1 ipv6 neighbor-discovery router-advertisement interval 5000",
      "nv set interface swp1 ipv6 neighbor-discovery router-advertisement lifetime 15",
    ]);
    assert.equal(
      DIALECTS.nvue.shared({ ...TWO, cumulusVersion: "5.15.1" })[0].join(" "),
      "nv set interface lo ipv4 address 10.255.0.2/32",
    );
    assert.deepEqual(
      ["5.0", "5.9", "5.14", "5.15", "5.15.2", "5.16"].map((v) => atLeast(v, 5, 15)),
      [false, false, false, true, true, true],
    );
    assert.deepEqual(nvueSyntax("5.14").on, ["enable", "on"]);
  });

  it("vtysh: each line in its context; negations in an order FRR accepts", () => {
    const own = DIALECTS.vtysh.owned(TWO);
    const removal = [...own].reverse().map((o) => o.remove.join(" / "));
    const at = (s: string) => removal.indexOf(s);
    // RA lifetime goes before the interval (FRR 10.3's YANG check), references before route-maps.
    assert.ok(
      at("interface swp1 / no ipv6 nd ra-lifetime 15") <
        at("interface swp1 / no ipv6 nd ra-interval 5"),
    );
    assert.ok(
      at(
        "router bgp 65000 / address-family ipv4 unicast / no neighbor swp1 route-map p-s-tor-IN in",
      ) < at("router bgp 65000 / no neighbor swp1"),
    );
    assert.ok(at("router bgp 65000 / no neighbor swp1") < at("no route-map p-s-tor-IN"));
    assert.deepEqual(
      DIALECTS.vtysh.shared(TWO).map((w) => w.join(" / ")),
      [
        "interface lo / ip address 10.255.0.2/32",
        "router bgp 65000",
        "router bgp 65000 / bgp router-id 10.255.0.2",
        "router bgp 65000 / address-family ipv4 unicast / network 10.255.0.2/32",
      ],
    );
  });

  for (const d of Object.values(DIALECTS)) {
    it(`${d.cli}: destroy removes only own lines, never the ASN, router-id, loopback or router bgp`, () => {
      const text = d.removeScript("s", TWO);
      const removals = d.owned(TWO).map((o) => o.remove.join(" "));
      for (const r of removals) {
        assert.doesNotMatch(
          r,
          /autonomous-system|router-id|loopback|interface lo|^no router bgp|unset router bgp$/,
        );
      }
      assert.doesNotMatch(
        text,
        /net del bgp autonomous-system|nv unset router bgp|no router bgp|unset interface lo/,
      );
      assert.doesNotMatch(text, /10\.255\.0\.2\/32'?; then/);
    });

    it(`${d.cli}: apply takes the lock, refuses foreign pending work before staging, commits once, verifies`, () => {
      const text = d.applyScript("s", TWO);
      const order = [
        "flock --wait 600 8",
        "staged=0",
        "config=$(",
        "current=$(sed -n",
        "then staged=1;",
      ];
      const at = order.map((needle) => text.indexOf(needle));
      assert.ok(
        at.every((i, k) => i > 0 && (k === 0 || i > at[k - 1])),
        `out of order: ${JSON.stringify(at)}`,
      );
      assert.ok(text.includes("does not show what was applied"));
      assert.ok(text.includes("this resource's is "));
      const r = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    });
  }
});

describe("switch dialects: bfd", () => {
  const OFF = { ...TWO, bfd: false };
  const adds = (d: SwitchDialect, c: SwitchConfig) =>
    d.owned(c).map((o) => o.add.join(d.cli === "vtysh" ? " / " : " "));
  // Title, dialect, release, own BFD lines, and switch-wide lines bfd adds (5.15's profile).
  const cases: [string, SwitchDialect, string, string[], string[]?][] = [
    [
      "nclu",
      DIALECTS.nclu,
      "5.9",
      [
        "net add bgp neighbor swp1 bfd | net del bgp neighbor swp1 bfd",
        "net add bgp neighbor swp12s1 bfd | net del bgp neighbor swp12s1 bfd",
      ],
    ],
    [
      "nvue 5.9",
      DIALECTS.nvue,
      "5.9",
      [
        "nv set vrf default router bgp neighbor swp1 bfd enable on | nv unset vrf default router bgp neighbor swp1 bfd enable",
        "nv set vrf default router bgp neighbor swp12s1 bfd enable on | nv unset vrf default router bgp neighbor swp12s1 bfd enable",
      ],
    ],
    [
      "nvue 5.15",
      DIALECTS.nvue,
      "5.15",
      [
        "nv set vrf default router bgp neighbor swp1 bfd profile frr-nspawn | nv unset vrf default router bgp neighbor swp1 bfd",
        "nv set vrf default router bgp neighbor swp12s1 bfd profile frr-nspawn | nv unset vrf default router bgp neighbor swp12s1 bfd",
      ],
      [
        "nv set router bfd profile frr-nspawn detect-multiplier 3",
        "nv set router bfd profile frr-nspawn min-rx-interval 300",
        "nv set router bfd profile frr-nspawn min-tx-interval 300",
      ],
    ],
    [
      "vtysh",
      DIALECTS.vtysh,
      "5.9",
      [
        "router bgp 65000 / neighbor swp1 bfd | router bgp 65000 / no neighbor swp1 bfd",
        "router bgp 65000 / neighbor swp12s1 bfd | router bgp 65000 / no neighbor swp12s1 bfd",
      ],
    ],
  ];
  for (const [title, d, version, expected, profile = []] of cases) {
    it(`${title}: one own line per downlink, after its neighbour; bfd false owns exactly the rest`, () => {
      const on = { ...TWO, cumulusVersion: version };
      const off = { ...OFF, cumulusVersion: version };
      const sep = d.cli === "vtysh" ? " / " : " ";
      const bfd = d
        .owned(on)
        .filter((o) => /\bbfd\b/.test(o.add.join(" ")))
        .map((o) => `${o.add.join(sep)} | ${o.remove.join(sep)}`);
      assert.deepEqual(bfd, expected);
      // Turning bfd off leaves every other owned line as it was: the update removes only these.
      assert.deepEqual(
        adds(d, on).filter((a) => !/\bbfd\b/.test(a)),
        adds(d, off),
      );
      // Each BFD line comes after its neighbour (and so is removed before it).
      const a = adds(d, on);
      for (const port of ["swp1", "swp12s1"]) {
        const neighbour = a.findIndex(
          (x) => x.includes(`neighbor ${port} `) && !/bfd|route-map/.test(x),
        );
        const line = a.findIndex((x) => x.includes(`neighbor ${port} bfd`));
        assert.ok(neighbour >= 0 && line > neighbour, `${port}: ${neighbour} ${line}`);
      }
      assert.deepEqual(
        d.shared(on).map((w) => w.join(" ")),
        [...d.shared(off).map((w) => w.join(" ")), ...profile],
      );
    });
  }

  it("nvue 5.15: bfd fails before staging unless BFD is on switch-wide; remove never asks for it", () => {
    const on = { ...TWO, cumulusVersion: "5.15" };
    const apply = DIALECTS.nvue.applyScript("s", on);
    const check = apply.indexOf(
      "if ! nvue_listing | grep -Fxq 'nv set router bfd state enabled'; then",
    );
    assert.ok(check > 0, apply);
    assert.ok(check < apply.indexOf("staged=1"), "the check must come before anything is staged");
    assert.match(apply, /bfd needs BFD on on this switch/);
    assert.doesNotMatch(DIALECTS.nvue.removeScript("s", on), /bfd state enabled/);
    assert.doesNotMatch(DIALECTS.nvue.applyScript("s", { ...on, bfd: false }), /bfd state enabled/);
    assert.doesNotMatch(
      DIALECTS.nvue.applyScript("s", { ...on, cumulusVersion: "5.14" }),
      /bfd state enabled/,
    );
  });

  it("nvue: from 5.9 the apply has a message and saves itself; before, nv config save follows", () => {
    assert.match(
      DIALECTS.nvue.applyScript("s", { ...TWO, cumulusVersion: "5.9" }),
      /\n {4}nvue config apply --assume-yes -m 'frr-nspawn p\/s tor'\nfi\n/,
    );
    const old = DIALECTS.nvue.applyScript("s", { ...TWO, cumulusVersion: "5.8" });
    assert.match(old, /\n {4}nvue config apply --assume-yes\n {4}nvue config save\nfi\n/);
    assert.doesNotMatch(old, / -m /);
  });

  it("vtysh: bfdCheckControlPlaneFailure adds one own line per downlink after the BFD lines, only with bfd", () => {
    const sep = " / ";
    const lines = (c: SwitchConfig) =>
      DIALECTS.vtysh
        .owned(c)
        .filter((o) => o.add.join(" ").includes("bfd"))
        .map((o) => `${o.add.join(sep)} | ${o.remove.join(sep)}`);
    assert.deepEqual(lines({ ...TWO, bfdCheckControlPlaneFailure: true }), [
      "router bgp 65000 / neighbor swp1 bfd | router bgp 65000 / no neighbor swp1 bfd",
      "router bgp 65000 / neighbor swp12s1 bfd | router bgp 65000 / no neighbor swp12s1 bfd",
      "router bgp 65000 / neighbor swp1 bfd check-control-plane-failure | router bgp 65000 / no neighbor swp1 bfd check-control-plane-failure",
      "router bgp 65000 / neighbor swp12s1 bfd check-control-plane-failure | router bgp 65000 / no neighbor swp12s1 bfd check-control-plane-failure",
    ]);
    assert.deepEqual(lines({ ...OFF, bfdCheckControlPlaneFailure: true }), []);
  });

  it("vtysh: bfd needs bfdd on the switch; remove never asks for it", () => {
    const apply = DIALECTS.vtysh.applyScript("s", TWO);
    assert.ok(apply.includes("if ! grep -Eq '^bfdd=yes' /etc/frr/daemons; then"));
    assert.ok(apply.includes("bfd needs bfdd, which is off in /etc/frr/daemons"));
    assert.ok(!DIALECTS.vtysh.applyScript("s", OFF).includes("bfdd"));
    assert.ok(!DIALECTS.vtysh.removeScript("s", TWO).includes("bfdd"));
    // Cumulus runs BFD itself (PTM): NCLU and NVUE never touch the daemons file.
    for (const d of [DIALECTS.nclu, DIALECTS.nvue]) {
      assert.ok(!d.applyScript("s", TWO).includes("/etc/frr/daemons"));
    }
  });
});

describe("vtysh listing: running-config lines with their contexts", () => {
  it("prefixes each line with its contexts, like the dialect's keys", () => {
    const running = [
      "frr version 8.4.4",
      "frr defaults datacenter",
      "hostname tor",
      "!",
      "interface lo",
      " ip address 10.255.0.2/32",
      "exit",
      "!",
      "interface swp1",
      " ipv6 nd ra-interval 5",
      " no ipv6 nd suppress-ra",
      "exit",
      "!",
      "router bgp 65000",
      " bgp router-id 10.255.0.2",
      " neighbor swp1 interface remote-as external",
      " !",
      " address-family ipv4 unicast",
      "  network 10.255.0.2/32",
      "  neighbor swp1 route-map p-s-tor-IN in",
      " exit-address-family",
      "exit",
      "!",
      "route-map p-s-tor-IN permit 10",
      "exit",
      "!",
      "end",
    ].join("\n");
    const r = spawnSync("awk", ["-v", "SEP= / ", FRR_LISTING_AWK], {
      input: running,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), [
      "frr version 8.4.4",
      "frr defaults datacenter",
      "hostname tor",
      "interface lo",
      "interface lo / ip address 10.255.0.2/32",
      "interface swp1",
      "interface swp1 / ipv6 nd ra-interval 5",
      "interface swp1 / no ipv6 nd suppress-ra",
      "router bgp 65000",
      "router bgp 65000 / bgp router-id 10.255.0.2",
      "router bgp 65000 / neighbor swp1 interface remote-as external",
      "router bgp 65000 / address-family ipv4 unicast",
      "router bgp 65000 / address-family ipv4 unicast / network 10.255.0.2/32",
      "router bgp 65000 / address-family ipv4 unicast / neighbor swp1 route-map p-s-tor-IN in",
      "route-map p-s-tor-IN permit 10",
    ]);
    const keys = [
      ...DIALECTS.vtysh.shared(TWO),
      ...DIALECTS.vtysh.owned(TWO).map((o) => o.add),
    ].map((w) => w.join(" / "));
    assert.ok(
      keys.includes("router bgp 65000 / address-family ipv4 unicast / network 10.255.0.2/32"),
    );
  });
});

/** The bash functions a dialect's apply script defines (before anything runs). */
function listingFunctions(d: SwitchDialect, c: SwitchConfig, first: string): string {
  const script = d.applyScript("s", c);
  return script.slice(script.indexOf(`${first}() {`), script.indexOf("\nstaged=0\n"));
}

/** What `has` sees: the dialect's listing function run on `printed` as the tool's output. */
function listed(d: SwitchDialect, c: SwitchConfig, printed: string[]): string[] {
  const [tool, first, listing] =
    d.cli === "nclu" ? ["net", "nclu", "nclu_listing"] : ["nv", "nvue", "nvue_listing"];
  const r = spawnSync(
    "bash",
    [
      "-c",
      `set -euo pipefail; ${tool}() { printf '%s\\n' "$LISTING"; }; ${listingFunctions(d, c, first)}\n${listing}`,
    ],
    { encoding: "utf8", env: { ...process.env, LISTING: printed.join("\n") } },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trimEnd().split("\n");
}

/** Every line of `wants` is among `lines` (what `has` would find). */
function assertListed(lines: string[], wants: string[]): void {
  for (const want of wants) {
    assert.ok(lines.includes(want), `${want}\n---\n${lines.join("\n")}`);
  }
}

describe("switch listings as Cumulus prints them: grouped ports, neighbours as frr.conf has them", () => {
  it("nclu: one port per line, a port with settings also alone, the neighbour in the form added", () => {
    // Lines of the leaf01 `net show configuration commands` listing in cumulus-linux-42
    // …/EVPN-Multihoming.md, and this dialect's lines grouped the same way.
    const lines = listed(DIALECTS.nclu, TWO, [
      "net add bgp autonomous-system 5556",
      "net add interface ipmr-lo,lo,swp1-4 pim",
      "net add bgp router-id 172.16.0.21",
      "net add bgp neighbor swp1 interface v6only remote-as external",
      "net add interface swp1-4 mtu 9202",
      "net add loopback lo ip address 172.16.0.21/32",
      "net add vxlan vx-1000-1009,4001-4003 mtu 9152",
      "net add interface swp12s0-1,swp1 ipv6 nd ra-lifetime 0",
      "net add bgp neighbor swp12s1 interface remote-as external",
    ]);
    assertListed(lines, [
      "net add interface swp3",
      "net add interface swp4 mtu 9202",
      "net add interface ipmr-lo pim",
      "net add interface lo",
      "net add interface swp2 pim",
      "net add interface swp12s1",
      "net add interface swp12s1 ipv6 nd ra-lifetime 0",
      "net add interface swp1 ipv6 nd ra-lifetime 0",
      "net add bgp neighbor swp1 interface v6only remote-as external",
      "net add bgp neighbor swp1 remote-as external",
      "net add bgp neighbor swp12s1 remote-as external",
      "net add bgp autonomous-system 5556",
      "net add vxlan vx-1000-1009,4001-4003 mtu 9152",
    ]);
    assert.ok(!lines.includes("net add interface swp5"));
    assert.ok(!lines.includes("net add interface swp12s2"));
  });

  it("nvue: one interface per line; vrf default's ASN and router-id are the switch's", () => {
    const lines = listed(DIALECTS.nvue, TWO, [
      // As printed by `nv config show -o commands` (NVIDIA's 5.1 demo): ports grouped, the
      // ASN and router-id under vrf default.
      "nv set interface swp51-54 link state up",
      "nv set interface swp1,swp12s1 ip neighbor-discovery router-advertisement interval 5000",
      "nv set vrf default router bgp autonomous-system 65101",
      "nv set vrf default router bgp router-id 10.10.10.1",
    ]);
    assertListed(lines, [
      "nv set interface swp53 link state up",
      "nv set interface swp12s1 ip neighbor-discovery router-advertisement interval 5000",
      "nv set interface swp1 ip neighbor-discovery router-advertisement interval 5000",
      "nv set router bgp autonomous-system 65101",
      "nv set vrf default router bgp autonomous-system 65101",
      "nv set router bgp router-id 10.10.10.1",
    ]);
    assert.ok(!lines.includes("nv set interface swp53"), "nvue lists no bare ports");
  });
});

describe("nclu: an update after the suppress-ra line was dropped (before 0396099 it was owned)", () => {
  it("lets the old line go without suppressing RA; other stale lines are still removed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nclu-disowned-"));
    try {
      const c = { ...TWO, downlinks: [TWO.downlinks[0]], bfd: false };
      const state = `/var/lib/frr-nspawn/switch/${c.id}.owned`;
      // What 0396099's parent wrote: RA on, and an ra-interval this update no longer wants.
      const old = [
        "net del interface swp1 ipv6 nd suppress-ra\tnclu add interface swp1 ipv6 nd suppress-ra >/dev/null",
        "net add interface swp1 ipv6 nd ra-interval 9\tnclu del interface swp1 ipv6 nd ra-interval 9 >/dev/null",
      ];
      // A listing that shows both old lines, as a switch might.
      fs.writeFileSync(
        path.join(dir, "net"),
        [
          "#!/bin/bash",
          `case "$*" in`,
          `  "show configuration commands") printf '%s\\n' 'net del interface swp1 ipv6 nd suppress-ra' 'net add interface swp1 ipv6 nd ra-interval 9' ;;`,
          `  add*|del*) echo "$*" >> ${dir}/calls ;;`,
          `  commit*) echo "commit ignored" ;;`,
          "esac",
        ].join("\n"),
        { mode: 0o755 },
      );
      const script = DIALECTS.nclu.applyScript("s", c);
      const r = spawnSync(
        "unshare",
        [
          "--mount",
          "bash",
          "-c",
          `mount -t tmpfs none /var/lib && mkdir -p ${path.dirname(state)} && printf '%s\\n' "$OLD" > ${state} && PATH=${dir}:$PATH bash -s`,
        ],
        { input: script, encoding: "utf8", env: { ...process.env, OLD: old.join("\n") } },
      );
      const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
      assert.ok(calls.includes("del interface swp1 ipv6 nd ra-interval 9"), calls.join("\n"));
      assert.ok(!calls.some((x) => x.includes("suppress-ra")), calls.join("\n"));
      // The stub commits nothing, so the script stops at its check of the listing.
      assert.match(r.stdout + r.stderr, /does not show what was applied/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
