/**
 * Trixie's FRR (10.x) for tests that run real daemons by chroot: tests/frr/rig.ts,
 * tests/frr/verify.test.ts and tests/rack. The rootfs holds the host's /dev while
 * mounted, so it is only ever removed by {@link removeFrrRoot}.
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Extracts trixie's FRR rootfs (tests/frr/rootfs.sh, cached) into `root`, mounts /proc
 * and the host's /dev into it for chroot, and returns its FRR version (10.x asserted).
 * Undo with {@link removeFrrRoot}, never with a plain `rm`: `${root}/dev` is the host's.
 */
export function mountTrixieRoot(root: string): string {
  const tarball = execFileSync(path.join(__dirname, "rootfs.sh"), ["trixie"], {
    encoding: "utf8",
  }).trim();
  fs.mkdirSync(root, { recursive: true });
  execFileSync("sh", [
    "-c",
    'zstd -q -dc "$1" | tar --numeric-owner -C "$2" -xf -',
    "x",
    tarball,
    root,
  ]);
  execFileSync("mount", ["-t", "proc", "proc", `${root}/proc`]);
  execFileSync("mount", ["--bind", "/dev", `${root}/dev`]);
  const version = /^[0-9]+\.[0-9]+/.exec(
    execFileSync("chroot", [root, "dpkg-query", "-W", "-f=${Version}", "frr"], {
      encoding: "utf8",
    }),
  )?.[0];
  assert.ok(version?.startsWith("10."), `trixie's FRR is ${version}`);
  return version!;
}

/** Unmounts what {@link mountTrixieRoot} mounted (whatever of it is mounted). */
export function unmountFrrRoot(root: string): void {
  spawnSync("umount", ["-l", `${root}/proc`]);
  spawnSync("umount", ["-l", `${root}/dev`]);
}

/** Unmounts what {@link mountTrixieRoot} mounted and removes `root`, refusing while anything is still mounted below it. */
export function removeFrrRoot(root: string): void {
  unmountFrrRoot(root);
  const mounted = fs
    .readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[1]?.startsWith(`${root}/`));
  assert.ok(!mounted, `${root} still has mounts: not removed`);
  spawnSync("rm", ["-rf", "--one-file-system", root]);
}
