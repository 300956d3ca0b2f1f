/**
 * The input corpus: bad values for every argument of the four components, their
 * connection and their resource name, each of which must fail with an InputError naming
 * its property path and register ZERO commands; and tricky values that are valid, each of
 * which must construct and register its steps. Runs under the real SDK with the mock
 * harness (tests/mock/harness.ts).
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";

import {
  BgpLoopback,
  FrrImage,
  InputError,
  NspawnMachine,
  TorCumulus,
  TorCumulusArgs,
} from "../../index";
import { Recorder, valueOf } from "../mock/harness";

const rec = new Recorder();
const SHA = "c".repeat(64);

type Kind = "FrrImage" | "NspawnMachine" | "BgpLoopback" | "TorCumulus";
type Args = Record<string, unknown>;

const CONNECTION = { host: "192.0.2.10", user: "core", privateKey: "KEY", sudo: true };

/** Valid arguments of each component, which each case changes in one place. */
function base(kind: Kind): Args {
  const connection = structuredClone(CONNECTION);
  switch (kind) {
    case "FrrImage":
      return { localSudo: false };
    case "NspawnMachine":
      return { connection, image: { path: "/srv/img/frr.tar.gz", sha256: SHA } };
    case "BgpLoopback":
      return { connection, machineName: "frr", loopback: "2.2.2.2", asn: 65001 };
    case "TorCumulus":
      return { connection, asn: 65000, loopback: "1.1.1.1", downlinks: [{ port: "swp1" }] };
    default: {
      const never: never = kind;
      throw new Error(`unknown kind ${String(never)}`);
    }
  }
}

