import * as assert from "node:assert/strict";

import { asn, frrName, raTiming } from "../../components/validate/bgp";
import {
  cumulusPort,
  interfaceName,
  ipv4,
  ipv4Prefix,
  loopback,
} from "../../components/validate/net";
import {
  absolutePath,
  hostname,
  machineName,
  mirrorUrl,
  oneLine as commitLine,
  packageName,
  suite,
} from "../../components/validate/names";
import { Problems } from "../../components/validate/problems";
import { validateBgpLoopback } from "../../components/validate/bgpLoopback";
import { validateTorCumulus } from "../../components/validate/torCumulus";
import { validateNspawnMachine } from "../../components/validate/nspawnMachine";

type Check = (value: unknown, path: string, problems: Problems) => unknown;

/** Runs a check; returns its value, or the single problem it reported as "path: message". */
function run(check: Check, value: unknown): unknown {
  const problems = new Problems();
  const out = check(value, "x", problems);
  try {
    problems.throwIfAny("t");
  } catch (e) {
    return (e as Error).message
      .split("\n")
      .slice(1)
      .join("\n")
      .replace(/^ {2}- /, "");
  }
  return out;
}

const cases: [string, Check, unknown, unknown][] = [
  // AS numbers
  ["asn plain", asn, 65001, 65001],
  ["asn 4-byte", asn, 4200000000, 4200000000],
  ["asn max", asn, 4294967295, 4294967295],
  [
    "asn digits string",
    asn,
    "65000",
    'x: "65000" is a string; write the AS number as a number: 65000',
  ],
  ["asn asdot", asn, "1.10", 'x: "1.10" is a string; write the AS number as a number: 65546'],
  ["asn zero", asn, 0, "x: 0 is out of range 1..4294967295"],
  ["asn too big", asn, 70000000000, "x: 70000000000 is out of range 1..4294967295"],
  [
    "asn AS_TRANS",
    asn,
    23456,
    "x: 23456 is AS_TRANS (RFC 6793), reserved; choose another AS number",
  ],
  ["asn fraction", asn, 65001.5, "x: 65001.5 is not a whole number; use an integer 1..4294967295"],
  [
    "asn junk string",
    asn,
    "65001a",
    'x: "65001a" is not an AS number; use an integer 1..4294967295',
  ],
  ["asn negative string", asn, "-1", 'x: "-1" is not an AS number; use an integer 1..4294967295'],
  [
    "asn bad asdot",
    asn,
    "1.70000",
    'x: "1.70000" is a string; write the AS number as a number 1..4294967295',
  ],
  // IPv4
  ["ipv4 ok", ipv4, "10.255.0.1", "10.255.0.1"],
  [
    "ipv4 leading zero",
    ipv4,
    "010.0.0.1",
    'x: "010.0.0.1" is not an IPv4 address; use dotted quad like "10.255.0.1"',
  ],
  [
    "ipv4 octet",
    ipv4,
    "1.2.3.256",
    'x: "1.2.3.256" is not an IPv4 address; use dotted quad like "10.255.0.1"',
  ],
  [
    "ipv4 any",
    ipv4,
    "0.0.0.0",
    'x: "0.0.0.0" is in 0.0.0.0/8, "this network" (RFC 1122): never a source or destination',
  ],
  ["loopback bare", loopback, "2.2.2.2", "2.2.2.2/32"],
  ["loopback /32", loopback, "2.2.2.2/32", "2.2.2.2/32"],
  [
    "loopback /24",
    loopback,
    "2.2.2.0/24",
    'x: "2.2.2.0/24" is not a /32; a loopback is one address, like "10.255.0.1/32"',
  ],
  [
    "loopback v6",
    loopback,
    "fd00::1",
    'x: "fd00::1" is not an IPv4 address; use dotted quad like "10.255.0.1"',
  ],
  ["prefix ok", ipv4Prefix, "10.1.0.0/24", "10.1.0.0/24"],
  [
    "prefix host bits",
    ipv4Prefix,
    "10.1.0.1/24",
    'x: "10.1.0.1/24" has host bits set; the network is 10.1.0.0/24',
  ],
  [
    "prefix len",
    ipv4Prefix,
    "10.1.0.0/33",
    'x: "10.1.0.0/33" is not an IPv4 prefix; use "a.b.c.d/len" with len 0..32',
  ],
  // interface names
  ["nic ens3", interfaceName, "ens3", "ens3"],
  ["nic vlan", interfaceName, "bond0.100", "bond0.100"],
  [
    "nic 16 bytes",
    interfaceName,
    "abcdefghijklmnop",
    'x: "abcdefghijklmnop" is not a valid interface name; use 1..15 letters, digits, "_", "." or "-", not starting with "-" or "."',
  ],
  [
    "nic slash",
    interfaceName,
    "a/b",
    'x: "a/b" is not a valid interface name; use 1..15 letters, digits, "_", "." or "-", not starting with "-" or "."',
  ],
  [
    "nic shell",
    interfaceName,
    "e$(x)",
    'x: "e$(x)" is not a valid interface name; use 1..15 letters, digits, "_", "." or "-", not starting with "-" or "."',
  ],
  [
    "nic dash",
    interfaceName,
    "-i",
    'x: "-i" is not a valid interface name; use 1..15 letters, digits, "_", "." or "-", not starting with "-" or "."',
  ],
  ["nic all", interfaceName, "all", 'x: "all" cannot be an uplink interface'],
  ["swp1", cumulusPort, "swp1", "swp1"],
  ["swp49", cumulusPort, "swp49", "swp49"],
  ["swp1s0", cumulusPort, "swp1s0", "swp1s0"],
  [
    "eth0 not a port",
    cumulusPort,
    "eth0",
    'x: "eth0" is not a Cumulus port; use swpN or swpNsM (like "swp1", "swp49", "swp1s0")',
  ],
  [
    "swp0",
    cumulusPort,
    "swp0",
    'x: "swp0" is not a Cumulus port; use swpN or swpNsM (like "swp1", "swp49", "swp1s0")',
  ],
  // names
  ["machine frr", machineName, "frr", "frr"],
  ["machine dotted", machineName, "frr.rack1", "frr.rack1"],
  [
    "machine space",
    machineName,
    "my frr",
    'x: "my frr" is not a valid machine name; use 1..64 letters, digits and inner "-", dot-separated (systemd refuses "_")',
  ],
  [
    "machine dash",
    machineName,
    "-frr",
    'x: "-frr" is not a valid machine name; use 1..64 letters, digits and inner "-", dot-separated (systemd refuses "_")',
  ],
  ["peer-group", frrName, "TOR", "TOR"],
  [
    "peer-group space",
    frrName,
    "T OR",
    'x: "T OR" is not a valid name; use a letter then letters, digits, "_" or "-" (at most 63)',
  ],
  ["hostname", hostname, "rack1-host01", "rack1-host01"],
  [
    "hostname underscore",
    hostname,
    "a_b",
    'x: "a_b" is not a valid hostname; use letters, digits and inner "-", at most 63 characters',
  ],
  ["suite", suite, "bookworm", "bookworm"],
  [
    "suite caps",
    suite,
    "Bookworm",
    'x: "Bookworm" is not a suite code name; use lowercase letters and digits like "bookworm"',
  ],
  ["package", packageName, "frr-pythontools", "frr-pythontools"],
  [
    "package upper",
    packageName,
    "FRR",
    'x: "FRR" is not a Debian package name; use lowercase letters, digits, "+", "-", "."',
  ],
  [
    "package option",
    packageName,
    "-y",
    'x: "-y" is not a Debian package name; use lowercase letters, digits, "+", "-", "."',
  ],
  ["mirror", mirrorUrl, "http://mirror.example/debian", "http://mirror.example/debian"],
  [
    "mirror quote",
    mirrorUrl,
    "http://m/'x",
    `x: "http://m/'x" contains "'"; a URL here has no spaces, quotes, "\\", "$" or backticks`,
  ],
  [
    "mirror ftp",
    mirrorUrl,
    "ftp://m/debian",
    'x: "ftp://m/debian" is not an http:// or https:// URL',
  ],
  ["path", absolutePath, "/var/lib/frr-nspawn", "/var/lib/frr-nspawn"],
  [
    "path relative",
    absolutePath,
    "var/lib",
    'x: "var/lib" is not a normalised absolute path; use "/dir/file" with no spaces, "." or ".." segments',
  ],
  [
    "path dotdot",
    absolutePath,
    "/var/../etc",
    'x: "/var/../etc" is not a normalised absolute path; use "/dir/file" with no spaces, "." or ".." segments',
  ],
  ["commit line", commitLine, "rack 1 uplinks", "rack 1 uplinks"],
  [
    "commit newline",
    commitLine,
    "a\nb",
    'x: "a\\nb" is not one printable line of 1..200 characters',
  ],
];

