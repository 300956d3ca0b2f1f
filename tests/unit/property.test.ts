/**
 * The property over every string argument: any value either throws at construction, or
 * in every script rendered from it stays one shell word. Shown by running every script
 * under `bash -n`, and by running the scripts that carry the value with `set -x` in a
 * sandbox (private mount and network namespaces, tmpfs over the folders scripts write,
 * host tools stubbed) and comparing the trace with that of a reference value: once each
 * value is replaced by a placeholder, the two traces must have the same commands with the
 * same words. A value that escaped its quoting would add, drop or split words.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";

import { BgpLoopback, FrrImage, InputError, NspawnMachine, TorCumulus } from "../../index";
import { Recorder, valueOf } from "../mock/harness";
import { hostLibrary, LIBRARY_DIR } from "../../components/render/scripts/library";
import { HOST_LIBRARY_FILE } from "../../components/steps";

const rec = new Recorder();
const SHA = "c".repeat(64);

type Kind = "FrrImage" | "NspawnMachine" | "BgpLoopback" | "TorCumulus";
type Args = Record<string, unknown>;

const CONNECTION = { host: "192.0.2.10", user: "core", privateKey: "KEY", sudo: true };

function base(kind: Kind): Args {
  switch (kind) {
    case "FrrImage":
      return { localSudo: false };
    case "NspawnMachine":
      return { connection: { ...CONNECTION }, image: { path: "/srv/img/frr.tar.gz", sha256: SHA } };
    case "BgpLoopback":
      return { connection: { ...CONNECTION }, machineName: "frr", loopback: "2.2.2.2", asn: 65001 };
    case "TorCumulus":
      return {
        connection: { ...CONNECTION },
        asn: 65000,
        loopback: "1.1.1.1",
        downlinks: [{ port: "swp1" }],
      };
    default: {
      const never: never = kind;
      throw new Error(String(never));
    }
  }
}

function construct(kind: Kind, name: string, args: Args): pulumi.Output<unknown> {
  switch (kind) {
    case "FrrImage":
      return new FrrImage(name, args as never).recipeHash;
    case "NspawnMachine":
      return new NspawnMachine(name, args as never).imageSha256;
    case "BgpLoopback":
      return new BgpLoopback(name, args as never).frrConf;
    case "TorCumulus":
      return new TorCumulus(name, args as never).commands;
    default: {
      const never: never = kind;
      throw new Error(String(never));
    }
  }
}

/**
 * Every string argument: where it goes and a distinctive valid reference value (one that
 * occurs nowhere else in the scripts, so that it can be replaced by a placeholder).
 */
