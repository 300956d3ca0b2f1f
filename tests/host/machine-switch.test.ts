/**
 * NspawnMachine's import, start (the switch), remove and stop scripts, run for real in a
 * private mount namespace (a tmpfs over /var/lib) against a stand-in `machinectl`,
 * `systemctl`, `nsenter` and `journalctl`: first deploy, a new image beside the running
 * one, an image that does not boot (the old one comes back), a rollback to the kept
 * image without import, and destroy. Needs root (unshare, mount). Fails, never skips,
 * when not root.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  renderImport,
  renderRemoveImage,
  renderStart,
  renderStop,
} from "../../components/render/scripts/machine";

const FAKE = "/var/lib/fake-machined";

/** Stand-ins: machines are "running" while a file says so; an image boots if it has os-release. */
const TOOLS: Record<string, string> = {
  machinectl: `#!/bin/bash
S=${FAKE}; mkdir -p "$S"
cmd=$1; shift
case $cmd in
  show)
    [ -e "$S/running-$1" ] || exit 1
    case "$*" in *State*) echo running ;; *Leader*) echo 4242 ;; *) echo "Name=$1" ;; esac ;;
  start)
    echo "start $1 $(cat "/var/lib/machines/$1/id" 2>/dev/null)" >> "$S/log"
    [ -e "/var/lib/machines/$1/etc/os-release" ] || { echo "Failed to start $1: not an OS tree" >&2; exit 1; }
    : > "$S/running-$1" ;;
  poweroff|terminate) echo "$cmd $1" >> "$S/log"; rm -f "$S/running-$1" ;;
  enable|disable) ;;
  import-tar) echo "import $2" >> "$S/log"; mkdir -p "/var/lib/machines/$2"; tar -xf "$1" -C "/var/lib/machines/$2" ;;
  remove) echo "remove $1" >> "$S/log"; rm -rf "/var/lib/machines/$1" ;;
  image-status) [ -e "/var/lib/machines/$1" ] ;;
  *) echo "fake machinectl: $cmd?" >&2; exit 2 ;;
esac
`,
  nsenter: `#!/bin/bash
while [ "$1" != -- ]; do shift; done; shift
case "$*" in
  "systemctl is-system-running") echo running ;;
  "systemctl is-active --quiet frr") exit 0 ;;
  "timeout 60 systemctl stop frr") echo "stop frr" >> ${FAKE}/log ;;
  *) echo "fake nsenter: $*" >&2; exit 2 ;;
esac
`,
  systemctl: `#!/bin/bash
case "$1" in
  show) if ls ${FAKE}/running-* >/dev/null 2>&1; then echo active; else echo failed; fi ;;
  *) exit 0 ;;
esac
`,
  journalctl: "#!/bin/sh\nexit 0\n",
};

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