/** A copy of `args` with `value` at the dotted `path` (`undefined` deletes the key). */
function withValue(args: Args, path: string, value: unknown): Args {
  const copy = structuredClone(args);
  const keys = path.split(".");
  let at: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    if (typeof at[key] !== "object" || at[key] === null) {
      at[key] = {};
    }
    at = at[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (value === undefined) {
    delete at[last];
  } else {
    at[last] = value;
  }
  return copy;
}

function construct(kind: Kind, name: string, args: Args): pulumi.ComponentResource {
  switch (kind) {
    case "FrrImage":
      return new FrrImage(name, args as never);
    case "NspawnMachine":
      return new NspawnMachine(name, args as never);
    case "BgpLoopback":
      return new BgpLoopback(name, args as never);
    case "TorCumulus":
      return new TorCumulus(name, args as never);
    default: {
      const never: never = kind;
      throw new Error(`unknown kind ${String(never)}`);
    }
  }
}

/** One bad input: where it goes, and the property path its error must name. */
interface Bad {
  kind: Kind;
  /** Where the value is set in the args; `name` is the resource name. */
  at: string;
  value: unknown;
  /** The property path the error names. */
  path: string;
  /** Built on another base than the component's. */
  args?: Args;
}

const BAD: Bad[] = [];

function bad(kinds: Kind[], at: string, values: unknown[], path = at, args?: (k: Kind) => Args) {
  for (const kind of kinds) {
    for (const value of values) {
      BAD.push({ kind, at, value, path, args: args?.(kind) });
    }
  }
}

const ALL: Kind[] = ["FrrImage", "NspawnMachine", "BgpLoopback", "TorCumulus"];
const REMOTE: Kind[] = ["NspawnMachine", "BgpLoopback", "TorCumulus"];
const ROUTERS: Kind[] = ["BgpLoopback", "TorCumulus"];

/** Bad for any strictly formatted string: empty, spaces, shell syntax, controls, non-strings. */
const NOT_A_WORD: unknown[] = [
  "",
  " ",
  "a b",
  "a\nb",
  "a\rb",
  "a\tb",
  "$(reboot)",
  "`reboot`",
  "a;reboot",
  "a'b",
  'a"b',
  "a\\b",
  "\u001b[2J",
  "a\u0085b",
  "a\u2028b",
  "a\u007fb",
  "a\u0000b",
  "-x",
  "--help",
  1,
  true,
  null,
  {},
  [],
];

// --- the resource name ----------------------------------------------------------------
const BAD_NAMES = [
  "x\nreboot\n",
  "",
  "a b",
  "-a",
  ".a",
  "_a",
  "a/b",
  "a$b",
  "a;b",
  "a'b",
  "a\u2028b",
  "ä",
  "a".repeat(49),
  "a\u0000",
];
bad(ALL, "name", BAD_NAMES, "name");

// --- the connection (and FrrImage's builder) --------------------------------------------
for (const [kinds, c] of [
  [REMOTE, "connection"],
  [["FrrImage"], "builder"],
] as const) {
  bad(kinds as Kind[], c, [null, "host", 1, [], true], c, (k) =>
    k === "FrrImage" ? { builder: CONNECTION } : base(k),
  );
  const on = (k: Kind): Args => (k === "FrrImage" ? { builder: CONNECTION } : base(k));
  bad(
    kinds as Kind[],
    `${c}.host`,
    [
      ...NOT_A_WORD,
      "[192.0.2.1]",
      "192.0.2.1:22",
      "h..example",
      "-h",
      "h_1.example",
      "a".repeat(254),
      "1.2.3",
      "999.1.1.1",
    ],
    `${c}.host`,
    on,
  );
  bad(
    kinds as Kind[],
    `${c}.port`,
    [0, -1, 65536, 1.5, "22", NaN, Infinity, null, true, []],
    `${c}.port`,
    on,
  );
  bad(
    kinds as Kind[],
    `${c}.user`,
    ["", "Root", "a b", "-u", "$(id)", "a".repeat(33), 1, null],
    `${c}.user`,
    on,
  );
  bad(kinds as Kind[], `${c}.sudo`, ["true", "false", 1, 0, null, "yes"], `${c}.sudo`, on);
  bad(kinds as Kind[], `${c}.password`, ["", 1, null, {}], `${c}.password`, on);
  bad(kinds as Kind[], `${c}.privateKey`, ["", 1, false], `${c}.privateKey`, on);
  bad(
    kinds as Kind[],
    `${c}.hostKey`,
    [
      "",
      "AAAAC3NzaC1lZDI1NTE5",
      "ssh-ed25519",
      "ssh-foo AAAAC3NzaC1lZDI1NTE5",
      "h1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5",
      "ssh-ed25519 AAAA$(id)",
      "ssh-ed25519 AAAAC3Nz\nx",
      1,
    ],
    `${c}.hostKey`,
    on,
  );
  bad(
    kinds as Kind[],
    `${c}.agentSocketPath`,
    ["", "agent.sock", "/a b", 1],
    `${c}.agentSocketPath`,
    on,
  );
  bad(kinds as Kind[], `${c}.dialErrorLimit`, [-2, 1.5, "10", null], `${c}.dialErrorLimit`, on);
  bad(kinds as Kind[], `${c}.perDialTimeout`, [-1, 1.5, "15", null], `${c}.perDialTimeout`, on);
  bad(kinds as Kind[], `${c}.proxy`, ["jump", 1, [], null], `${c}.proxy`, on);
  bad(kinds as Kind[], `${c}.proxy.host`, ["$(reboot)", "", 1, "a b"], `${c}.proxy.host`, on);
  bad(kinds as Kind[], `${c}.proxy.port`, [0, 70000, "22"], `${c}.proxy.port`, (k) =>
    withValue(on(k), `${c}.proxy`, { host: "jump.example" }),
  );
  bad(kinds as Kind[], `${c}.proxy.sudo`, [true], `${c}.proxy.sudo`, (k) =>
    withValue(on(k), `${c}.proxy`, { host: "jump.example" }),
  );
  bad(kinds as Kind[], `${c}.proxy.proxy`, [{ host: "j2" }], `${c}.proxy.proxy`, (k) =>
    withValue(on(k), `${c}.proxy`, { host: "jump.example" }),
  );
  bad(kinds as Kind[], `${c}.hots`, ["192.0.2.1"], `${c}.hots`, on);
  bad(kinds as Kind[], `${c}.privatekey`, ["KEY"], `${c}.privatekey`, on);
}
bad(REMOTE, "connection", [undefined], "connection");

// --- addresses ------------------------------------------------------------------------
const BAD_ADDRESSES = [
  ...NOT_A_WORD,
  "1.2.3",
  "1.2.3.4.5",
  "256.0.0.1",
  "010.0.0.1",
  "0.0.0.0",
  "0.1.2.3",
  "127.0.0.1",
  "127.255.255.254",
  "224.0.0.5",
  "239.1.1.1",
  "240.0.0.1",
  "255.255.255.255",
  "10.0.0.1/32/24",
  "10.0.0.1/24",
  "10.0.0.1/",
  " 10.0.0.1",
  "10.0.0.1\n",
  "::1",
  "fe80::1",
  "10.0.0.1;reboot",
  167772161,
];
bad(ROUTERS, "loopback", BAD_ADDRESSES);
bad(
  ROUTERS,
  "routerId",
  BAD_ADDRESSES.filter((v) => typeof v !== "string" || !v.startsWith("10.0.0.1/")),
);
const BAD_PREFIXES = [
  "10.0.0.1/8",
  "10.0.0.0/33",
  "10.0.0.0/08",
  "10.0.0.0",
  "0.0.0.0/0",
  "224.0.0.0/4",
  "127.0.0.0/8",
  "240.0.0.0/5",
  "192.0.0.0/2",
  "10.0.0.0/8/8",
  "10.0.0.0/-1",
  "10.0.0.0/ 8",
  "$(reboot)",
  "",
  1,
  null,
];
bad(
  ROUTERS,
  "networks",
  BAD_PREFIXES.map((p) => ["10.9.0.0/16", p]),
  "networks[1]",
);
bad(ROUTERS, "networks", ["10.0.0.0/8", null, 1, {}], "networks");
bad(ROUTERS, "networks", [["10.9.0.0/16", "10.9.0.0/16"]], "networks[1]");
bad(ROUTERS, "networks", [[, "10.9.0.0/16"]], "networks[0]");
bad(["BgpLoopback"], "networks", [["2.2.2.2/32"]], "networks[0]");
bad(["TorCumulus"], "networks", [["1.1.1.1/32"]], "networks[0]");

// --- BgpLoopback ----------------------------------------------------------------------
const BAD_INTERFACES = [
  ...NOT_A_WORD,
  "a".repeat(16),
  ".eth0",
  "eth/0",
  "eth:0",
  "10.0.0.1",
  "1",
  "192.168.1",
  "all",
  "default",
  "lo",
  "fe80::1",
  "ä",
];
bad(
  ["BgpLoopback"],
  "interfaces",
  BAD_INTERFACES.map((i) => ["ens3", i]),
  "interfaces[1]",
);
bad(["BgpLoopback"], "interfaces", [[], "ens3", null, 1, {}], "interfaces");
bad(["BgpLoopback"], "interfaces", [["ens3", "ens3"]], "interfaces[1]");
bad(["BgpLoopback"], "interfaces", [["ens3", , "ens4"]], "interfaces[1]");
bad(["BgpLoopback"], "peerGroup", [...NOT_A_WORD, "1TOR", "TOR!", "T.OR", "a".repeat(64), "ens3"]);
bad(["BgpLoopback"], "frrVersion", [
  ...NOT_A_WORD.filter((v) => v !== null),
  null,
  "8",
  "v8.4.4",
  "8.4.4.4",
  "8.4.4 ",
  "latest",
  "8.4.4-$(id)",
]);
bad(["BgpLoopback"], "hostname", [...NOT_A_WORD, "a_b", "a-", "a".repeat(64), "a..b", "h.", "ä"]);
for (const field of ["zebraOptions", "bgpdOptions"]) {
  bad(["BgpLoopback"], field, [
    "$(reboot)",
    "a;b",
    "a\nb",
    "'",
    '"',
    "`id`",
    "a|b",
    "a&b",
    1,
    null,
  ]);
}
bad(["BgpLoopback"], "machineName", [
  ...NOT_A_WORD,
  "frr_1",
  "frr-",
  ".frr",
  "frr.",
  "frr..a",
  "frr.-a",
  "a".repeat(65),
  ".host",
]);
bad(["BgpLoopback"], "machineName", [undefined], "machine");
bad(["BgpLoopback"], "machine", ["frr", { name: "frr" }], "machine");
const ASNS = [0, -1, 4294967296, 23456, 1.5, "65001", "1.10", NaN, Infinity, null, true, {}, []];
bad(ROUTERS, "asn", ASNS);
for (const [key, path] of [
  ["interface", "interface"],
  ["routerID", "routerID"],
  ["peergroup", "peergroup"],
  ["network", "network"],
  ["frr_version", "frr_version"],
  ["loopbak", "loopbak"],
  ["zebraOption", "zebraOption"],
] as const) {
  bad(["BgpLoopback"], key, [key === "interface" ? "ens4" : "x"], path);
}

// --- TorCumulus -----------------------------------------------------------------------
bad(
  ["TorCumulus"],
  "downlinks",
  [
    ...[
      "swp0",
      "swp",
      "eth1",
      "swp1s10",
      "swp1000",
      "SWP1",
      "swp1 ",
      "swp01",
      "$(id)",
      "",
      1,
      null,
    ].map((p) => [{ port: p }]),
  ],
  "downlinks[0].port",
);
bad(["TorCumulus"], "downlinks", [[], "swp1", null, 1, {}], "downlinks");
bad(["TorCumulus"], "downlinks", [["swp1"], [null], [1], [[]]], "downlinks[0]");
bad(
  ["TorCumulus"],
  "downlinks",
  [[{ port: "swp1" }, { port: "swp1", raInterval: 10 }]],
  "downlinks[1]",
);
bad(["TorCumulus"], "downlinks", [[, { port: "swp1" }]], "downlinks[0]");
bad(
  ["TorCumulus"],
  "downlinks",
  [0, 1801, 1.5, "5", null, -1].map((v) => [{ port: "swp1", raInterval: v }]),
  "downlinks[0].raInterval",
);
bad(
  ["TorCumulus"],
  "downlinks",
  [-1, 9001, 1.5, "15", null, 3].map((v) => [{ port: "swp1", raLifetime: v }]),
  "downlinks[0].raLifetime",
);
bad(["TorCumulus"], "downlinks", [[{ port: "swp1", raLifetme: 30 }]], "downlinks[0].raLifetme");
bad(["TorCumulus"], "downlinks", [[{ port: "swp1", ra_interval: 30 }]], "downlinks[0].ra_interval");
bad(["TorCumulus"], "downlinks", [[{ Port: "swp1" }]], "downlinks[0].Port");
bad(
  ["TorCumulus"],
  "downlinks",
  [[{ port: "eth1", raLifetime: 0 }]],
  "downlinks[0].raLifetime",
  () => withValue(base("TorCumulus"), "cli", "vtysh"),
);
bad(
  ["TorCumulus"],
  "downlinks",
  BAD_INTERFACES.map((p) => [{ port: p }]),
  "downlinks[0].port",
  () => withValue(base("TorCumulus"), "cli", "vtysh"),
);
bad(["TorCumulus"], "cli", ["", "NCLU", "net", "vtysh ", "nv", "NVUE", 1, null, true]);
bad(["TorCumulus"], "cumulusVersion", ["5.9"]);
bad(
  ["TorCumulus"],
  "cumulusVersion",
  ["4.4", "5", "5.9 ", "v5.9", "5.x", "6.0", 5.9, null],
  "cumulusVersion",
  () => withValue(base("TorCumulus"), "cli", "nvue"),
);
bad(["TorCumulus"], "hostname", ["tor1"]);
bad(["TorCumulus"], "frrVersion", ["8.4.4"]);
bad(["TorCumulus"], "commitDescription", [
  "",
  "a\nb",
  "a\rb",
  "a\u2028b",
  "a\u2029b",
  "a\u0085b",
  "a\u001bb",
  "a\u007fb",
  "a\tb",
  "a\u0000b",
  "--amend",
  "-x",
  "a".repeat(201),
  1,
  null,
  {},
]);
bad(["TorCumulus"], "downlink", [[{ port: "swp1" }]]);
bad(["TorCumulus"], "commit", ["x"]);
bad(["TorCumulus"], "raLifetime", [30]);

// --- NspawnMachine --------------------------------------------------------------------
bad(["NspawnMachine"], "machineName", [
  ...NOT_A_WORD,
  "frr_1",
  "frr-",
  "-frr",
  ".frr",
  "frr..a",
  "a".repeat(65),
  ".host",
]);
bad(["NspawnMachine"], "image.path", [
  ...NOT_A_WORD,
  "/x/frr.tar.zst",
  "/x/frr.zip",
  "/x/frr",
  "x/frr.tar",
  "/x/../frr.tar",
  "/x/./frr.tar",
  "//x.tar",
  "/x/frr.tar/",
  "/",
  "~/frr.tar",
  "/x y.tar",
  "/.tar",
]);
const BAD_URLS = [
  ...NOT_A_WORD,
  "ftp://m/d/frr.tar",
  "http://",
  "http:///x.tar",
  "http://m/frr.tar#",
  "http://m/frr.tar#frag",
  "http://user:pw@m/frr.tar",
  "http://user@m/frr.tar",
  "http://m/\u001b.tar",
  "http://m/\u0085.tar",
  "http://m/\u007f.tar",
  "http://m/a b.tar",
  "javascript:alert(1)",
  "file:///etc/passwd.tar",
  "//m/frr.tar",
  "m/frr.tar",
  "http://m/$x.tar",
  "http://m/{a}.tar",
  "http://m/a|b.tar",
  "http://m/<a>.tar",
];
bad(["NspawnMachine"], "image", [{ url: undefined, sha256: SHA }], "image", () => ({
  connection: CONNECTION,
  image: { path: "/x.tar", sha256: SHA },
}));
bad(
  ["NspawnMachine"],
  "image.url",
  [...BAD_URLS, "https://m/frr.tar.zst", "https://m/frr.img", "https://m/frr"],
  "image.url",
  () => ({ connection: CONNECTION, image: { url: "https://m/frr.tar", sha256: SHA } }),
);
bad(["NspawnMachine"], "image.sha256", [
  "ab",
  "A".repeat(64),
  "g".repeat(64),
  "a".repeat(63),
  "a".repeat(65),
  ` ${"a".repeat(64)}`,
  null,
  1,
]);
bad(["NspawnMachine"], "image.sha", [SHA], "image.sha");
bad(["NspawnMachine"], "image", [null, "frr.tar", 1, [], {}], "image");
bad(
  ["NspawnMachine"],
  "capabilities",
  ["CAP_NET_ADMN", "cap_net_admin", "CAP_ALL", "NET_ADMIN", "CAP_NET_ADMIN ", "", 1, null].map(
    (c) => [c],
  ),
  "capabilities[0]",
);
bad(["NspawnMachine"], "capabilities", ["CAP_NET_ADMIN", null, 1], "capabilities");
bad(["NspawnMachine"], "capabilities", [["CAP_NET_RAW", "CAP_NET_RAW"]], "capabilities[1]");
bad(["NspawnMachine"], "capabilities", [[, "CAP_NET_RAW"]], "capabilities[0]");
bad(["NspawnMachine"], "bootTimeoutSeconds", [0, 4, 3601, 1.5, "120", null, true]);
bad(["NspawnMachine"], "settings", ["", "NSPAWN-FILE", "file", 1, null]);
bad(["NspawnMachine"], "capability", [["CAP_NET_RAW"]]);
bad(["NspawnMachine"], "machinename", ["frr"]);

// --- FrrImage -------------------------------------------------------------------------
bad(["FrrImage"], "suite", [...NOT_A_WORD, "Bookworm", "b", "bookworm/updates", "a".repeat(33)]);
bad(["FrrImage"], "arch", [...NOT_A_WORD, "AMD64", "a", "x86_64", "a".repeat(17)]);
bad(["FrrImage"], "mirror", BAD_URLS);
bad(["FrrImage"], "workDir", [
  ...NOT_A_WORD,
  "/",
  "/tmp",
  "/etc",
  "/var",
  "/usr",
  "/home",
  "/root",
  "/var/tmp",
  "/var/lib",
  "/proc/x",
  "/sys/fs",
  "/dev/shm",
  "/boot",
  "/run",
  "relative",
  "/a/../b",
  "/a//b",
]);
bad(["FrrImage"], "hostname", [...NOT_A_WORD, "a_b", "-a"]);
bad(
  ["FrrImage"],
  "extraPackages",
  ["-y", "--force", "FRR", "a", "a b", "$(id)", "a;b", "", 1, null].map((p) => [p]),
  "extraPackages[0]",
);
bad(["FrrImage"], "extraPackages", ["tcpdump", null, 1], "extraPackages");
bad(["FrrImage"], "extraPackages", [[, "tcpdump"]], "extraPackages[0]");
bad(["FrrImage"], "compression", ["zstd", "gz", "", 1, null]);
bad(["FrrImage"], "distribution", ["fedora", "Debian", "", 1, null]);
bad(["FrrImage"], "localSudo", ["true", "false", 1, 0, null]);
const FRROUTING = {
  source: "frrouting",
  repository: "https://deb.frrouting.example/frr",
  keyUrl: "https://deb.frrouting.example/frr/keys.gpg",
};
bad(["FrrImage"], "frr.source", ["", "apt", "FRROUTING", 1, null], "frr.source", () => ({
  frr: { ...FRROUTING },
}));
for (const field of ["repository", "keyUrl"]) {
  bad(["FrrImage"], `frr.${field}`, [...BAD_URLS, undefined], `frr.${field}`, () => ({
    frr: { ...FRROUTING },
  }));
}
bad(["FrrImage"], "frr.channel", [...NOT_A_WORD, "1frr", "frr stable"], "frr.channel", () => ({
  frr: { ...FRROUTING },
}));
bad(["FrrImage"], "frr.repo", ["https://x"], "frr.repo", () => ({ frr: { ...FRROUTING } }));
bad(["FrrImage"], "frr.keyURL", ["https://x"], "frr.keyURL", () => ({ frr: { ...FRROUTING } }));
bad(["FrrImage"], "frr", ["distro", 1, []], "frr");
bad(["FrrImage"], "extraPackage", [["tcpdump"]]);
bad(["FrrImage"], "compresion", ["xz"]);

/** Arguments that may be given as Outputs: a bad value there fails when it resolves. */
const OUTPUT_FIELDS = new Set([
  "connection",
  "loopback",
  "routerId",
  "networks",
  "interfaces",
  "peerGroup",
  "frrVersion",
  "hostname",
  "zebraOptions",
  "bgpdOptions",
  "machineName",
  "asn",
  "downlinks",
  "commitDescription",
  "cumulusVersion",
  "capabilities",
  "bootTimeoutSeconds",
  "suite",
  "arch",
  "mirror",
  "workDir",
  "extraPackages",
]);

/** True if `e` is an InputError (or carries one's text) naming `path`. */
function names(e: unknown, path: string): boolean {
  if (e instanceof InputError) {
    return e.problems.some((p) => p.path === path);
  }
  const text = e instanceof Error ? e.message : String(e);
  return text.includes(`  - ${path}: `);
}

function describeValue(v: unknown): string {
  if (v === undefined) {
    return "undefined";
  }
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

describe("input corpus: bad inputs fail naming their path, with zero commands registered", () => {
  beforeEach(() => rec.install());

  it(`has at least 500 bad cases over every component (${BAD.length})`, () => {
    assert.ok(BAD.length >= 500, String(BAD.length));
    for (const kind of ALL) {
      assert.ok(BAD.filter((b) => b.kind === kind).length >= 60, kind);
    }
  });

  BAD.forEach((b, i) => {
    it(`#${i} ${b.kind} ${b.at} = ${describeValue(b.value)} → ${b.path}`, async () => {
      const args =
        b.at === "name"
          ? (b.args ?? base(b.kind))
          : withValue(b.args ?? base(b.kind), b.at, b.value);
      const name = b.at === "name" ? (b.value as string) : "c";
      assert.throws(
        () => construct(b.kind, name, args),
        (e: unknown) => {
          assert.ok(e instanceof InputError, String(e));
          assert.ok(names(e, b.path), `expected ${b.path} in:\n${(e as Error).message}`);
          return true;
        },
      );
      await rec.settle(5);
      assert.deepEqual(rec.steps(), []);
    });
  });
});

/** Bad values given as Outputs: one per field and value kind. */
const BAD_OUTPUTS = BAD.filter(
  (b) => b.at !== "name" && OUTPUT_FIELDS.has(b.at.split(".")[0]) && b.value !== undefined,
).filter(
  (b, i, all) =>
    all.findIndex(
      (o) => o.kind === b.kind && o.at === b.at && typeof o.value === typeof b.value,
    ) === i || i % 7 === 0,
);

describe("input corpus: bad Outputs register zero commands and fail naming their path", () => {
  beforeEach(() => rec.install());

  it(`covers every Output field (${BAD_OUTPUTS.length} cases)`, () => {
    const fields = new Set(BAD_OUTPUTS.map((b) => b.at));
    for (const f of OUTPUT_FIELDS) {
      assert.ok(fields.has(f), f);
    }
  });

  BAD_OUTPUTS.forEach((b, i) => {
    it(`#${i} ${b.kind} ${b.at} = output(${describeValue(b.value)}) → ${b.path}`, async () => {
      const errors: unknown[] = [];
      const collect = (e: unknown) => errors.push(e);
      process.on("unhandledRejection", collect);
      try {
        const args = withValue(b.args ?? base(b.kind), b.at, b.value);
        const top = b.at.split(".")[0];
        args[top] = pulumi.output(args[top]);
        let component: pulumi.ComponentResource | undefined;
        try {
          component = construct(b.kind, "c", args);
        } catch (e) {
          errors.push(e);
        }
        const out =
          component === undefined
            ? undefined
            : (component as unknown as Record<string, pulumi.Output<unknown>>)[OUTPUT_OF[b.kind]];
        if (out !== undefined) {
          await valueOf(out).catch((e: unknown) => errors.push(e));
        }
        await rec.settle(30);
        assert.deepEqual(rec.steps(), []);
        assert.ok(
          errors.some((e) => names(e, b.path)),
          `no error named ${b.path}: ${errors.map(String).join("\n")}`,
        );
      } finally {
        process.off("unhandledRejection", collect);
      }
    });
  });
});

/** An output of each component that waits for its validated config. */
const OUTPUT_OF: Record<Kind, string> = {
  FrrImage: "recipeHash",
  NspawnMachine: "imageSha256",
  BgpLoopback: "frrConf",
  TorCumulus: "commands",
};

/** Tricky values that are valid: each constructs and registers its steps. */
const GOOD: [Kind, string, unknown, Args?][] = [
  ["BgpLoopback", "loopback", "2.2.2.2/32"],
  ["BgpLoopback", "loopback", "1.0.0.1"],
  ["BgpLoopback", "loopback", "223.255.255.255"],
  ["BgpLoopback", "loopback", "126.255.255.255"],
  ["BgpLoopback", "loopback", "128.0.0.1"],
  ["BgpLoopback", "routerId", "9.9.9.9"],
  ["BgpLoopback", "interfaces", ["enp1s0f0.100"]],
  ["BgpLoopback", "interfaces", ["eth0", "eth1"]],
  ["BgpLoopback", "interfaces", ["a"]],
  ["BgpLoopback", "interfaces", ["e".repeat(15)]],
  ["BgpLoopback", "interfaces", ["br-lan", "wg_0"]],
  ["BgpLoopback", "interfaces", ["1eth"]],
  ["BgpLoopback", "peerGroup", "A"],
  ["BgpLoopback", "peerGroup", "T-O_R"],
  ["BgpLoopback", "networks", ["10.1.0.0/24", "100.64.0.0/10"]],
  ["BgpLoopback", "networks", ["1.0.0.0/8"]],
  ["BgpLoopback", "networks", ["223.255.255.0/24"]],
  ["BgpLoopback", "networks", ["2.2.2.0/24"]],
  ["BgpLoopback", "frrVersion", "10.1"],
  ["BgpLoopback", "frrVersion", "9.1~rc1"],
  ["BgpLoopback", "frrVersion", "8.4.4-1"],
  ["BgpLoopback", "hostname", "h1"],
  ["BgpLoopback", "hostname", "rack1.h-1"],
  ["BgpLoopback", "zebraOptions", ""],
  ["BgpLoopback", "bgpdOptions", " -A 127.0.0.1 -p 179"],
  ["BgpLoopback", "asn", 1],
  ["BgpLoopback", "asn", 4294967295],
  ["BgpLoopback", "machineName", "frr.rack1"],
  ["BgpLoopback", "machineName", "f".repeat(64), { hostname: "h" }],
  ["BgpLoopback", "machineName", "0frr"],
  ["BgpLoopback", "connection.host", "2001:db8::10"],
  ["BgpLoopback", "connection.host", "fe80::1%eth0"],
  ["BgpLoopback", "connection.host", "host.example."],
  ["BgpLoopback", "connection.host", "h-1.example"],
  ["BgpLoopback", "connection.port", 65535],
  ["BgpLoopback", "connection.port", 1],
  ["BgpLoopback", "connection.user", "ci_bot$"],
  ["BgpLoopback", "connection.sudo", false],
  ["BgpLoopback", "connection.hostKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG0= root@h1"],
  ["BgpLoopback", "connection.proxy", { host: "jump.example", user: "jump", port: 2222 }],
  ["BgpLoopback", "connection.dialErrorLimit", -1],
  ["BgpLoopback", "connection.perDialTimeout", 0],
  ["TorCumulus", "downlinks", [{ port: "swp1s0", raInterval: 1800, raLifetime: 0 }]],
  ["TorCumulus", "downlinks", [{ port: "swp49", raInterval: 1, raLifetime: 9000 }]],
  ["TorCumulus", "downlinks", [{ port: "swp1" }, { port: "swp2", raLifetime: 5 }]],
  ["TorCumulus", "commitDescription", "deploy: rack 1 — ünïcode, quotes ' \" and $(not run)"],
  ["TorCumulus", "commitDescription", "a"],
  ["TorCumulus", "cumulusVersion", "5.9", { cli: "nvue" }],
  ["TorCumulus", "cumulusVersion", "5.15.1", { cli: "nvue" }],
  ["TorCumulus", "networks", ["10.0.0.0/8"]],
  ["TorCumulus", "downlinks", [{ port: "eth1" }, { port: "enp1s0f0.100" }], { cli: "vtysh" }],
  ["NspawnMachine", "image.path", "/srv/img/frr_8.4.4-1~deb12u1.tar.xz"],
  ["NspawnMachine", "image.path", "/x/y.tgz"],
  ["NspawnMachine", "image.path", "/x/y.tar"],
  ["NspawnMachine", "image.path", "/x/y.tar.bz2"],
  ["NspawnMachine", "image", { path: "/x/y.tar.gz", url: undefined, sha256: SHA }],
  ["NspawnMachine", "image", { url: "https://[2001:db8::1]/frr.tar.gz", sha256: SHA }],
  ["NspawnMachine", "image", { url: "http://mirror.example:8080/a/b.tar?x=1", sha256: SHA }],
  ["NspawnMachine", "capabilities", []],
  ["NspawnMachine", "capabilities", ["CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"]],
  ["NspawnMachine", "bootTimeoutSeconds", 5],
  ["NspawnMachine", "bootTimeoutSeconds", 3600],
  ["NspawnMachine", "machineName", "a"],
  ["FrrImage", "suite", "trixie"],
  ["FrrImage", "arch", "arm64"],
  ["FrrImage", "mirror", "http://deb.debian.org/debian"],
  ["FrrImage", "mirror", "https://mirror.example/debian/?dist=1"],
  ["FrrImage", "extraPackages", ["tcpdump", "iproute2", "libc6-dev", "g++"]],
  ["FrrImage", "workDir", "/var/lib/frr-nspawn/images2"],
  ["FrrImage", "workDir", "/srv/frr~images"],
  ["FrrImage", "workDir", "/tmp/frr-images"],
  ["FrrImage", "compression", "xz"],
  ["FrrImage", "hostname", "router1"],
  ["FrrImage", "frr", { ...FRROUTING, channel: "frr-10" }],
  ["FrrImage", "builder", { host: "builder.example", user: "root" }],
];
const GOOD_NAMES = ["a", "A.b-c_d", "x".repeat(48), "0", "rack1-h01"];

describe("input corpus: tricky but valid inputs construct and register their steps", () => {
  beforeEach(() => rec.install());

  it(`has at least 50 valid cases (${GOOD.length + GOOD_NAMES.length + 1})`, () => {
    assert.ok(GOOD.length + GOOD_NAMES.length + 1 >= 50);
  });

  for (const [kind, at, value, extra] of GOOD) {
    it(`${kind} ${at} = ${describeValue(value)}`, async () => {
      const component = construct(kind, "c", withValue({ ...base(kind), ...extra }, at, value));
      await valueOf(
        (component as unknown as Record<string, pulumi.Output<unknown>>)[OUTPUT_OF[kind]],
      );
      await rec.settle(20);
      assert.ok(rec.steps().length > 0);
    });
  }

  for (const name of GOOD_NAMES) {
    it(`resource name ${JSON.stringify(name)}`, async () => {
      new TorCumulus(name, base("TorCumulus") as never);
      await rec.settle(20);
      assert.deepEqual(
        rec.steps().map((r) => r.name),
        [`${name}-nclu`, `${name}-verify`],
      );
    });
  }

  it("a URL with credentials is accepted when it is a secret", async () => {
    const m = new NspawnMachine("c", {
      connection: CONNECTION,
      image: { url: pulumi.secret("https://u:pw@m.example/frr.tar.gz"), sha256: SHA },
    });
    await valueOf(m.imageSha256);
    await rec.settle(20);
    assert.ok(rec.steps().length > 0);
  });
});

describe("secrets in errors", () => {
  beforeEach(() => rec.install());

  it("a bad value given as a secret is written <secret>", async () => {
    const m = new TorCumulus("c", {
      ...(base("TorCumulus") as unknown as TorCumulusArgs),
      loopback: pulumi.secret("127.0.0.77"),
    });
    await assert.rejects(valueOf(m.commands), (e: Error) => {
      assert.ok(!e.message.includes("127.0.0.77"), e.message);
      assert.match(e.message, /loopback: <secret> is in 127\.0\.0\.0\/8/);
      return true;
    });
  });

  it("a URL with credentials given plainly is refused without echoing it", () => {
    assert.throws(
      () => new FrrImage("c", { mirror: "http://u:hunter2@m.example/debian" }),
      (e: Error) => !e.message.includes("hunter2") && /mirror: carries credentials/.test(e.message),
    );
  });
});
