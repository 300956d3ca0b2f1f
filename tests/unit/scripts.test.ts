import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  renderDaemons,
  renderFrrStopDropIn,
  DEFAULT_DAEMONS,
  FRR_STOP_DROP_IN,
} from "../../components/render/daemons";
import {
  KernelForwarding,
  renderEmptyFrrConf,
  renderHostFrrConf,
  renderSwitchFrrConf,
  withKernelForwarding,
} from "../../components/render/frrConf";
import {
  mirrorForwardingFunction,
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
  procSysPath,
} from "../../components/render/scripts/hostNet";
import { FrrTarget } from "../../components/render/scripts/lib";
import { sysctlKeys } from "../../components/render/hostNetwork";
import {
  ExpectedDigest,
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
  tarExtension,
} from "../../components/render/scripts/machine";
import { renderPush } from "../../components/render/scripts/push";
import { DIALECTS } from "../../components/render/switch";
import { forLoginShell, HOST_LOCK } from "../../components/shell";
import { SEED_HOST, SEED_SWITCH } from "../fixtures";

const SHA = "d".repeat(64);
const TAR = remoteTarPath("frr", SHA, ".tar.gz");
const NET = { machine: "frr", loopback: "2.2.2.2/32", interfaces: ["ens3"] };
const targets: FrrTarget[] = [{ kind: "machine", machine: "frr" }, { kind: "host" }];

/** Every step script, as rendered for the seed's values. */
const scripts: [string, string][] = [
  ["fetch", renderFetch("s", "https://images.example/frr.tar.gz", TAR, SHA)],
  ["verify", renderVerify("s", TAR, { sha256: SHA })],
  ["verify from a checksum file", renderVerify("s", TAR, { sha256File: `${TAR}.sha256` })],
  ["remove tar", renderRemoveTar("s", TAR)],
  ["import", renderImport("s", "frr", SHA, TAR)],
  ["remove image", renderRemoveImage("s", "frr", SHA)],
  ["settings nspawn-file", renderSettings("s", "frr", "nspawn-file", ["CAP_NET_ADMIN"])],
  ["settings unit-override", renderSettings("s", "frr", "unit-override", [])],
  ["remove settings", renderRemoveSettings("s", "frr")],
  ["start", renderStart("s", "frr", SHA, 120)],
  ["push", renderPush("s", "/var/lib/frr-nspawn/images/0123/frr-image.tar.gz", TAR)],
  ["stop", renderStop("s", "frr")],
  ["sysctl", renderSysctlApply("s", NET)],
  ["remove sysctl", renderSysctlRemove("s", "frr")],
  ["host unit", renderHostUnitApply("s", NET)],
  ["remove host unit", renderHostUnitRemove("s", "frr")],
  ...targets.flatMap((t): [string, string][] => [
    [`daemons (${t.kind})`, renderDaemonsApply("s", t, renderDaemons(DEFAULT_DAEMONS, "8.4.4"))],
    [
      `daemons with the stop drop-in (${t.kind})`,
      renderDaemonsApply(
        "s",
        t,
        renderDaemons(DEFAULT_DAEMONS, "8.4.4"),
        renderFrrStopDropIn(true),
      ),
    ],
    [`remove daemons (${t.kind})`, renderDaemonsRemove("s", t)],
    [`frr.conf (${t.kind})`, renderFrrConfApply("s", t, renderHostFrrConf(SEED_HOST))],
    [
      `remove frr.conf (${t.kind})`,
      renderFrrConfRemove("s", t, renderEmptyFrrConf("8.4.4", "frr")),
    ],
  ]),
  ...Object.values(DIALECTS).flatMap((d): [string, string][] => [
    [d.cli, d.applyScript("s", SEED_SWITCH)],
    [`remove ${d.cli}`, d.removeScript("s", SEED_SWITCH)],
  ]),
];