describe("validators", () => {
  for (const [title, check, input, expected] of cases) {
    it(`${title}: ${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(run(check, input), expected);
    });
  }

  const ra: [unknown, unknown, unknown][] = [
    [5, 15, { interval: 5, lifetime: 15 }],
    [10, 0, { interval: 10, lifetime: 0 }],
    [0, 15, "x.raInterval: 0 is out of range 1..1800"],
    [1801, 15, "x.raInterval: 1801 is out of range 1..1800"],
    [5, 9001, "x.raLifetime: 9001 is out of range 0..9000"],
    [30, 15, "x.raLifetime: 15 is shorter than raInterval 30; use 0 or a value >= 30"],
  ];
  for (const [interval, lifetime, expected] of ra) {
    it(`raTiming(${interval}, ${lifetime}) → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(
        run((_v, p, pr) => raTiming(interval, lifetime, p, pr), undefined),
        expected,
      );
    });
  }
});

describe("component validation collects every problem at once", () => {
  it("BgpLoopback lists each bad input with its path", () => {
    assert.throws(
      () =>
        validateBgpLoopback('BgpLoopback "h1"', {
          machineName: "frr",
          loopback: "2.2.2.2/24",
          asn: 70000000000,
          interfaces: ["ens3", "ens3", "bad name"],
          networks: ["10.0.0.1/8"],
        }),
      {
        message: [
          'BgpLoopback "h1" has 5 invalid inputs:',
          '  - loopback: "2.2.2.2/24" is not a /32; a loopback is one address, like "10.255.0.1/32"',
          "  - asn: 70000000000 is out of range 1..4294967295",
          '  - interfaces[1]: "ens3" repeats interfaces[0]',
          '  - interfaces[2]: "bad name" is not a valid interface name; use 1..15 letters, digits, "_", "." or "-", not starting with "-" or "."',
          '  - networks[0]: "10.0.0.1/8" has host bits set; the network is 10.0.0.0/8',
        ].join("\n"),
      },
    );
  });

  it("BgpLoopback fills the seed's defaults", () => {
    const c = validateBgpLoopback("t", { machineName: "frr", loopback: "2.2.2.2", asn: 65001 });
    assert.deepEqual(c.frr, {
      frrVersion: "8.4.4",
      hostname: "frr",
      asn: 65001,
      routerId: "2.2.2.2",
      loopback: "2.2.2.2/32",
      interfaces: ["ens3"],
      peerGroup: "TOR",
      networks: [],
      bfd: false,
      gracefulRestart: true,
    });
    assert.deepEqual(c.daemons, {
      zebraOptions: " -A 127.0.0.1 -s 90000000",
      bgpdOptions: " -A 127.0.0.1",
      bfd: false,
      retainRoutesSeconds: 120,
    });
  });

  it("BgpLoopback: bfd on, gracefulRestart off; both must be booleans", () => {
    const c = validateBgpLoopback("t", {
      machineName: "frr",
      loopback: "2.2.2.2",
      asn: 65001,
      bfd: true,
      gracefulRestart: false,
    });
    assert.equal(c.frr.bfd, true);
    assert.equal(c.frr.gracefulRestart, false);
    assert.deepEqual(c.daemons, {
      zebraOptions: " -A 127.0.0.1 -s 90000000",
      bgpdOptions: " -A 127.0.0.1",
      bfd: true,
    });
    assert.throws(
      () =>
        validateBgpLoopback("t", {
          machineName: "frr",
          loopback: "2.2.2.2",
          asn: 65001,
          bfd: "yes",
          gracefulRestart: 1,
        }),
      (e: Error) => /bfd: /.test(e.message) && /gracefulRestart: /.test(e.message),
    );
  });

  it("TorCumulus checks ports by cli and each downlink's timing", () => {
    assert.throws(
      () =>
        validateTorCumulus(
          'TorCumulus "t"',
          {
            asn: 65000,
            loopback: "1.1.1.1",
            downlinks: [{ port: "eth1" }, { port: "swp2", raInterval: 30, raLifetime: 10 }],
          },
          "d",
          "id",
        ),
      {
        message: [
          'TorCumulus "t" has 2 invalid inputs:',
          '  - downlinks[0].port: "eth1" is not a Cumulus port; use swpN or swpNsM (like "swp1", "swp49", "swp1s0")',
          "  - downlinks[1].raLifetime: 10 is shorter than raInterval 30; use 0 or a value >= 30",
        ].join("\n"),
      },
    );
  });

  it("TorCumulus with vtysh refuses raLifetime 0 (FRR 8.4's zebra does)", () => {
    assert.throws(
      () =>
        validateTorCumulus(
          "t",
          {
            asn: 65000,
            loopback: "1.1.1.1",
            cli: "vtysh",
            downlinks: [{ port: "eth1", raInterval: 10, raLifetime: 0 }],
          },
          "d",
          "id",
        ),
      {
        message:
          't has an invalid input:\n  - downlinks[0].raLifetime: 0 is refused by FRR with an ra-interval set; with cli "vtysh" use a value >= 10',
      },
    );
  });

  it("TorCumulus refuses the same port twice, whatever its timing", () => {
    assert.throws(
      () =>
        validateTorCumulus(
          "t",
          {
            asn: 65000,
            loopback: "1.1.1.1",
            downlinks: [{ port: "swp1" }, { port: "swp1", raInterval: 10, raLifetime: 30 }],
          },
          "d",
          "id",
        ),
      { message: 't has an invalid input:\n  - downlinks[1]: port "swp1" repeats downlinks[0]' },
    );
  });

  it("TorCumulus with vtysh takes Linux interface names", () => {
    const c = validateTorCumulus(
      "t",
      { asn: 65000, loopback: "1.1.1.1", downlinks: [{ port: "eth1" }], cli: "vtysh" },
      "d",
      "id",
    );
    assert.deepEqual(c.downlinks, [{ port: "eth1", raInterval: 5, raLifetime: 15 }]);
  });

  it("TorCumulus with nvue needs cumulusVersion, and only nvue takes one", () => {
    const base = { asn: 65000, loopback: "1.1.1.1", downlinks: [{ port: "swp1" }] };
    const cases: [Record<string, unknown>, string][] = [
      [
        { cli: "nvue" },
        'is required with cli "nvue": the switch\'s Cumulus Linux release, like "5.9" or "5.15" (5.15 renamed NVUE commands)',
      ],
      [
        { cli: "nvue", cumulusVersion: "4.4" },
        '"4.4" is not a Cumulus Linux release from 5.1 on; write it like "5.9" or "5.15" (NVUE\'s router-advertisement commands exist from 5.1; 5.15 renamed commands)',
      ],
      [
        { cli: "nvue", cumulusVersion: "5.0" },
        '"5.0" is not a Cumulus Linux release from 5.1 on; write it like "5.9" or "5.15" (NVUE\'s router-advertisement commands exist from 5.1; 5.15 renamed commands)',
      ],
      [{ cli: "nclu", cumulusVersion: "5.9" }, 'only applies to cli "nvue", not "nclu"'],
    ];
    for (const [extra, message] of cases) {
      assert.throws(() => validateTorCumulus("t", { ...base, ...extra }, "d", "id"), {
        message: `t has an invalid input:\n  - cumulusVersion: ${message}`,
      });
    }
    const ok = validateTorCumulus("t", { ...base, cli: "nvue", cumulusVersion: "5.15" }, "d", "id");
    assert.equal(ok.cumulusVersion, "5.15");
    assert.equal(ok.id, "id");
    assert.equal(ok.description, "d");
  });

  it("TorCumulus: bfd, verify and verifyTimeoutSeconds, their defaults and every bad value at once", () => {
    const base = { asn: 65000, loopback: "1.1.1.1", downlinks: [{ port: "swp1" }] };
    const d = validateTorCumulus("t", base, "d", "id");
    assert.equal(d.bfd, false);
    assert.equal(d.verifyTimeoutSeconds, 120);
    const on = validateTorCumulus("t", { ...base, bfd: true, verifyTimeoutSeconds: 5 }, "d", "id");
    assert.equal(on.bfd, true);
    assert.equal(on.verifyTimeoutSeconds, 5);
    assert.throws(
      () =>
        validateTorCumulus(
          "t",
          { ...base, bfd: "true", verify: 1, verifyTimeoutSeconds: 1801 },
          "d",
          "id",
        ),
      {
        message: [
          "t has 3 invalid inputs:",
          '  - bfd: "true" is not true or false',
          "  - verify: 1 is not true or false",
          "  - verifyTimeoutSeconds: 1801 is out of range 5..1800",
        ].join("\n"),
      },
    );
  });

  it("TorCumulus: bfdCheckControlPlaneFailure needs bfd and cli vtysh", () => {
    const base = { asn: 65000, loopback: "1.1.1.1", downlinks: [{ port: "swp1" }] };
    assert.equal(validateTorCumulus("t", base, "d", "id").bfdCheckControlPlaneFailure, false);
    const on = validateTorCumulus(
      "t",
      { ...base, cli: "vtysh", bfd: true, bfdCheckControlPlaneFailure: true },
      "d",
      "id",
    );
    assert.equal(on.bfdCheckControlPlaneFailure, true);
    assert.throws(
      () =>
        validateTorCumulus(
          "t",
          { ...base, cli: "nvue", cumulusVersion: "5.9", bfdCheckControlPlaneFailure: true },
          "d",
          "id",
        ),
      {
        message: [
          "t has 2 invalid inputs:",
          "  - bfdCheckControlPlaneFailure: only applies with bfd: true",
          '  - bfdCheckControlPlaneFailure: needs cli "vtysh": Cumulus documents no "nvue" command for FRR\'s "neighbor … bfd check-control-plane-failure"',
        ].join("\n"),
      },
    );
    assert.throws(
      () =>
        validateTorCumulus(
          "t",
          { ...base, bfd: true, bfdCheckControlPlaneFailure: "yes" },
          "d",
          "id",
        ),
      {
        message:
          't has an invalid input:\n  - bfdCheckControlPlaneFailure: "yes" is not true or false',
      },
    );
  });

  it("NspawnMachine needs exactly one of image.path and image.url", () => {
    assert.throws(
      () =>
        validateNspawnMachine('NspawnMachine "m"', {
          image: { sha256: "ab" },
          machineName: "frr x",
        }),
      {
        message: [
          'NspawnMachine "m" has 3 invalid inputs:',
          '  - image.sha256: "ab" is not a SHA-256 digest; use 64 lowercase hex characters',
          "  - image: give exactly one of image.path and image.url",
          '  - machineName: "frr x" is not a valid machine name; use 1..64 letters, digits and inner "-", dot-separated (systemd refuses "_")',
        ].join("\n"),
      },
    );
  });
});
