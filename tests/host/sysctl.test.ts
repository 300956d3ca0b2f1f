/**
 * BgpLoopback's sysctl step on a minimal host: no procps (a `sysctl` first on PATH fails
 * when called) and no /etc/sysctl.d. Runs the real scripts as root in a private network
 * namespace (IPv6 sysctls are per namespace) and a private mount namespace (a copy of
 * /etc without sysctl.d, empty /var/lib and /run). Fails, never skips, when not root.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { renderSysctlApply, renderSysctlRemove } from "../../components/render/scripts/hostNet";

describe("sysctl step without procps and without /etc/sysctl.d (root)", function () {
  this.timeout(60000);
  const ns = `frrt-sysctl${process.pid}`;
  let dir = "";
  const net = { machine: "frrtest", loopback: "2.2.2.2/32", interfaces: ["ens3"] };
  const all = "/proc/sys/net/ipv6/conf/all/disable_ipv6";
  const ens3 = "/proc/sys/net/ipv6/conf/ens3/disable_ipv6";

  /** Runs shell `lines` in the namespaces; `step N` runs the Nth script. */
  function run(scripts: string[], lines: string[]): { status: number | null; out: string } {
    scripts.forEach((s, i) => fs.writeFileSync(`${dir}/script${i}.sh`, s));
    const wrapper = [
      "set -e",
      `cp -a /etc ${dir}/etc && rm -rf ${dir}/etc/sysctl.d && mount --bind ${dir}/etc /etc`,
      "mount -t tmpfs tmpfs /var/lib",
      "mount -t tmpfs tmpfs /run",
      `export PATH=${dir}/bin:$PATH`,
      `step() { bash ${dir}/script$1.sh; }`,
      ...lines,
    ].join("\n");
    const r = spawnSync(
      "ip",
      ["netns", "exec", ns, "unshare", "-m", "--propagation", "private", "bash", "-c", wrapper],
      { encoding: "utf8" },
    );
    fs.rmSync(`${dir}/etc`, { recursive: true, force: true });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  before(() => {
    assert.equal(
      process.getuid?.(),
      0,
      "this test writes sysctls in a network namespace: run it as root",
    );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-sysctl-"));
    fs.mkdirSync(`${dir}/bin`);
    fs.writeFileSync(
      `${dir}/bin/sysctl`,
      "#!/bin/sh\necho 'sysctl: not installed' >&2\nexit 127\n",
      {
        mode: 0o755,
      },
    );
    assert.equal(spawnSync("ip", ["netns", "add", ns]).status, 0);
    assert.equal(
      spawnSync("ip", ["-n", ns, "link", "add", "ens3", "type", "veth", "peer", "name", "p-ens3"])
        .status,
      0,
    );
  });
  after(() => {
    spawnSync("ip", ["netns", "del", ns]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("apply turns IPv6 on and writes the boot-time file; remove restores the values", () => {
    const r = run(
      [renderSysctlApply("s", net), renderSysctlRemove("s", "frrtest")],
      [
        `echo 1 > ${all}; echo 1 > ${ens3}`,
        "step 0",
        `[ "$(cat ${all})$(cat ${ens3})" = 00 ] || { echo "not applied: $(cat ${all})$(cat ${ens3})"; exit 1; }`,
        "grep -qx 'net.ipv6.conf.ens3.disable_ipv6 = 0' /etc/sysctl.d/90-frr-nspawn-frrtest.conf",
        "step 0", // idempotent: the values saved first are kept
        "step 1",
        `[ "$(cat ${all})$(cat ${ens3})" = 11 ] || { echo "not restored: $(cat ${all})$(cat ${ens3})"; exit 1; }`,
        "[ ! -e /etc/sysctl.d/90-frr-nspawn-frrtest.conf ]",
        "[ ! -e /etc/sysctl.d ] || { echo '/etc/sysctl.d created by apply is still there'; exit 1; }",
        "[ ! -e /var/lib/frr-nspawn ]",
      ],
    );
    assert.equal(r.status, 0, r.out);
  });

  it("the check can fail: with sysctl.d missing, writing the file alone would fail", () => {
    const r = run([], ["echo x > /etc/sysctl.d/x.conf"]);
    assert.notEqual(r.status, 0, r.out);
  });
});
