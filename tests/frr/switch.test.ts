/**
 * Every switch dialect end to end on real FRR, without the lab: Debian's zebra and bgpd
 * run in a private network namespace and FRR path space with Cumulus's `datacenter`
 * defaults and config of the switch's own (a spine neighbour and a route-map); the
 * dialect scripts run there as they would on a switch, `net` and `nv` being the lab's
 * test doubles (lab/standins/cumulus-standin) on top of that FRR. Two TorCumulus share
 * the switch; each is created, re-applied, updated and destroyed; the switch's own config
 * must come through byte for byte. Needs root and the frr package (.ci/run installs it).
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { DIALECTS, SwitchConfig, SwitchDialect } from "../../components/render/switch";

const NS = `frrnspawn-s${process.pid}`;
const SPACE = NS;
const ETC = `/etc/frr/${SPACE}`;
const RUN = `/var/run/frr/${SPACE}`;
const STANDIN = path.resolve(__dirname, "../../lab/standins/cumulus-standin");
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-switch-"));
const SHIM = path.join(TMP, "bin");
const VARLIB = path.join(TMP, "varlib");
const VERSION_FILE = path.join(TMP, "cumulus-version");

/** The switch's own config, there before any TorCumulus and never to be touched. */
const OWN = [
  "router bgp 65000",
  " bgp router-id 10.255.0.2",
  " neighbor 192.0.2.254 remote-as 65100",
  " neighbor 192.0.2.254 description spine01",
  " address-family ipv4 unicast",
  "  neighbor 192.0.2.254 route-map SPINE-IN in",
  " exit-address-family",
  "exit",
  "route-map SPINE-IN permit 10",
  " set local-preference 200",
  "exit",
];

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a step script where the switch is: its netns, with `net`, `nv`, `vtysh` on PATH. */
function run(script: string): { status: number | null; out: string } {
  const r = spawnSync(
    "ip",
    [
      "netns",
      "exec",
      NS,
      "bash",
      "-c",
      // ip netns exec gives a private mount namespace: the script's state dir and the
      // daemons file it reads are the test's, not this machine's.
      `mount --bind ${VARLIB} /var/lib && mount --bind ${TMP}/daemons /etc/frr/daemons && exec bash -s`,
    ],
    {
      input: script,
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${SHIM}:${process.env.PATH}`,
        CUMULUS_STANDIN_STATE: path.join(TMP, "standin"),
        CUMULUS_STANDIN_VERSION_FILE: VERSION_FILE,
      },
    },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function ok(script: string): string {
  const r = run(script);
  assert.equal(r.status, 0, r.out);
  return r.out;
}

/** `show running-config` as keys: each line prefixed by its contexts. */
function keys(): string[] {
  const out = sh("vtysh", ["-N", SPACE, "-c", "show running-config"]);
  const result: string[] = [];
  let top = "";
  let af = "";
  for (const line of out.split("\n")) {
    if (
      /^\s*!/.test(line) ||
      line.trim() === "" ||
      line.startsWith("Building") ||
      line.startsWith("Current")
    )
      continue;
    if (line === "exit" || line === "end") [top, af] = ["", ""];
    else if (line === " exit-address-family") af = "";
    else if (!line.startsWith(" ")) {
      [top, af] = [line, ""];
      result.push(line);
    } else if (line.startsWith(" address-family ")) {
      af = line.slice(1);
      result.push(`${top} / ${af}`);
    } else if (line.startsWith("  ") && af !== "") result.push(`${top} / ${af} / ${line.slice(2)}`);
    else result.push(`${top} / ${line.slice(1)}`);
  }
  return result;
}

/** The lines of the switch's own config, as FRR shows them. */
function own(): string[] {
  return keys().filter((k) => k.includes("192.0.2.254") || k.startsWith("route-map SPINE-IN"));
}

function linkUp(port: string): boolean {
  return /<[^>]*\bUP\b/.test(sh("ip", ["-n", NS, "-o", "link", "show", "dev", port]));
}

const A: SwitchConfig = {
  id: "lab-stack-a",
  description: "frr-nspawn lab/stack a",
  cumulusVersion: "5.9",
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
  id: "lab-stack-b",
  description: "frr-nspawn lab/stack b",
  downlinks: [{ port: "swp2", raInterval: 5, raLifetime: 15 }],
  networks: ["10.9.0.0/24"],
};

/** What each dialect's own lines look like in FRR once applied. */
function frrLines(c: SwitchConfig, d: SwitchDialect): string[] {
  const p = c.downlinks[0].port;
  const lines = [
    `interface ${p} / ipv6 nd ra-interval ${c.downlinks[0].raInterval}`,
    `interface ${p} / ipv6 nd ra-lifetime ${c.downlinks[0].raLifetime}`,
    // NCLU sets no RA line: Cumulus turns RA on for a BGP unnumbered neighbour itself.
    ...(d.cli === "nclu" ? [] : [`interface ${p} / no ipv6 nd suppress-ra`]),
    `router bgp 65000 / neighbor ${p} interface remote-as external`,
    ...c.networks.map((n) => `router bgp 65000 / address-family ipv4 unicast / network ${n}`),
  ];
  if (d.cli === "vtysh") {
    lines.push(`route-map ${c.id}-IN permit 10`, `route-map ${c.id}-OUT permit 10`);
  }
  return lines;
}

describe("switch dialects on real FRR (net/nv test doubles, two resources, the switch's own config kept)", function () {
  this.timeout(120000);
  let ownBefore: string[];

  before(() => {
    assert.equal(
      process.getuid?.(),
      0,
      "these tests start FRR in a network namespace: run them as root",
    );
    assert.ok(fs.existsSync("/usr/lib/frr/bgpd"), "bgpd not found: apt-get install frr");
    sh("ip", ["netns", "add", NS]);
    sh("ip", ["-n", NS, "link", "set", "lo", "up"]);
    for (const port of ["swp1", "swp2", "swp3"]) {
      // Down, as a Cumulus data plane port is until configured.
      sh("ip", ["-n", NS, "link", "add", port, "type", "veth", "peer", "name", `p-${port}`]);
      sh("ip", ["-n", NS, "link", "set", `p-${port}`, "up"]);
    }
    for (const dir of [ETC, RUN]) {
      fs.mkdirSync(dir, { recursive: true });
      sh("chown", ["frr:frr", dir]);
    }
    fs.writeFileSync(`${ETC}/vtysh.conf`, "service integrated-vtysh-config\n");
    fs.writeFileSync(`${ETC}/frr.conf`, "");
    sh("chown", ["frr:frr", `${ETC}/frr.conf`]);
    for (const d of ["zebra", "staticd", "bgpd"]) {
      sh("ip", [
        "netns",
        "exec",
        NS,
        `/usr/lib/frr/${d}`,
        "-d",
        "-N",
        SPACE,
        "-A",
        "127.0.0.1",
        "-F",
        "datacenter",
      ]);
    }
    fs.mkdirSync(SHIM, { recursive: true });
    fs.mkdirSync(VARLIB, { recursive: true });
    fs.writeFileSync(
      path.join(SHIM, "vtysh"),
      `#!/bin/sh\nexec /usr/bin/vtysh -N ${SPACE} "$@"\n`,
      { mode: 0o755 },
    );
    fs.symlinkSync(STANDIN, path.join(SHIM, "net"));
    fs.symlinkSync(STANDIN, path.join(SHIM, "nv"));
    fs.writeFileSync(path.join(TMP, "daemons"), "zebra=yes\nbgpd=yes\nstaticd=yes\n");
    fs.writeFileSync(VERSION_FILE, "5.9\n");
    sh("vtysh", ["-N", SPACE, "-c", "configure terminal", ...OWN.flatMap((l) => ["-c", l.trim()])]);
    ownBefore = own();
    assert.equal(ownBefore.length, 5, ownBefore.join("\n"));
  });

  after(() => {
    for (const d of ["zebra", "staticd", "bgpd"]) {
      const pid = `${RUN}/${d}.pid`;
      if (fs.existsSync(pid)) {
        try {
          process.kill(Number(fs.readFileSync(pid, "utf8")), "SIGTERM");
        } catch {
          // already gone
        }
      }
    }
    spawnSync("ip", ["netns", "del", NS]);
    for (const dir of [ETC, RUN, TMP]) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("the net and nv test doubles reproduce the documented quirks", () => {
    it("net: ERROR printed with exit 0; the pending header always; commit ignored; AS removal takes all", () => {
      const bad = run("net add bgp frobnicate");
      assert.equal(bad.status, 0);
      assert.match(bad.out, /^ERROR: Command not found/m);
      const empty = ok("net pending");
      assert.match(empty, /net add\/del commands since the last "net commit"/);
      assert.doesNotMatch(empty, /^[-+]{3} /m);
      assert.match(
        ok("net add bgp router-id 10.255.0.2 && net commit description x"),
        /commit ignored/,
      );
      ok("net abort");
      // Documented: deleting the AS number removes the whole router bgp, uplinks too.
      assert.match(
        ok("net del bgp autonomous-system 65000 && net pending"),
        /^-router bgp 65000$/m,
      );
      ok("net abort");
      assert.deepEqual(own(), ownBefore);
    });

    it("nv: milliseconds, each release's syntax, -y refused after 5.9, revisions with messages", () => {
      fs.writeFileSync(VERSION_FILE, "5.15\n");
      const old = run(
        "nv set interface swp3 ip neighbor-discovery router-advertisement interval 5000",
      );
      assert.notEqual(old.status, 0);
      assert.match(old.out, /Invalid command for Cumulus Linux 5\.15/);
      const tooFast = run(
        "nv set interface swp3 ipv6 neighbor-discovery router-advertisement interval 50",
      );
      assert.notEqual(tooFast.status, 0);
      ok("nv set interface swp3 ipv6 neighbor-discovery router-advertisement interval 5000");
      assert.notEqual(run("nv config apply -y").status, 0);
      assert.match(ok("nv config apply --assume-yes -m 'quirk test'"), /applied \[rev_id: \d+\]/);
      assert.ok(keys().includes("interface swp3 / ipv6 nd ra-interval 5"));
      assert.match(ok("nv config history"), /message: quirk test/);
      ok(
        "nv unset interface swp3 ipv6 neighbor-discovery router-advertisement interval && nv config apply --assume-yes -m undo",
      );
      assert.ok(!keys().some((k) => k.startsWith("interface swp3 / ipv6 nd ra-interval")));
      fs.writeFileSync(VERSION_FILE, "5.9\n");
    });
  });

  const cases: [string, SwitchDialect, string][] = [
    ["nclu", DIALECTS.nclu, "5.9"],
    ["nvue 5.9", DIALECTS.nvue, "5.9"],
    ["nvue 5.15", DIALECTS.nvue, "5.15"],
    ["vtysh (FRR 8.4)", DIALECTS.vtysh, "5.9"],
  ];
  for (const [title, d, version] of cases) {
    describe(title, () => {
      const a = { ...A, cumulusVersion: version };
      const b = { ...B, cumulusVersion: version };
      before(() => fs.writeFileSync(VERSION_FILE, `${version}\n`));

      it("creates two resources on one switch; switch-wide settings set or kept; own config untouched", () => {
        if (d.cli !== "vtysh") sh("ip", ["-n", NS, "link", "set", "swp1", "down"]);
        ok(d.applyScript("a", a));
        ok(d.applyScript("b", b));
        const k = keys();
        for (const line of [...frrLines(a, d), ...frrLines(b, d)])
          assert.ok(k.includes(line), `missing ${line}\n${k.join("\n")}`);
        assert.ok(k.includes("interface lo / ip address 10.255.0.2/32"));
        assert.ok(
          k.includes("router bgp 65000 / address-family ipv4 unicast / network 10.255.0.2/32"),
        );
        if (d.cli !== "vtysh") assert.ok(linkUp("swp1"), "swp1 was not brought up");
        assert.deepEqual(own(), ownBefore);
      });

      it("a second apply with nothing to change changes nothing", () => {
        const k = keys();
        const out = ok(d.applyScript("a", a));
        assert.deepEqual(keys(), k);
        if (d.cli === "nvue") assert.doesNotMatch(out, /applied \[rev_id/);
      });

      it("updates RA timing and networks: stale lines go, new ones come, own config untouched", () => {
        const a2 = {
          ...a,
          downlinks: [{ port: "swp1", raInterval: 20, raLifetime: 60 }],
          networks: ["10.8.0.0/24"],
        };
        ok(d.applyScript("a", a2));
        const k = keys();
        for (const line of frrLines(a2, d)) assert.ok(k.includes(line), `missing ${line}`);
        assert.ok(!k.includes("interface swp1 / ipv6 nd ra-interval 5"));
        assert.ok(!k.includes("interface swp1 / ipv6 nd ra-lifetime 15"));
        assert.deepEqual(own(), ownBefore);
        ok(d.applyScript("a", a));
        assert.ok(
          !keys().includes("router bgp 65000 / address-family ipv4 unicast / network 10.8.0.0/24"),
        );
      });

      it("bfd on adds one BFD line per downlink; off takes only those lines off again", () => {
        const profiles = d.cli === "nvue" && version === "5.15";
        const bfdKey = `router bgp 65000 / neighbor swp1 bfd${profiles ? " profile frr-nspawn" : ""}`;
        if (profiles) {
          // 5.15 attaches a profile; BFD itself is on only when the operator turned it on
          // (it restarts the switch's FRR): until then the step fails, staging nothing.
          const k = keys();
          const r = run(d.applyScript("a", { ...a, bfd: true }));
          assert.notEqual(r.status, 0);
          assert.match(r.out, /bfd needs BFD on on this switch \(nv set router bfd state enabled/);
          assert.deepEqual(keys(), k);
          assert.equal(ok("nv config diff"), "");
          ok("nv set router bfd state enabled && nv config apply --assume-yes -m 'BFD on'");
        }
        if (d.cli === "vtysh") {
          // A plain-FRR switch needs bfdd; frr-nspawn does not restart a switch's FRR for it.
          const k = keys();
          const r = run(d.applyScript("a", { ...a, bfd: true }));
          assert.notEqual(r.status, 0);
          assert.match(r.out, /bfd needs bfdd, which is off in \/etc\/frr\/daemons/);
          assert.deepEqual(keys(), k);
          fs.appendFileSync(path.join(TMP, "daemons"), "bfdd=yes\n");
        }
        ok(d.applyScript("a", { ...a, bfd: true }));
        let k = keys();
        assert.ok(k.includes(bfdKey), k.join("\n"));
        assert.ok(!k.includes("router bgp 65000 / neighbor swp2 bfd"), "b's neighbour got BFD");
        if (profiles) {
          const listing = ok("nv config show -o commands");
          assert.match(listing, /^nv set router bfd profile frr-nspawn detect-multiplier 3$/m);
          assert.match(
            listing,
            /^nv set vrf default router bgp neighbor swp1 bfd profile frr-nspawn$/m,
          );
        }
        ok(d.applyScript("a", a));
        k = keys();
        assert.ok(!k.includes(bfdKey), `still there: ${bfdKey}`);
        for (const line of [...frrLines(a, d), ...frrLines(b, d)])
          assert.ok(k.includes(line), `missing ${line}`);
        assert.deepEqual(own(), ownBefore);
      });

      it("refuses another AS number, naming both, and changes nothing", () => {
        const k = keys();
        const r = run(d.applyScript("a", { ...a, asn: 65099 }));
        assert.notEqual(r.status, 0);
        assert.match(r.out, /the switch's BGP AS number is 65000, this resource's is 65099/);
        assert.deepEqual(keys(), k);
      });

      if (d.cli !== "vtysh") {
        it("refuses when someone else's change is pending, names it, and leaves it pending", () => {
          const stage =
            d.cli === "nclu"
              ? "net add bgp neighbor swp3 remote-as external"
              : "nv set vrf default router bgp neighbor swp3 remote-as external";
          ok(stage);
          const r = run(d.applyScript("a", a));
          assert.notEqual(r.status, 0);
          assert.match(r.out, /neighbor swp3/);
          assert.match(ok(d.cli === "nclu" ? "net pending" : "nv config diff"), /neighbor swp3/);
          ok(d.cli === "nclu" ? "net abort" : "nv config detach");
        });
      }

      it("destroys one resource: its lines go, the other's stay; then the other; twice is fine", () => {
        ok(d.removeScript("a", a));
        let k = keys();
        for (const line of frrLines(a, d)) assert.ok(!k.includes(line), `still there: ${line}`);
        for (const line of frrLines(b, d)) assert.ok(k.includes(line), `b lost ${line}`);
        ok(d.removeScript("b", b));
        ok(d.removeScript("b", b));
        k = keys();
        for (const line of frrLines(b, d)) assert.ok(!k.includes(line), `still there: ${line}`);
        // Switch-wide settings stay; the switch's own config is as it was.
        assert.ok(k.includes("router bgp 65000 / bgp router-id 10.255.0.2"));
        assert.ok(k.includes("interface lo / ip address 10.255.0.2/32"));
        assert.deepEqual(own(), ownBefore);
      });
    });
  }
});