const FIELDS: {
  kind: Kind;
  title: string;
  reference: string;
  set: (a: Args, v: string) => void;
}[] = [
  ...(["FrrImage", "NspawnMachine", "BgpLoopback", "TorCumulus"] as Kind[]).map((kind) => ({
    kind,
    title: "resource name",
    reference: "qzref1",
    set: () => undefined,
  })),
  ...(["NspawnMachine", "BgpLoopback", "TorCumulus"] as Kind[]).flatMap((kind) => [
    {
      kind,
      title: "connection.host",
      reference: "qzhost.example",
      set: (a: Args, v: string) => ((a.connection as Args).host = v),
    },
    {
      kind,
      title: "connection.user",
      reference: "qzuser",
      set: (a: Args, v: string) => ((a.connection as Args).user = v),
    },
  ]),
  ...[
    ["machineName", "qzmach1"],
    ["loopback", "10.77.0.1"],
    ["routerId", "10.77.0.2"],
    ["peerGroup", "QZPG"],
    ["frrVersion", "8.4.77"],
    ["hostname", "qzhost1"],
    ["zebraOptions", " -A 127.0.0.1 -s 77777"],
    ["bgpdOptions", " -A 127.0.0.77"],
  ].map(([field, reference]) => ({
    kind: "BgpLoopback" as Kind,
    title: field,
    reference,
    set: (a: Args, v: string) => (a[field] = v),
  })),
  {
    kind: "BgpLoopback",
    title: "interfaces[0]",
    reference: "qznic1",
    set: (a, v) => (a.interfaces = [v]),
  },
  {
    kind: "BgpLoopback",
    title: "networks[0]",
    reference: "10.78.0.0/16",
    set: (a, v) => (a.networks = [v]),
  },
  ...[
    ["loopback", "10.77.0.1"],
    ["routerId", "10.77.0.2"],
    ["commitDescription", "qz deploy note"],
  ].map(([field, reference]) => ({
    kind: "TorCumulus" as Kind,
    title: field,
    reference,
    set: (a: Args, v: string) => (a[field] = v),
  })),
  // TorCumulus's cumulusVersion only selects the NVUE syntax and never reaches a script;
  // the corpus covers its rule.
  {
    kind: "TorCumulus",
    title: "networks[0]",
    reference: "10.78.0.0/16",
    set: (a, v) => (a.networks = [v]),
  },
  {
    kind: "TorCumulus",
    title: "downlinks[0].port",
    reference: "swp77",
    set: (a, v) => (a.downlinks = [{ port: v }]),
  },
  {
    kind: "TorCumulus",
    title: "downlinks[0].port (vtysh)",
    reference: "qzeth1",
    set: (a, v) => {
      a.cli = "vtysh";
      a.downlinks = [{ port: v }];
    },
  },
  {
    kind: "NspawnMachine",
    title: "machineName",
    reference: "qzmach1",
    set: (a, v) => (a.machineName = v),
  },
  {
    kind: "NspawnMachine",
    title: "image.path",
    reference: "/srv/qz/frr.tar.gz",
    set: (a, v) => (a.image = { path: v, sha256: SHA }),
  },
  {
    kind: "NspawnMachine",
    title: "image.url",
    reference: "https://qz.example/frr.tar.gz",
    set: (a, v) => (a.image = { url: v, sha256: SHA }),
  },
  {
    kind: "NspawnMachine",
    title: "image.sha256",
    reference: "7".repeat(64),
    set: (a, v) => (a.image = { path: "/srv/img/frr.tar.gz", sha256: v }),
  },
  {
    kind: "NspawnMachine",
    title: "capabilities[0]",
    reference: "CAP_SYS_TIME",
    set: (a, v) => (a.capabilities = [v]),
  },
  ...[
    ["suite", "qzsuite"],
    ["arch", "qzarch"],
    ["mirror", "http://qz.example/debian"],
    ["hostname", "qzhost1"],
    ["workDir", "/srv/qzwork"],
  ].map(([field, reference]) => ({
    kind: "FrrImage" as Kind,
    title: field,
    reference,
    set: (a: Args, v: string) => (a[field] = v),
  })),
  {
    kind: "FrrImage",
    title: "extraPackages[0]",
    reference: "qzpkg",
    set: (a, v) => (a.extraPackages = [v]),
  },
  ...[
    ["channel", "qzchannel"],
    ["repository", "https://qz.example/frr"],
    ["keyUrl", "https://qz.example/frr/key.gpg"],
  ].map(([field, reference]) => ({
    kind: "FrrImage" as Kind,
    title: `frr.${field}`,
    reference,
    set: (a: Args, v: string) =>
      (a.frr = {
        source: "frrouting",
        repository: "https://deb.frr.example/frr",
        keyUrl: "https://deb.frr.example/k.gpg",
        [field]: v,
      }),
  })),
];

/** Characters that break quoting, split words or end lines, and some that keep values valid. */
const PIECES = [
  "'",
  '"',
  "\\",
  "$",
  "`",
  ";",
  "&",
  "|",
  "<",
  ">",
  "(",
  ")",
  "{",
  "}",
  "*",
  "?",
  "[",
  "]",
  "~",
  "#",
  "!",
  " ",
  "\t",
  "\n",
  "\r",
  "%",
  "=",
  ",",
  ":",
  "\u2028",
  "\u0085",
  "é",
  "\u001b",
  "$(id)",
  "'$(id)'",
  "${IFS}",
  "-",
  "--",
  ".",
  "_",
  "/",
  "0",
  "7",
  "a",
  "Z",
];

/** Pieces that often keep a value valid, so that values get through to the scripts. */
const BENIGN = ["0", "7", "a", "z", "Z", "-", ".", "_", "/", "~", " ", "é", "'", "$", "9.9"];

/** A value near the reference with pieces inserted, or an arbitrary string. */
function values(reference: string): fc.Arbitrary<string> {
  const near = fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.nat({ max: reference.length }),
          fc.oneof(fc.constantFrom(...PIECES), fc.constantFrom(...BENIGN)),
        ),
        {
          minLength: 1,
          maxLength: 3,
        },
      ),
    )
    .map(([inserts]) =>
      inserts.reduce((v, [at, piece]) => `${v.slice(0, at)}${piece}${v.slice(at)}`, reference),
    );
  return fc.oneof(
    { weight: 4, arbitrary: near },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
}