describe("machine image switch, as root, in a private mount namespace", function () {
  this.timeout(120_000);
  let out = "";

  before(() => {
    assert.equal(process.getuid?.(), 0, "these tests mount a tmpfs: run them as root");
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "machine-switch-"));
    const bin = path.join(work, "bin");
    fs.mkdirSync(bin);
    for (const [name, text] of Object.entries(TOOLS)) {
      fs.writeFileSync(path.join(bin, name), text, { mode: 0o755 });
    }
    // Three tarballs: A and B boot (os-release), C does not.
    for (const [id, boots] of [
      ["A", true],
      ["B", true],
      ["C", false],
    ] as const) {
      const root = path.join(work, `root-${id}`);
      fs.mkdirSync(path.join(root, "etc", "frr"), { recursive: true });
      fs.writeFileSync(path.join(root, "id"), id);
      fs.writeFileSync(path.join(root, "etc", "frr", "daemons"), `image ${id} daemons\n`);
      if (boots) fs.writeFileSync(path.join(root, "etc", "os-release"), "ID=debian\n");
      spawnSync("tar", ["-C", root, "-cf", path.join(work, `${id}.tar`), "."]);
    }
    const steps: [string, string][] = [
      ["import A", renderImport("s", "frr", A, `${work}/A.tar`)],
      ["start A", renderStart("s", "frr", A, 5)],
      [
        "BgpLoopback writes frr.conf and daemons",
        "printf 'CONF\\n' > /var/lib/machines/frr/etc/frr/frr.conf; cp /var/lib/machines/frr/etc/frr/daemons /var/lib/machines/frr/etc/frr/daemons.frr-nspawn-orig; printf 'MANAGED\\n' > /var/lib/machines/frr/etc/frr/daemons",
      ],
      ["import B", renderImport("s", "frr", B, `${work}/B.tar`)],
      ["start B", renderStart("s", "frr", B, 5)],
      [
        "check frr in B",
        "cd /var/lib/machines/frr/etc/frr && head -n 99 frr.conf daemons daemons.frr-nspawn-orig",
      ],
      ["remove A", renderRemoveImage("s", "frr", A)],
      ["import C", renderImport("s", "frr", C, `${work}/C.tar`)],
      ["start C", renderStart("s", "frr", C, 5)],
      ["import A again", renderImport("s", "frr", A, `${work}/A.tar`)],
      ["start A again", renderStart("s", "frr", A, 5)],
      ["remove C", renderRemoveImage("s", "frr", C)],
      ["remove B", renderRemoveImage("s", "frr", B)],
      ["stop", renderStop("s", "frr")],
    ];
    const lines = ["set -u", `export PATH=${bin}:$PATH`, "mount -t tmpfs none /var/lib"];
    steps.forEach(([title, text], i) => {
      fs.writeFileSync(path.join(work, `${i}.sh`), text);
      lines.push(
        `bash ${work}/${i}.sh > ${work}/${i}.out 2>&1; rc=$?`,
        `echo "=== ${title}: rc=$rc"`,
        `echo "images: $(cd /var/lib/machines 2>/dev/null && ls | tr '\\n' ' ')"`,
        `echo "running: $(cat /var/lib/machines/frr/id 2>/dev/null) $(ls ${FAKE}/running-* 2>/dev/null | wc -l)"`,
        `echo "active: $(cat /var/lib/frr-nspawn/frr/active 2>/dev/null) previous: $(cat /var/lib/frr-nspawn/frr/previous 2>/dev/null)"`,
        `if [ "$rc" -ne 0 ] || ${title.startsWith("check") ? "true" : "false"}; then sed 's/^/  | /' ${work}/${i}.out; fi`,
      );
    });
    lines.push(
      `echo "=== log"; cat ${FAKE}/log`,
      `echo "=== state"; ls -A /var/lib/frr-nspawn 2>&1 || true`,
    );
    const r = spawnSync(
      "unshare",
      ["-m", "--propagation", "private", "bash", "-c", lines.join("\n")],
      {
        encoding: "utf8",
      },
    );
    out = r.stdout + r.stderr;
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** The state lines printed after a step. */
  function after(title: string): string[] {
    const at = out.indexOf(`=== ${title}: `);
    assert.ok(at >= 0, `no step ${title} in:\n${out}`);
    return out.slice(at).split("\n").slice(0, 4);
  }

  it("first deploy: imported beside, then moved into place and started", () => {
    assert.deepEqual(after("start A"), [
      "=== start A: rc=0",
      "images: frr ",
      "running: A 1",
      "active: aaaaaaaaaaaaaaaa previous: ",
    ]);
  });

  it("a new image is imported beside the running machine, which keeps running", () => {
    assert.deepEqual(after("import B"), [
      "=== import B: rc=0",
      "images: frr frr-bbbbbbbbbbbbbbbb ",
      "running: A 1",
      "active: aaaaaaaaaaaaaaaa previous: ",
    ]);
  });

  it("the switch: B runs, A is kept for a rollback, FRR's config came along", () => {
    assert.deepEqual(after("start B"), [
      "=== start B: rc=0",
      "images: frr frr-aaaaaaaaaaaaaaaa ",
      "running: B 1",
      "active: bbbbbbbbbbbbbbbb previous: aaaaaaaaaaaaaaaa",
    ]);
    const check = out.slice(out.indexOf("=== check frr in B"));
    assert.deepEqual(check.split("\n").slice(4, 13), [
      "  | ==> frr.conf <==",
      "  | CONF",
      "  | ",
      "  | ==> daemons <==",
      "  | MANAGED",
      "  | ",
      "  | ==> daemons.frr-nspawn-orig <==",
      "  | image B daemons",
      "=== remove A: rc=0",
    ]);
    assert.deepEqual(after("remove A").slice(0, 2), [
      "=== remove A: rc=0",
      "images: frr frr-aaaaaaaaaaaaaaaa ",
    ]);
  });

  it("an image that does not boot: the step fails and B runs again", () => {
    const lines = after("start C");
    assert.deepEqual(lines, [
      "=== start C: rc=1",
      "images: frr frr-aaaaaaaaaaaaaaaa frr-cccccccccccccccc ",
      "running: B 1",
      "active: bbbbbbbbbbbbbbbb previous: ",
    ]);
    assert.match(
      out,
      /image cccccccccccccccc did not come up: putting the previous image back; it runs again/,
    );
  });

  it("rollback to A: no import, the kept image switched back; stale C pruned", () => {
    assert.deepEqual(after("start A again"), [
      "=== start A again: rc=0",
      "images: frr frr-bbbbbbbbbbbbbbbb ",
      "running: A 1",
      "active: aaaaaaaaaaaaaaaa previous: bbbbbbbbbbbbbbbb",
    ]);
    const log = out.slice(out.indexOf("=== log")).split("\n");
    assert.equal(log.filter((l) => l === "import frr-aaaaaaaaaaaaaaaa").length, 1);
  });

  it("the old machine stops only after the new image is imported, and starts again after a failure", () => {
    const log = out
      .slice(out.indexOf("=== log") + 8, out.indexOf("=== state"))
      .trim()
      .split("\n");
    assert.deepEqual(log, [
      "import frr-aaaaaaaaaaaaaaaa",
      "start frr A",
      "import frr-bbbbbbbbbbbbbbbb",
      // The switch: FRR stopped as in a restart, the rest of the old machine ended at once.
      "stop frr",
      "terminate frr",
      "start frr B",
      "import frr-cccccccccccccccc",
      "stop frr",
      "terminate frr",
      "start frr C",
      "start frr B",
      "stop frr",
      "terminate frr",
      "start frr A",
      "remove frr-cccccccccccccccc",
      // Destroy: a clean shutdown.
      "poweroff frr",
      "remove frr",
      "remove frr-bbbbbbbbbbbbbbbb",
    ]);
  });

  it("destroy removes every image and record", () => {
    assert.deepEqual(after("stop"), [
      "=== stop: rc=0",
      "images: ",
      "running:  0",
      "active:  previous: ",
    ]);
    assert.match(out, /=== state\nls: cannot access '\/var\/lib\/frr-nspawn'/);
  });
});
