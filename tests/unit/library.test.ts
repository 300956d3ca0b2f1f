/**
 * The host library's `-lib` step: its scripts as exact text, and what they do on a
 * host (a private mount namespace with /var, /run and /root on tmpfs: as root, like CI).
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  hostLibrary,
  HostLibrary,
  LIBRARY_DIR,
  describeLibrary,
  renderHostLibrary,
  renderLibraryInstall,
  renderLibraryRemove,
} from "../../components/render/scripts/library";
import {
  renderDaemons,
  renderFrrStopDropIn,
  DEFAULT_DAEMONS,
} from "../../components/render/daemons";
import { renderEmptyFrrConf, renderHostFrrConf } from "../../components/render/frrConf";
import {
  renderDaemonsApply,
  renderDaemonsRemove,
  renderFrrConfApply,
  renderFrrConfRemove,
} from "../../components/render/scripts/frrApply";
import {
  renderHostUnitApply,
  renderHostUnitRemove,
  renderSysctlApply,
  renderSysctlRemove,
} from "../../components/render/scripts/hostNet";
import { FrrTarget, mgmtdRetryFunction } from "../../components/render/scripts/lib";
import {
  remoteTarPath,
  renderFetch,
  renderImport,
  renderRemoveImage,
  renderRemoveSettings,
  renderRemoveTar,
  renderSettings,
  renderStart,
  renderStop,
  renderVerify,
} from "../../components/render/scripts/machine";
import { renderVerify as renderSessionsVerify } from "../../components/render/scripts/verify";
import { quote, StepId } from "../../components/shell";
import { SEED_HOST } from "../fixtures";

const FAKE: HostLibrary = {
  text: "# a library\n",
  sha256: "ab".repeat(32),
  path: "/var/lib/frr-nspawn/lib/frr-nspawn-abababababababab.sh",
  users: "/var/lib/frr-nspawn/lib/frr-nspawn-abababababababab.users",
  copyName: "frr-nspawn-abababababababab.sh",
};

const LOCK = [
  "exec 8>>/run/frr-nspawn.lock",
  "if ! flock --wait 600 8; then",
  `    echo "frr-nspawn: waited 600s for /run/frr-nspawn.lock, held by $(head -c 300 /run/frr-nspawn.lock 2>/dev/null | tr -d '\n' || true)" >&2`,
  "    exit 1",
  "fi",
  `printf '%s\n' "$0 (pid $$, since $(date -u +%Y-%m-%dT%H:%M:%SZ))" > /run/frr-nspawn.lock`,
];

describe("host library: where it lives", () => {
  it("is named by its digest, under /var/lib/frr-nspawn/lib", () => {
    const lib = hostLibrary();
    assert.equal(lib.text, renderHostLibrary());
    assert.match(lib.sha256, /^[0-9a-f]{64}$/);
    const h16 = lib.sha256.slice(0, 16);
    assert.equal(lib.path, `${LIBRARY_DIR}/frr-nspawn-${h16}.sh`);
    assert.equal(lib.users, `${LIBRARY_DIR}/frr-nspawn-${h16}.users`);
    assert.equal(lib.copyName, `frr-nspawn-${h16}.sh`);
    assert.equal(LIBRARY_DIR, "/var/lib/frr-nspawn/lib");
  });
});

describe("host library: the -lib step's scripts", () => {
  it("install: lock, check the copy, install it once, source it, mark the user", () => {
    assert.equal(
      renderLibraryInstall("h1-lib", "h1-lib-copy", FAKE, "0011223344556677"),
      [
        "# frr-nspawn: h1-lib: install the host library frr-nspawn-abababababababab.sh and mark this component as its user",
        "set -euo pipefail",
        ...LOCK,
        "lib=/var/lib/frr-nspawn/lib/frr-nspawn-abababababababab.sh users=/var/lib/frr-nspawn/lib/frr-nspawn-abababababababab.users",
        'home=$(getent passwd "${SUDO_USER:-$(id -un)}" | cut -d: -f6) || home=',
        'copy="$home"/frr-nspawn-abababababababab.sh',
        `if ! sha256sum "$lib" 2>/dev/null | grep -q '^${FAKE.sha256} '; then`,
        `    if ! sha256sum "$copy" 2>/dev/null | grep -q '^${FAKE.sha256} '; then`,
        `        echo "frr-nspawn: $0: $copy "'is missing or is not the library this program was built with (SHA-256 abababababababab…): the step h1-lib-copy copies it (pulumi up --replace that step)' >&2`,
        "        exit 1",
        "    fi",
        "    mkdir -p /var/lib/frr-nspawn/lib",
        '    install -m 0644 "$copy" "$lib.frr-nspawn-tmp"',
        '    mv -f "$lib.frr-nspawn-tmp" "$lib"',
        "fi",
        'rm -f "$copy"',
        '. "$lib"',
        "frr_nspawn_frame",
        'mkdir -p "$users"',
        ': > "$users"/0011223344556677',
        'echo "frr-nspawn: host library $lib installed"',
        "",
      ].join("\n"),
    );
  });

  it("remove: lock, drop the user's marker, and the library with the last one", () => {
    assert.equal(
      renderLibraryRemove("h1-lib", FAKE, "0011223344556677"),
      [
        "# frr-nspawn: h1-lib: stop using the host library frr-nspawn-abababababababab.sh; the last user removes it",
        "set -euo pipefail",
        ...LOCK,
        "lib=/var/lib/frr-nspawn/lib/frr-nspawn-abababababababab.sh users=/var/lib/frr-nspawn/lib/frr-nspawn-abababababababab.users",
        'home=$(getent passwd "${SUDO_USER:-$(id -un)}" | cut -d: -f6) || home=',
        'copy="$home"/frr-nspawn-abababababababab.sh',
        'if [ -r "$lib" ]; then',
        '    . "$lib"',
        "    frr_nspawn_frame",
        "fi",
        'rm -f "$copy" "$users"/0011223344556677',
        'if rmdir "$users" 2>/dev/null; then',
        '    rm -f "$lib"',
        '    echo "frr-nspawn: host library $lib removed (no component uses it)"',
        "fi",
        "rmdir /var/lib/frr-nspawn/lib 2>/dev/null || true",
        "rmdir /var/lib/frr-nspawn 2>/dev/null || true",
        "",
      ].join("\n"),
    );
  });

  for (const owner of ["", "../x", "0011223344556677/..", "ABCDEF0123456789"]) {
    it(`refuses ${JSON.stringify(owner)} as a user marker`, () => {
      assert.throws(
        () => renderLibraryInstall("s", "c", FAKE, owner),
        /a host library user must be 8 to 64 hex digits/,
      );
      assert.throws(
        () => renderLibraryRemove("s", FAKE, owner),
        /a host library user must be 8 to 64 hex digits/,
      );
    });
  }
});

describe("host library: the -lib step on a host", function () {
  this.timeout(60000);
  const lib = hostLibrary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-libstep-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /**
   * Runs `steps` (shell lines, each `run <file> [argv0]` to run a script file as a step)
   * in a private mount namespace with /var, /run and /root empty; prints `find` of
   * /var/lib/frr-nspawn and /root at the end.
   */
  function host(scripts: Record<string, string>, steps: string[]): { out: string; err: string } {
    for (const [name, text] of Object.entries(scripts)) {
      fs.writeFileSync(path.join(dir, name), text);
    }
    fs.writeFileSync(path.join(dir, "library.sh"), lib.text);
    const setup = [
      "set -u",
      "for d in /var /run /root; do mount -t tmpfs none $d; done",
      `cd ${dir}`,
      'run() { bash -c "$(cat "$1")" "$1 on host" 2>&1 | sed "s/^/$1: /"; }',
      ...steps,
      "find /var/lib/frr-nspawn /root -mindepth 1 2>/dev/null | sort | sed 's/^/left: /'",
    ].join("\n");
    const r = spawnSync("unshare", ["-m", "--propagation", "private", "bash", "-c", setup], {
      encoding: "utf8",
      env: { ...process.env, HOME: "/root", SUDO_USER: "" },
    });
    return { out: r.stdout, err: r.stderr };
  }

  const a = "aaaaaaaaaaaaaaaa";
  const b = "bbbbbbbbbbbbbbbb";
  const scripts = {
    "install-a": renderLibraryInstall("a-lib", "a-lib-copy", lib, a),
    "install-b": renderLibraryInstall("b-lib", "b-lib-copy", lib, b),
    "remove-a": renderLibraryRemove("a-lib", lib, a),
    "remove-b": renderLibraryRemove("b-lib", lib, b),
  };
  const copy = `cp library.sh /root/${lib.copyName}`;

  it("installs from the copy, removes the copy, and the last user removes the library", () => {
    const r = host(scripts, [
      copy,
      "run install-a",
      "echo --",
      "find /var/lib/frr-nspawn /root -mindepth 1 | sort",
      `cmp library.sh ${lib.path} && stat -c %a ${lib.path}`,
      "echo --",
      // A second component finds it installed: no copy needed.
      "run install-b",
      "run remove-a",
      `[ -e ${lib.path} ] && echo "still there"`,
      "run remove-b",
    ]);
    assert.equal(r.err, "");
    assert.equal(
      r.out,
      [
        `install-a: frr-nspawn: host library ${lib.path} installed`,
        "--",
        "/var/lib/frr-nspawn/lib",
        `${lib.path}`,
        `${lib.users}`,
        `${lib.users}/${a}`,
        "644",
        "--",
        `install-b: frr-nspawn: host library ${lib.path} installed`,
        "still there",
        `remove-b: frr-nspawn: host library ${lib.path} removed (no component uses it)`,
        "",
      ].join("\n"),
    );
  });

  it("an upgrade: the new version goes in beside the old one, which goes with its last user", () => {
    // What replacing both components' -lib steps does: create the new ones, then delete the
    // old ones (Pulumi's default order), while the other steps move to the new file.
    const text2 = `${lib.text}# another version\n`;
    const lib2 = describeLibrary(text2);
    const base2 = lib2.copyName.replace(/\.sh$/, "");
    fs.writeFileSync(path.join(dir, "library2.sh"), text2);
    const r = host(
      {
        ...scripts,
        "install2-a": renderLibraryInstall("a-lib", "a-lib-copy", lib2, a),
        "install2-b": renderLibraryInstall("b-lib", "b-lib-copy", lib2, b),
      },
      [
        copy,
        "run install-a >/dev/null",
        "run install-b >/dev/null",
        `cp library2.sh /root/${lib2.copyName}`,
        "run install2-a >/dev/null",
        "run install2-b >/dev/null",
        "run remove-a",
        `ls ${LIBRARY_DIR} | sed 's/^/after the first: /'`,
        "run remove-b",
      ],
    );
    assert.equal(r.err, "");
    assert.equal(
      r.out,
      [
        ...[
          lib.copyName,
          `${lib.copyName.replace(/\.sh$/, "")}.users`,
          lib2.copyName,
          `${base2}.users`,
        ]
          .sort()
          .map((f) => `after the first: ${f}`),
        `remove-b: frr-nspawn: host library ${lib.path} removed (no component uses it)`,
        `left: ${LIBRARY_DIR}`,
        ...[lib2.path, lib2.users, `${lib2.users}/${a}`, `${lib2.users}/${b}`].map(
          (f) => `left: ${f}`,
        ),
        "",
      ].join("\n"),
    );
  });

  it("a copy that is not this library is refused, and nothing is installed", () => {
    const r = host(scripts, [`echo 'rm -rf /' > /root/${lib.copyName}`, "run install-a"]);
    assert.equal(
      r.out,
      [
        `install-a: frr-nspawn: install-a on host: /root/${lib.copyName} is missing or is not the library this program was built with (SHA-256 ${lib.sha256.slice(0, 16)}…): the step a-lib-copy copies it (pulumi up --replace that step)`,
        `left: /root/${lib.copyName}`,
        "",
      ].join("\n"),
    );
  });

  it("a failure after the install is reported by the library: one line naming step and host", () => {
    // The marker folder cannot be made: a file is in its way.
    const r = host(scripts, [copy, `mkdir -p ${LIBRARY_DIR}`, `: > ${lib.users}`, "run install-a"]);
    const lines = r.out.split("\n").filter((l) => l.startsWith("install-a: "));
    assert.match(lines.at(-1)!, /^install-a: frr-nspawn: install-a on host: mkdir: .*File exists$/);
  });
});