// --- the sandbox --------------------------------------------------------------------------

const SANDBOX = fs.mkdtempSync("/dev/shm/frr-nspawn-property-");
const STUBS = path.join(SANDBOX, "stubs");

/**
 * Host tools the scripts call, stubbed: they succeed and change nothing. Each reads its
 * stdin to the end first: a stub that exited unread would let the writer of a pipe into it
 * (`printf … | sha256sum --check -`) die of SIGPIPE now and then, and under pipefail the
 * step would fail on that run only (CI saw it once in 2,000-odd traces).
 */
const STUB_NAMES = [
  "machinectl",
  "importctl",
  "systemctl",
  "vtysh",
  "net",
  "sysctl",
  "curl",
  "wget",
  "sha256sum",
  "python3",
  "debootstrap",
  "ip",
  "modprobe",
  "sudo",
  "chroot",
  "apt-get",
  "dpkg",
  "dpkg-query",
  "tar",
  "gzip",
  "xz",
  "zstd",
  "mount",
  "umount",
  "systemd-nspawn",
  "logger",
  "ss",
  "journalctl",
  "systemd-run",
  "udevadm",
  "getent",
  "sleep",
];

/** A stub's first line: stdin read to the end unless it is a terminal. */
const DRAIN = "[ -t 0 ] || cat >/dev/null\n";

function writeStubs(): void {
  fs.mkdirSync(STUBS, { recursive: true });
  for (const name of STUB_NAMES) {
    fs.writeFileSync(path.join(STUBS, name), `#!/bin/sh\n${DRAIN}exit 0\n`, { mode: 0o755 });
  }
  fs.writeFileSync(
    path.join(STUBS, "machinectl"),
    `#!/bin/sh\n${DRAIN}case "$*" in *--property=State*) echo running ;; *--property=Leader*) echo 1 ;; show*) exit 1 ;; esac\nexit 0\n`,
    { mode: 0o755 },
  );
  fs.writeFileSync(
    path.join(STUBS, "systemctl"),
    `#!/bin/sh\n${DRAIN}case "$*" in *is-system-running*) echo running ;; esac\nexit 0\n`,
    { mode: 0o755 },
  );
  fs.writeFileSync(
    path.join(STUBS, "nsenter"),
    '#!/bin/sh\nwhile [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n',
    { mode: 0o755 },
  );
}

/** The bash script inside a step's login-shell wrapper (see shell.forLoginShell). */
function unwrap(wrapped: string): string {
  const m = /<<'([A-Z0-9_]*FRR_NSPAWN_SCRIPT)'\n([\s\S]*?)\n\1\n\)" /.exec(wrapped);
  assert.ok(m !== null, `not a wrapped script:\n${wrapped.slice(0, 200)}`);
  return m[2];
}

let counter = 0;

/** The last run's exit status and stderr, for the message when two traces differ. */
let lastRun = "";

/** Runs `script` traced in the sandbox and returns its trace. */
function traced(script: string): string {
  const file = path.join(SANDBOX, `s${counter++}.sh`);
  const trace = `${file}.trace`;
  fs.writeFileSync(file, script);
  const setup = [
    "for d in /etc /var /run /tmp /srv /opt /home /root /boot /usr/lib/frr; do",
    '    [ -d "$d" ] && mount -t tmpfs none "$d"',
    "done",
    "mkdir -p /var/tmp /var/lib /etc/frr",
    // The host library, where a component's -lib step installs it.
    `mkdir -p ${LIBRARY_DIR} && cp ${HOST_LIBRARY_FILE} ${hostLibrary().path}`,
    // fd 7: the scripts use 3, 8 and 9; sh (dash) opens single-digit fds only.
    `BASH_XTRACEFD=7 PATH=${STUBS}:/usr/sbin:/usr/bin:/sbin:/bin exec bash -x -c "$(cat "$1")" "step on host" 7>"$2"`,
  ].join("\n");
  const run = spawnSync(
    "unshare",
    ["-m", "-n", "--propagation", "private", "sh", "-c", setup, "sb", file, trace],
    { timeout: 20000, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] },
  );
  lastRun = `exit ${run.status ?? run.signal}, stderr:\n${run.stderr.slice(-2000)}`;
  const text = fs.existsSync(trace) ? fs.readFileSync(trace, "utf8") : "";
  fs.rmSync(file, { force: true });
  fs.rmSync(trace, { force: true });
  return text;
}