describe("step scripts", () => {
  for (const [title, text] of scripts) {
    it(`${title}: bash parses it, and it starts in strict mode`, () => {
      const r = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(text, /^# frr-nspawn: s: .+\nset -euo pipefail\nfrr_nspawn_log=/);
    });
    // Steps that change FRR or machines take the host lock; downloads and checks do not,
    // nor do the switch dialects, which take the switch-wide lock instead.
    const locks =
      !/^(fetch|verify|verify from a checksum file|remove tar|push|push remove|(remove )?(nclu|nvue|vtysh))$/.test(
        title,
      );
    it(`${title}: ${locks ? "takes" : "does not take"} the host lock`, () => {
      assert.equal(text.includes(`exec 8>>${HOST_LOCK}\nif ! flock --wait 600 8; then`), locks);
    });
    it(`${title}: the login-shell wrapper parses under sh`, () => {
      const r = spawnSync("sh", ["-n"], {
        input: forLoginShell(text, { sudo: true, timeoutSeconds: 60 }),
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
    });
  }

  it("the tarball name carries the machine and the start of the checksum", () => {
    assert.equal(TAR, `/var/tmp/frr-nspawn-frr-${"d".repeat(16)}.tar.gz`);
    assert.equal(tarExtension("/x/frr-image.tar.xz"), ".tar.xz");
    assert.equal(tarExtension("/x/image"), ".tar");
  });

  it("verify checks the checksum before anything imports: given, or read from the build's file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-"));
    const tar = path.join(dir, "frr.tar.gz");
    fs.writeFileSync(tar, "TARBALL");
    const sha = createHash("sha256").update("TARBALL").digest("hex");
    fs.writeFileSync(`${tar}.sha256`, `${sha}  frr.tar.gz\n`);
    fs.writeFileSync(`${tar}.bad`, "not a digest\n");
    const run = (text: string) => spawnSync("bash", ["-c", text, "s on h"], { encoding: "utf8" });
    const cases: [string, ExpectedDigest, number, string][] = [
      ["the given digest", { sha256: sha }, 0, ""],
      ["the build's file", { sha256File: `${tar}.sha256` }, 0, ""],
      [
        "another digest",
        { sha256: SHA },
        1,
        `frr-nspawn: s on h: ${tar} is missing or does not match sha256 ${SHA}; nothing was imported. Remove the file and run pulumi up again to copy it anew.`,
      ],
      [
        "no checksum file",
        { sha256File: `${tar}.none` },
        1,
        `frr-nspawn: s on h: the build's checksum file ${tar}.none is missing or empty; nothing was imported. Remove the file and run pulumi up again to copy it anew.`,
      ],
      [
        "a file without a digest",
        { sha256File: `${tar}.bad` },
        1,
        `frr-nspawn: s on h: ${tar}.bad holds no SHA-256; nothing was imported. Remove the file and run pulumi up again to copy it anew.`,
      ],
    ];
    for (const [what, expected, status, last] of cases) {
      const r = run(renderVerify("s", tar, expected));
      assert.equal(r.status, status, `${what}: ${r.stderr}`);
      if (status === 0) {
        assert.equal(r.stdout, "frr-nspawn: checksum verified\n", what);
      } else {
        assert.equal(r.stderr.trimEnd().split("\n").at(-1), last, what);
      }
    }
    fs.rmSync(dir, { recursive: true });
  });

  it("import goes beside the running machine, and never over an image frr-nspawn did not import", () => {
    const text = renderImport("s", "frr", SHA, TAR);
    assert.ok(text.endsWith(`\nimport_image ${"d".repeat(16)} ${TAR}\n`));
    assert.ok(text.includes(`\nfrr_nspawn_machine=frr\n`));
    assert.ok(text.includes("    local image=$m-$id\n"));
    assert.ok(
      text.includes(
        'echo "frr-nspawn: an image named $image exists that frr-nspawn did not import; remove it (machinectl remove $image) and run again" >&2',
      ),
    );
    assert.ok(!text.includes("poweroff"), "import stops nothing");
  });

  it("start switches images only after the old machine stopped, and puts the old one back on failure", () => {
    const text = renderStart("s", "frr", SHA, 120);
    assert.ok(text.endsWith(`\nstart_image ${"d".repeat(16)} 120\n`));
    assert.ok(
      text.includes(
        "    local id=$1 boot=$2 m=$frr_nspawn_machine s=/var/lib/frr-nspawn/$frr_nspawn_machine root=/var/lib/machines/$frr_nspawn_machine\n" +
          "    local side=/var/lib/machines/$frr_nspawn_machine-$1 ",
      ),
    );
    const putBack = text.slice(
      text.indexOf("    put_back() {"),
      text.indexOf("\n    }\n", text.indexOf("    put_back() {")),
    );
    assert.ok(putBack.includes('if [ "$moved_new" = yes ]; then mv -T "$root" "$side"; fi'));
    assert.ok(putBack.includes('[ -e "$root" ] || mv -T "$root-$active" "$root"'));
    assert.ok(putBack.includes('if machinectl start "$m" && wait_booted "$boot"; then'));
    const order = [
      'carry_frr_config "$root" "$side"',
      "\n    switch_off\n    saved_err_trap=$(trap -p ERR)\n    trap put_back ERR\n",
      'mv -T "$root" "$root-$active"',
      'mv -T "$side" "$root"\n',
      '\n    machinectl start "$m"\n    wait_booted "$boot"\n',
      '\n    eval "$saved_err_trap"\n',
    ];
    const at = order.map((needle) => text.indexOf(needle));
    assert.ok(
      at.every((i, k) => i > 0 && (k === 0 || i > at[k - 1])),
      `out of order: ${JSON.stringify(at)}`,
    );
  });

  it("import uses importctl -m where it exists (systemd 256+), machinectl otherwise", () => {
    const text = renderImport("s", "frr", SHA, TAR);
    assert.ok(
      text.includes(
        [
          "    if command -v importctl >/dev/null 2>&1; then",
          '        importctl -m import-tar "$tar" "$image"',
          "    else",
          '        machinectl import-tar "$tar" "$image"',
          "    fi",
        ].join("\n"),
      ),
    );
  });

  it("frr.conf is checked by vtysh --dryrun, rejected lines included, before it replaces the running file", () => {
    const text = renderFrrConfApply("s", { kind: "machine", machine: "frr" }, "x\n");
    // Staged first (the script's last lines), then frr_conf_apply: check, then replace.
    assert.ok(
      text.endsWith(
        "stage_file /var/lib/machines/frr/etc/frr frr.conf <<'FRR_NSPAWN_EOF'\nx\nFRR_NSPAWN_EOF\nfrr_conf_apply /var/lib/machines/frr/etc/frr\n",
      ),
    );
    assert.ok(text.includes('    staged=$(mktemp "$1/$2.frr-nspawn-new.XXXXXX")\n'));
    const check = text.indexOf('in_frr vtysh --dryrun -f "/etc/frr/${staged##*/}"');
    const replace = text.indexOf('    mv -f "$staged" "$1/frr.conf"');
    assert.ok(check > 0 && replace > check, JSON.stringify([check, replace]));
    assert.ok(text.includes("grep -Eq '^line [0-9]+: %'"));
  });

  it("the staged frr.conf gets the kernel's forwarding lines before the dry run, and the destroy's too", () => {
    const apply = renderFrrConfApply("s", { kind: "host" }, "x\n");
    const mirror = apply.indexOf('    mirror_forwarding "$staged"\n');
    const check = apply.indexOf("in_frr vtysh --dryrun");
    assert.ok(mirror > 0 && check > mirror, JSON.stringify([mirror, check]));
    const remove = renderFrrConfRemove("s", { kind: "host" }, "x\n");
    const installed = remove.indexOf('    mirror_forwarding "$1/frr.conf"\n');
    const applied = remove.indexOf('    apply_conf "the config could not be removed');
    assert.ok(installed > 0 && applied > installed, JSON.stringify([installed, applied]));
  });

  it("mirror_forwarding reads the kernel as zebra does and writes what withKernelForwarding says", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "forwarding-"));
    // /proc/net/snmp's second line: IpForwarding 1 (on) or 2 (off); IPv6 all/forwarding.
    const kernels: [string, Record<string, string | undefined>, KernelForwarding][] = [
      ["both on", { snmp: "Ip: 1 64 0\n", v6: "1\n" }, { ipv4: true, ipv6: true }],
      ["both off", { snmp: "Ip: 2 64 0\n", v6: "0\n" }, { ipv4: false, ipv6: false }],
      ["IPv4 off", { snmp: "Ip: 2 64 0\n", v6: "1\n" }, { ipv4: false, ipv6: true }],
      ["IPv6 off", { snmp: "Ip: 1 64 0\n", v6: "0\n" }, { ipv4: true, ipv6: false }],
      // zebra's ipforward*() return -1 for a file they cannot open: not listed as off.
      [
        "no files (IPv6 disabled at boot)",
        { snmp: undefined, v6: undefined },
        { ipv4: true, ipv6: true },
      ],
      // ipforward() without a second line returns 0: off.
      ["snmp without a second line", { snmp: "", v6: "1\n" }, { ipv4: false, ipv6: true }],
    ];
    const confs = [
      renderHostFrrConf(SEED_HOST),
      renderHostFrrConf({ ...SEED_HOST, frrVersion: "10.3", gracefulRestart: true }),
      renderSwitchFrrConf(SEED_SWITCH),
      renderEmptyFrrConf("8.4.4", "frr"),
      "frr version 8.4.4\nhostname frr\nno ip forwarding\nipv6 forwarding\n!",
    ];
    const script = [
      "set -euo pipefail",
      // Every /proc path read under the fake root.
      'in_frr() { local a args=(); for a in "$@"; do case $a in /proc/*) a=$FAKE$a ;; esac; args+=("$a"); done; "${args[@]}"; }',
      ...mirrorForwardingFunction(),
      'mirror_forwarding "$1"',
    ].join("\n");
    try {
      for (const [what, files, kernel] of kernels) {
        const fake = path.join(dir, what.replace(/\W+/g, "-"));
        fs.mkdirSync(`${fake}/proc/net`, { recursive: true });
        fs.mkdirSync(`${fake}/proc/sys/net/ipv6/conf/all`, { recursive: true });
        if (files.snmp !== undefined) {
          // The header line, then the values (none: the file ends after the header).
          const values = files.snmp === "" ? "" : `\n${files.snmp}`;
          fs.writeFileSync(
            `${fake}/proc/net/snmp`,
            `Ip: Forwarding DefaultTTL InReceives${values}`,
          );
        }
        if (files.v6 !== undefined) {
          fs.writeFileSync(`${fake}/proc/sys/net/ipv6/conf/all/forwarding`, files.v6);
        }
        for (const [i, conf] of confs.entries()) {
          const file = path.join(dir, `frr-${i}.conf`);
          fs.writeFileSync(file, conf);
          const r = spawnSync("bash", ["-c", script, "s", file], {
            encoding: "utf8",
            env: { ...process.env, FAKE: fake },
          });
          assert.equal(r.status, 0, `${what}, conf ${i}: ${r.stderr}`);
          assert.equal(
            fs.readFileSync(file, "utf8"),
            withKernelForwarding(conf.endsWith("\n") ? conf : `${conf}\n`, kernel),
            `${what}, conf ${i}`,
          );
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it("a VLAN uplink's sysctl key is written with / and reaches the right /proc/sys file", () => {
    const keys = sysctlKeys({ ...NET, interfaces: ["ens3", "enp1s0f0.100"] });
    assert.deepEqual(keys.slice(2), [
      "net.ipv6.conf.ens3.disable_ipv6",
      "net/ipv6/conf/enp1s0f0.100/disable_ipv6",
    ]);
    assert.deepEqual(keys.slice(2).map(procSysPath), [
      "/proc/sys/net/ipv6/conf/ens3/disable_ipv6",
      "/proc/sys/net/ipv6/conf/enp1s0f0.100/disable_ipv6",
    ]);
    // The dot form with the interface's dot written as / means the same file.
    assert.equal(
      procSysPath("net.ipv6.conf.enp1s0f0/100.disable_ipv6"),
      "/proc/sys/net/ipv6/conf/enp1s0f0.100/disable_ipv6",
    );
  });

  it("the daemons step puts frr.service's stop drop-in in place once, and takes it away", () => {
    const t: FrrTarget = { kind: "machine", machine: "frr" };
    const daemons = renderDaemons(DEFAULT_DAEMONS, "8.4.4");
    const dropIn = renderFrrStopDropIn(true)!;
    const file = `/var/lib/machines/frr${FRR_STOP_DROP_IN}`;
    const steps = [
      renderDaemonsApply("s", t, daemons, dropIn),
      renderDaemonsApply("s", t, daemons, dropIn),
      `cat ${file}`,
      renderDaemonsApply("s", t, daemons),
      `ls ${file} 2>&1 || true`,
      renderDaemonsApply("s", t, daemons, dropIn),
      renderDaemonsRemove("s", t),
      `ls -d /var/lib/machines/frr/etc/systemd/system/* 2>&1 || true`,
    ];
    const setup = [
      "mount -t tmpfs none /var",
      "mkdir -p /var/lib/machines/frr/etc/frr",
      "echo original > /var/lib/machines/frr/etc/frr/daemons",
      // The machine is not running here: no daemon-reload, no restart.
      'for s in "$@"; do echo "== step"; bash -c "$s" 2>&1 | grep -v "^frr-nspawn: ok" || true; done',
    ].join("\n");
    const r = spawnSync(
      "unshare",
      ["-m", "-n", "--propagation", "private", "sh", "-c", setup, "sb", ...steps],
      { encoding: "utf8", timeout: 30000 },
    );
    const out = r.stdout.split("== step\n").slice(1);
    assert.equal(out.length, steps.length, r.stdout + r.stderr);
    assert.match(out[0], /frr\.service stops zebra first/);
    assert.doesNotMatch(out[1], /frr\.service stops zebra first/);
    assert.equal(out[2], dropIn);
    assert.match(out[4], /No such file or directory/);
    assert.match(out[7], /No such file or directory/);
  });

  describe("a failed step ends with one line naming step, host and cause (real failures)", () => {
    /**
     * Runs a rendered step as forLoginShell names it, in private mount and network
     * namespaces with tmpfs over /run and /var (`prepare` runs there first, as root), and
     * returns its exit status and stderr lines.
     */
    function runStep(text: string, prepare: string): { status: number | null; stderr: string[] } {
      const setup = [
        "mount -t tmpfs none /run",
        "mount -t tmpfs none /var",
        prepare,
        'exec bash -c "$1" "h1-bgp-daemons on 192.0.2.10"',
      ].join("\n");
      const r = spawnSync(
        "unshare",
        ["-m", "-n", "--propagation", "private", "sh", "-c", setup, "sb", text],
        {
          encoding: "utf8",
          timeout: 30000,
        },
      );
      return { status: r.status, stderr: r.stderr.trimEnd().split("\n") };
    }
    const daemons = renderDaemons(DEFAULT_DAEMONS, "8.4.4");

    it("FRR's folder is missing: the script's own message is the cause", () => {
      const r = runStep(
        renderDaemonsApply("h1-bgp-daemons", { kind: "machine", machine: "frr" }, daemons),
        ":",
      );
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr.at(-1),
        "frr-nspawn: h1-bgp-daemons on 192.0.2.10: /var/lib/machines/frr/etc/frr does not exist: is FRR installed there?",
      );
    });

    it("FRR's folder is read-only: the failing command's message is the cause", () => {
      const etc = "/var/lib/machines/frr/etc/frr";
      const r = runStep(
        renderDaemonsApply("h1-bgp-daemons", { kind: "machine", machine: "frr" }, daemons),
        `mkdir -p ${etc} && mount -t tmpfs -o ro none ${etc}`,
      );
      assert.equal(r.status, 1);
      assert.match(r.stderr.at(-2)!, /^frr-nspawn: line [0-9]+: staged=\$\(mktemp .* \(exit 1\)$/);
      assert.match(
        r.stderr.at(-1)!,
        /^frr-nspawn: h1-bgp-daemons on 192\.0\.2\.10: mktemp: failed to create file via template .\/var\/lib\/machines\/frr\/etc\/frr\/daemons\.frr-nspawn-new\.XXXXXX.: Read-only file system$/,
      );
    });

    it("the host lock is held: the waiter names who holds it", () => {
      const lockWait = renderDaemonsApply("h1-bgp-daemons", { kind: "host" }, daemons).replace(
        "flock --wait 600 8",
        "flock --wait 1 8",
      );
      const r = runStep(
        lockWait,
        `printf '%s\\n' 'm1-start on 192.0.2.10 (pid 4242, since 2026-01-01T00:00:00Z)' > /run/frr-nspawn.lock; flock /run/frr-nspawn.lock sleep 5 & sleep 0.3`,
      );
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr.at(-1),
        "frr-nspawn: h1-bgp-daemons on 192.0.2.10: waited 600s for /run/frr-nspawn.lock, held by m1-start on 192.0.2.10 (pid 4242, since 2026-01-01T00:00:00Z)",
      );
    });
  });
});