describe("host library: a step that sources it leaves out what it defines, and nothing else", () => {
  const lib = hostLibrary();
  const ref = { path: lib.path, installedBy: "s-lib" };
  const machine: FrrTarget = { kind: "machine", machine: "frr" };
  const SHA = "d".repeat(64);
  const TAR = remoteTarPath("frr", SHA, ".tar.gz");
  const NET = { machine: "frr", loopback: "2.2.2.2/32", interfaces: ["ens3"] };
  const DAEMONS = renderDaemons(DEFAULT_DAEMONS, "8.4.4");
  /** Every renderer of a step on a host, for a step id. */
  const renderers: [string, (step: StepId) => string][] = [
    ["fetch", (s) => renderFetch(s, "https://images.example/frr.tar.gz", TAR, SHA)],
    ["verify", (s) => renderVerify(s, TAR, { sha256: SHA })],
    ["remove tar", (s) => renderRemoveTar(s, TAR)],
    ["import", (s) => renderImport(s, "frr", SHA, TAR)],
    ["remove image", (s) => renderRemoveImage(s, "frr", SHA)],
    ["settings", (s) => renderSettings(s, "frr", "nspawn-file", ["CAP_NET_ADMIN"])],
    ["remove settings", (s) => renderRemoveSettings(s, "frr")],
    ["start", (s) => renderStart(s, "frr", SHA, 120)],
    ["stop", (s) => renderStop(s, "frr")],
    ["sysctl", (s) => renderSysctlApply(s, NET)],
    ["remove sysctl", (s) => renderSysctlRemove(s, "frr")],
    ["host unit", (s) => renderHostUnitApply(s, NET)],
    ["remove host unit", (s) => renderHostUnitRemove(s, "frr")],
    ["daemons", (s) => renderDaemonsApply(s, machine, DAEMONS, renderFrrStopDropIn(true))],
    ["remove daemons", (s) => renderDaemonsRemove(s, machine)],
    ["frr.conf", (s) => renderFrrConfApply(s, machine, renderHostFrrConf(SEED_HOST))],
    ["remove frr.conf", (s) => renderFrrConfRemove(s, machine, renderEmptyFrrConf("8.4.4", "frr"))],
    [
      "bgp verify",
      (s) =>
        renderSessionsVerify(s, machine, {
          neighbors: ["ens3"],
          advertise: ["2.2.2.2/32"],
          timeoutSeconds: 60,
          frrConf: "",
        }),
    ],
  ];

  /** Names a script defines: functions, and variables assigned a quoted block. */
  function defined(text: string): Set<string> {
    return new Set([...text.matchAll(/^([a-z_]+)(?:\(\) \{|=')$/gm)].map((m) => m[1]));
  }
  const inLibrary = defined(lib.text);

  it("the library defines the frame, every helper the steps share, and the machine steps' bodies", () => {
    assert.deepEqual([...inLibrary].sort(), [
      "adopt_legacy_state",
      "apply_conf",
      "carry_frr_config",
      "daemons_apply",
      "daemons_remove",
      "drop_in_apply",
      "drop_in_remove",
      "fetch_image",
      "frr_active",
      "frr_conf_apply",
      "frr_conf_remove",
      "frr_nspawn_frame",
      "frr_nspawn_lock",
      "frr_nspawn_on_err",
      "frr_nspawn_on_exit",
      "host_unit_apply",
      "host_unit_remove",
      "import_image",
      "in_frr",
      "install_stdin",
      "interface_plan_py",
      "machine_gone",
      "machine_running",
      "mgmtd_retry",
      "mirror_forwarding",
      "remove_image",
      "remove_machine",
      "remove_tar",
      "settings_apply",
      "settings_remove",
      "stage_file",
      "start_image",
      "stop_machine",
      "switch_off",
      "sysctl_apply",
      "sysctl_remove",
      "verify_sessions",
      "verify_tar",
      "verify_tar_file",
      "wait_booted",
      "wait_until",
    ]);
  });

  for (const [title, render] of renderers) {
    it(`${title}: defines none of the library's names, and with it everything it carried`, () => {
      const carried = render("s");
      const sourcing = render({ name: "s", library: ref });
      assert.ok(sourcing.length < carried.length);
      const own = defined(sourcing);
      assert.deepEqual(
        [...own].filter((n) => inLibrary.has(n)),
        [],
      );
      assert.deepEqual(
        [...defined(carried)].filter((n) => !own.has(n) && !inLibrary.has(n)),
        [],
      );
      const parsed = spawnSync("bash", ["-n"], { input: sourcing, encoding: "utf8" });
      assert.equal(parsed.status, 0, parsed.stderr);
    });
  }
});

describe("mgmtd_retry: a vtysh call FRR 10's mgmtd refuses for a moment", () => {
  /**
   * Runs `fake` through mgmtd_retry; `called` is a function counting the calls in a file
   * (each call runs in a subshell). Returns status, calls and output.
   */
  function retried(fake: string): string {
    const text = [
      ...mgmtdRetryFunction(),
      "calls=$(mktemp); trap 'rm -f \"$calls\"' EXIT",
      'called() { echo x >> "$calls"; wc -l < "$calls"; }',
      fake,
      "out=$(mgmtd_retry fake) && rc=0 || rc=$?",
      'printf \'%s|%s|%s\' "$rc" "$(wc -l < "$calls")" "$out"',
    ].join("\n");
    return spawnSync("bash", ["-c", text], { encoding: "utf8" }).stdout;
  }

  for (const [what, message] of [
    ["the running datastore still locked", "% command failed, could not lock running DS"],
    [
      "a must-condition the previous commit satisfies once it has landed",
      ' Error: Must condition ". = 0 or . * 1000 >= ../max-rtr-adv-interval" not satisfied.',
    ],
  ]) {
    it(`${what}: run again until it passes`, () => {
      const fake = `fake() { if [ "$(called)" -lt 3 ]; then echo ${quote(message)}; return 1; fi; echo done; }`;
      assert.equal(retried(fake), "0|3|done");
    });
  }

  it("any other refusal: returned at once, with its output and status", () => {
    assert.equal(
      retried("fake() { called >/dev/null; echo '% Unknown command'; return 2; }"),
      "2|1|% Unknown command",
    );
  });
});