/**
 * Splits a bash xtrace into commands, each a list of words with bash's own quoting
 * ('…', '\'' and $'…') undone, so that two traces compare word by word.
 */
export function traceWords(trace: string): string[][] {
  const commands: string[][] = [];
  let i = 0;
  while (i < trace.length) {
    // A command starts with PS4 ("+ ", repeated by depth).
    const start = /^\++ /.exec(trace.slice(i));
    if (start === null) {
      const nl = trace.indexOf("\n", i);
      i = nl < 0 ? trace.length : nl + 1;
      continue;
    }
    i += start[0].length;
    const words: string[] = [];
    let word = "";
    let inWord = false;
    while (i < trace.length && trace[i] !== "\n") {
      const c = trace[i];
      if (c === " ") {
        if (inWord) words.push(word);
        word = "";
        inWord = false;
        i++;
      } else if (c === "'") {
        const end = trace.indexOf("'", i + 1);
        word += trace.slice(i + 1, end < 0 ? trace.length : end);
        inWord = true;
        i = end < 0 ? trace.length : end + 1;
      } else if (c === "$" && trace[i + 1] === "'") {
        i += 2;
        while (i < trace.length && trace[i] !== "'") {
          if (trace[i] === "\\") {
            const n = trace[i + 1];
            const simple: Record<string, string> = {
              n: "\n",
              t: "\t",
              r: "\r",
              e: "\u001b",
              E: "\u001b",
              a: "\u0007",
              b: "\b",
              f: "\f",
              v: "\v",
              "\\": "\\",
              "'": "'",
              '"': '"',
            };
            if (n in simple) {
              word += simple[n];
              i += 2;
            } else if (/[0-7]/.test(n)) {
              const oct = /^[0-7]{1,3}/.exec(trace.slice(i + 1))![0];
              word += String.fromCharCode(parseInt(oct, 8));
              i += 1 + oct.length;
            } else if (n === "x") {
              const hex = /^[0-9a-fA-F]{1,2}/.exec(trace.slice(i + 2))![0];
              word += String.fromCharCode(parseInt(hex, 16));
              i += 2 + hex.length;
            } else if (n === "u" || n === "U") {
              const hex = /^[0-9a-fA-F]{1,8}/.exec(trace.slice(i + 2))![0];
              word += String.fromCodePoint(parseInt(hex, 16));
              i += 2 + hex.length;
            } else {
              word += n;
              i += 2;
            }
          } else {
            word += trace[i++];
          }
        }
        i++;
        inWord = true;
      } else if (c === "\\") {
        word += trace[i + 1];
        i += 2;
        inWord = true;
      } else {
        word += c;
        inWord = true;
        i++;
      }
    }
    if (inWord) words.push(word);
    commands.push(words);
    i++;
  }
  return commands;
}

/**
 * A trace's commands with run-to-run noise (pids, times, temp names) masked and `value` as
 * a placeholder, sorted (a pipeline's commands trace in any order).
 */
function normalised(trace: string, value: string): string[][] {
  return (
    traceWords(trace)
      .filter((words) => !(words[0] === "tee" && words[1] === "-a"))
      .map((words) =>
        words.map((w) =>
          w
            .replace(/\bpid [0-9]+/g, "pid N")
            .replace(/^[0-9]+$/, "N")
            .replace(/=[0-9]+$/, "=N")
            .replace(/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z/g, "TIME")
            .replace(/(frr-nspawn-stderr|frr-nspawn-new)\.[A-Za-z0-9]{6}/g, "$1.XXXXXX")
            // The recipe hash names the build folder: every recipe has its own.
            .replace(/[0-9a-f]{16,64}/g, "HASH")
            .split(value)
            .join("\u0001VALUE\u0001"),
        ),
      )
      // The commands of a pipeline trace in any order: compare them as a multiset.
      .sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1))
  );
}

/** Every script registered: create and delete of each step, unwrapped. */
function scripts(): [string, string][] {
  return rec
    .steps()
    .flatMap((r) =>
      (["create", "delete"] as const)
        .filter((k) => typeof r.inputs[k] === "string")
        .map((k): [string, string] => [`${r.name} ${k}`, unwrap(String(r.inputs[k]))]),
    );
}

/** Builds the component with `value` in the field; the scripts, or undefined if it threw. */
async function render(
  field: (typeof FIELDS)[number],
  value: string,
): Promise<[string, string][] | undefined> {
  rec.install();
  const args = structuredClone(base(field.kind));
  field.set(args, value);
  const name = field.title === "resource name" ? value : "c";
  let out: pulumi.Output<unknown>;
  try {
    out = construct(field.kind, name, args);
  } catch (e) {
    assert.ok(e instanceof InputError, `not an InputError: ${String(e)}`);
    return undefined;
  }
  await valueOf(out);
  await rec.settle(10);
  return scripts();
}

/**
 * Arguments that reach no script text: the connection goes to the provider (the host only
 * into the login-shell wrapper's argv0, quoted there), FrrImage's build step is named
 * `frr-image-build` inside its script, and an image file is copied by CopyToRemote.
 */
const NOT_IN_SCRIPTS = new Set([
  ...["NspawnMachine", "BgpLoopback", "TorCumulus"].flatMap((k) => [
    `${k} connection.host`,
    `${k} connection.user`,
  ]),
  "FrrImage resource name",
  "NspawnMachine image.path",
]);

/** Per field: generated values accepted / compared by trace (printed at the end). */
const ACCEPTED = new Map<string, string>();

describe("property: every string argument is refused or stays one shell word", function () {
  this.timeout(600000);
  before(writeStubs);
  after(() => {
    fs.rmSync(SANDBOX, { recursive: true, force: true });
    console.log(`    accepted values per field: ${JSON.stringify(Object.fromEntries(ACCEPTED))}`);
  });

  it("the trace parser reads bash's quoting back", () => {
    const r = spawnSync("bash", ["-xc", `echo a 'b c' $'d\\ne' "f'g" ''`], { encoding: "utf8" });
    assert.deepEqual(traceWords(r.stderr), [["echo", "a", "b c", "d\ne", "f'g", ""]]);
  });

  it("a value that escapes its quoting shows in the traces (the check can fail)", () => {
    const unsafe = (v: string) => `echo start ${v} end\n`;
    const a = normalised(traced(unsafe("qzvalue")), "qzvalue");
    const b = normalised(traced(unsafe("qz value;id")), "qz value;id");
    assert.notDeepEqual(a, b);
  });

  for (const field of FIELDS) {
    it(`${field.kind} ${field.title}`, async () => {
      const reference = await render(field, field.reference);
      assert.ok(reference !== undefined, `the reference ${field.reference} was refused`);
      const carrying = reference.filter(([, s]) => s.includes(field.reference));
      const referenceTraces = new Map(
        carrying.map(([title, s]) => [title, normalised(traced(s), field.reference)]),
      );
      // Not vacuous: the reference's scripts ran, and their traces show the value.
      const id = `${field.kind} ${field.title}`;
      assert.equal(
        carrying.length === 0,
        NOT_IN_SCRIPTS.has(id),
        `scripts carrying it: ${carrying.length}`,
      );
      for (const [title, t] of referenceTraces) {
        assert.ok(t.length > 10, `${title}: a trace of ${t.length} commands`);
      }
      let accepted = 0;
      let compared = 0;
      await fc.assert(
        fc.asyncProperty(values(field.reference), async (value) => {
          const rendered = await render(field, value);
          if (rendered === undefined) {
            return;
          }
          accepted++;
          for (const [title, s] of rendered) {
            const parsed = spawnSync("bash", ["-n"], { input: s, encoding: "utf8" });
            assert.equal(parsed.status, 0, `${title}: bash -n: ${parsed.stderr}`);
          }
          // A placeholder must stand for this value only: a short or common value (say "7")
          // also occurs in the scripts' own text, so only bash -n applies to it.
          const distinctive = value.length >= 3 && !reference.some(([, s]) => s.includes(value));
          if (!distinctive) {
            return;
          }
          compared++;
          for (const [title, s] of rendered) {
            // With another resource name the steps are the same ones, named after it.
            const key =
              field.title === "resource name" ? title.split(value).join(field.reference) : title;
            const expected = referenceTraces.get(key);
            if (expected === undefined) {
              continue;
            }
            const actual = normalised(traced(s), value);
            assert.deepEqual(
              actual,
              expected,
              `${title}: the trace with ${JSON.stringify(value)} differs from the reference's (${lastRun})`,
            );
          }
        }),
        { numRuns: 25, seed: 8 },
      );
      ACCEPTED.set(`${field.kind} ${field.title}`, `${accepted}/${compared}`);
    });
  }
});
