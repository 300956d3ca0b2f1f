/**
 * Real FRR daemons for the tests in tests/frr, one release line each, started by FRR's
 * own init script (frrinit.sh, which reads the package's rendered daemons file) in a
 * private network namespace with its own /etc/frr and /var/run/frr:
 *
 * - `"apt"`: this machine's FRR (Debian bookworm's 8.4.4, installed by .ci/run), in a
 *   mount namespace that binds private directories over /etc/frr and /run/frr;
 * - `"trixie"`: Debian trixie's FRR 10.x, from a cached rootfs tarball
 *   (tests/frr/rootfs.sh: built once with debootstrap, reused), run by chroot.
 *
 * `systemctl` is a shim inside the rig (there is no systemd there): `is-active` asks
 * watchfrr, `start`/`restart` run frrinit.sh. The package's scripts run unchanged with
 * `bash -s` inside the rig. Needs root.
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync, SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { DaemonsConfig, DEFAULT_DAEMONS, renderDaemons } from "../../components/render/daemons";
import {
  KernelForwarding,
  renderEmptyFrrConf,
  withKernelForwarding,
} from "../../components/render/frrConf";
import { renderFrrConfApply, renderFrrConfRemove } from "../../components/render/scripts/frrApply";
import { mountTrixieRoot, unmountFrrRoot } from "./trixieRoot";

export type RigKind = "apt" | "trixie";

/** Every rig kind, in the order the suites run them. */
export const RIG_KINDS: readonly RigKind[] = ["apt", "trixie"];

/** Interfaces (veth ends) every rig has up, named as the fixtures use them. */
export const RIG_INTERFACES = ["ens3", "ens4", "swp1", "swp2"];

const SHIM = [
  "#!/bin/sh",
  "# frr-nspawn test rig: FRR's init script stands in for systemd.",
  "running() {",
  '    [ -e /var/run/frr/watchfrr.pid ] && kill -0 "$(cat /var/run/frr/watchfrr.pid)" 2>/dev/null',
  "}",
  // The daemons inherit the init script's descriptors: keep the caller's pipes out of
  // them, and the script frame's (shell.ts: 3, its stderr; 8, the host lock, which
  // daemons holding it would keep from every later script).
  "detach() {",
  '    "$@" </dev/null >>/var/run/frr/rig-init.log 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-',
  "}",
  'case " $* " in',
  '*" is-active "*) running ;;',
  '*" restart "*) detach /usr/lib/frr/frrinit.sh restart ;;',
  '*" start "*) running || detach /usr/lib/frr/frrinit.sh start ;;',
  "*) exit 0 ;;",
  "esac",
  "",
].join("\n");

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export class FrrRig {
  /** Upstream FRR version of the rig's daemons, e.g. `8.4.4` or `10.3`. */
  public readonly version: string;
  /** The host path of the rig's /etc/frr. */
  public readonly etc: string;
  /** The host path of the rig's /var/run/frr. */
  private readonly runDir: string;
  private readonly prefix: string[];
  /** Makes /proc/sys read-only where FRR runs; returns the undo (see readOnlyProcSys). */
  private readonly procSysReadOnly: () => () => void;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    public readonly kind: RigKind,
    private readonly dir: string,
    private readonly ns: string,
  ) {
    // Whatever fails half-way is undone: no namespace, mount or directory is left behind.
    try {
      sh("ip", ["netns", "add", ns]);
      this.cleanups.push(() => void spawnSync("ip", ["netns", "del", ns]));
      sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
      for (const name of RIG_INTERFACES) {
        sh("ip", ["-n", ns, "link", "add", name, "type", "veth", "peer", "name", `p-${name}`]);
        sh("ip", ["-n", ns, "link", "set", name, "up"]);
      }
      const env = ["env", "PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"];
      if (kind === "trixie") {
        const root = path.join(dir, "root");
        this.cleanups.push(() => unmountFrrRoot(root));
        mountTrixieRoot(root);
        fs.writeFileSync(`${root}/usr/local/sbin/systemctl`, SHIM, { mode: 0o755 });
        this.etc = `${root}/etc/frr`;
        this.runDir = `${root}/run/frr`;
        sh("chroot", [root, "install", "-d", "-o", "frr", "-g", "frr", "/run/frr"]);
        this.prefix = ["ip", "netns", "exec", ns, "chroot", root, ...env];
        // In the host's mount namespace, on the rootfs's own /proc (every `ip netns exec`
        // copies it); unmounted before that /proc is.
        this.procSysReadOnly = () => {
          const undo = () => void spawnSync("umount", ["-l", `${root}/proc/sys`]);
          this.cleanups.push(undo);
          sh("mount", ["--bind", `${root}/proc/sys`, `${root}/proc/sys`]);
          sh("mount", ["-o", "remount,bind,ro", `${root}/proc/sys`]);
          return undo;
        };
      } else {
        const etc = path.join(dir, "etc");
        const run = path.join(dir, "run");
        const bin = path.join(dir, "bin");
        const nsDir = path.join(dir, "ns");
        for (const d of [etc, run, bin, nsDir]) {
          fs.mkdirSync(d, { recursive: true });
        }
        for (const f of fs.readdirSync("/etc/frr")) {
          if (fs.statSync(`/etc/frr/${f}`).isFile() && f !== "frr.conf") {
            fs.copyFileSync(`/etc/frr/${f}`, `${etc}/${f}`);
          }
        }
        sh("chown", ["-R", "frr:frr", etc, run]);
        fs.writeFileSync(`${bin}/systemctl`, SHIM, { mode: 0o755 });
        // A persistent mount namespace in which /etc/frr, /run/frr and the shim are the rig's.
        sh("mount", ["--bind", nsDir, nsDir]);
        sh("mount", ["--make-private", nsDir]);
        this.cleanups.push(() => void spawnSync("umount", ["-l", nsDir]));
        fs.writeFileSync(`${nsDir}/mnt`, "");
        sh("unshare", [
          `--mount=${nsDir}/mnt`,
          "--propagation",
          "private",
          "sh",
          "-c",
          'mount --bind "$1" /etc/frr && mount --bind "$2" /run/frr && mount --bind "$3" /usr/local/sbin',
          "x",
          etc,
          run,
          bin,
        ]);
        this.cleanups.push(() => void spawnSync("umount", [`${nsDir}/mnt`]));
        this.etc = etc;
        this.runDir = run;
        this.prefix = ["nsenter", `--mount=${nsDir}/mnt`, `--net=/run/netns/${ns}`, "--", ...env];
        // In the rig's own mount namespace, which goes with it.
        this.procSysReadOnly = () => {
          this.check([
            "sh",
            "-c",
            "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys",
          ]);
          return () => void this.check(["umount", "/proc/sys"]);
        };
      }
      const full = this.check(["dpkg-query", "-W", "-f=${Version}", "frr"]);
      this.version = /^(?:[0-9]+:)?([0-9.]+)/.exec(full)?.[1] ?? full;
    } catch (error) {
      this.cleanup();
      throw error;
    }
  }

  /** Runs a command inside the rig. */
  run(args: string[], input?: string): SpawnSyncReturns<string> {
    const [cmd, ...rest] = [...this.prefix, ...args];
    return spawnSync(cmd, rest, { input: input ?? "", encoding: "utf8" });
  }

  /** Runs a command inside the rig and returns its stdout; fails the test on non-zero. */
  check(args: string[], input?: string): string {
    const r = this.run(args, input);
    assert.equal(r.status, 0, `${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** Writes the package's daemons file for this version and starts FRR with frrinit.sh. */
  start(daemons: DaemonsConfig = DEFAULT_DAEMONS): void {
    fs.writeFileSync(`${this.etc}/daemons`, renderDaemons(daemons, this.version));
    fs.writeFileSync(`${this.etc}/frr.conf`, "");
    sh("chown", ["frr:frr", `${this.etc}/frr.conf`]);
    // The daemons inherit the init script's stdout: a pipe would stay open until they exit.
    this.check([
      "sh",
      "-c",
      "/usr/lib/frr/frrinit.sh start >/var/run/frr/rig-init.log 2>&1 || { cat /var/run/frr/rig-init.log; exit 1; }",
    ]);
  }

  /**
   * Applies `conf` with the package's own frr.conf script (TorCumulus `cli: "vtysh"`'s,
   * FRR on this host) and returns its result.
   */
  apply(conf: string): SpawnSyncReturns<string> {
    return this.run(["bash", "-s"], renderFrrConfApply("rig", { kind: "host" }, conf));
  }

  /** Removes the config with the package's own destroy script; returns its result. */
  remove(hostname: string): SpawnSyncReturns<string> {
    return this.run(
      ["bash", "-s"],
      renderFrrConfRemove("rig", { kind: "host" }, renderEmptyFrrConf(this.version, hostname)),
    );
  }

  /**
   * Replaces frr-reload.py (trixie rig only: its own rootfs) with a wrapper: `--reload`
   * runs the real one when `apply` is true, then exits 1 saying `message` as FRR would.
   * Returns a function that puts the real one back.
   */
  failingReload(apply: boolean, message: string): () => void {
    assert.equal(this.kind, "trixie", "only the trixie rig has a frr-reload.py of its own");
    const file = `${this.etc}/../../usr/lib/frr/frr-reload.py`;
    fs.renameSync(file, `${file}.real`);
    fs.writeFileSync(
      file,
      [
        "#!/bin/sh",
        'case " $* " in',
        `*" --reload "*) ${apply ? `python3 "$0.real" "$@" >/dev/null 2>&1;` : ""} echo ${JSON.stringify(message)}; exit 1 ;;`,
        '*) exec python3 "$0.real" "$@" ;;',
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return () => fs.renameSync(`${file}.real`, file);
  }

  /**
   * Sets the rig's network namespace's forwarding: /proc/sys/net/ipv4/ip_forward and
   * /proc/sys/net/ipv6/conf/all/forwarding, the files zebra writes (frr-10.3
   * zebra/ipforward_proc.c). Through the host's /proc, so also while the rig's is
   * read-only. A new namespace starts with both off.
   */
  setForwarding(k: KernelForwarding): void {
    const [v4, v6] = [Number(k.ipv4), Number(k.ipv6)];
    sh("ip", [
      "netns",
      "exec",
      this.ns,
      "sh",
      "-c",
      `echo ${v4} >/proc/sys/net/ipv4/ip_forward && echo ${v6} >/proc/sys/net/ipv6/conf/all/forwarding`,
    ]);
  }

  /** The namespace's forwarding, read where FRR runs. */
  kernelForwarding(): KernelForwarding {
    const [v4, v6] = this.check([
      "cat",
      "/proc/sys/net/ipv4/ip_forward",
      "/proc/sys/net/ipv6/conf/all/forwarding",
    ]).split("\n");
    return { ipv4: v4 !== "0", ipv6: v6 !== "0" };
  }

  /** What FRR lists for a rendered listing on this rig's kernel: its forwarding lines added. */
  listing(rendered: string): string {
    return withKernelForwarding(rendered, this.kernelForwarding());
  }

  /**
   * Makes /proc/sys read-only where FRR runs, as systemd-nspawn mounts it in a machine
   * without a network namespace of its own (checked with systemd 252: in such a machine
   * `/proc/sys` is mounted `ro` and `echo 0 >/proc/sys/net/ipv4/ip_forward` fails with
   * "Read-only file system"). Returns the undo; the rig's stop undoes it too.
   */
  readOnlyProcSys(): () => void {
    return this.procSysReadOnly();
  }

  /** Stops FRR (frrinit.sh), leaving the rig in place for another start. */
  stopFrr(): void {
    this.check(["sh", "-c", "/usr/lib/frr/frrinit.sh stop >/dev/null 2>&1"]);
  }

  /** `show running-config` without vtysh's framing lines. */
  running(): string {
    const lines = this.check(["vtysh", "-c", "show running-config"]).split("\n");
    const start = lines.indexOf("Current configuration:") + 2; // and the "!" after it
    const end = lines.lastIndexOf("end");
    return lines.slice(start, end).join("\n") + "\n";
  }

  /** `frr-reload.py --test` of /etc/frr/frr.conf: what a reload would still change. */
  reloadTest(file = "/etc/frr/frr.conf"): string {
    return this.check(["/usr/lib/frr/frr-reload.py", "--test", file]).trim();
  }

  /** The PIDs of the rig's daemons, by name, from their pid files. */
  daemonPids(): Record<string, number> {
    const out: Record<string, number> = {};
    const dir = this.runDir;
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (f.endsWith(".pid")) {
        out[f.slice(0, -4)] = Number(fs.readFileSync(path.join(dir, f), "utf8"));
      }
    }
    return out;
  }

  /** Stops FRR and removes everything the rig made. */
  stop(): void {
    this.run(["sh", "-c", "/usr/lib/frr/frrinit.sh stop >/dev/null 2>&1"]);
    for (const pid of Object.values(this.daemonPids())) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    this.cleanup();
  }

  private cleanup(): void {
    for (const cleanup of this.cleanups.reverse()) {
      cleanup();
    }
    this.cleanups.length = 0;
    // Never remove through a mount that is still there (the rootfs has the host's /dev).
    const mounted = fs
      .readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((line) => line.split(" ")[4] ?? "")
      .filter((target) => target === this.dir || target.startsWith(`${this.dir}/`));
    assert.deepEqual(mounted, [], `still mounted under ${this.dir}; remove it by hand`);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts a rig of `kind` with the daemons file rendered from `daemons` (root only: fails,
 * never skips, as another user).
 */
export function startRig(kind: RigKind, daemons: DaemonsConfig = DEFAULT_DAEMONS): FrrRig {
  assert.equal(
    process.getuid?.(),
    0,
    "these tests start FRR daemons in a network namespace: run them as root",
  );
  const id = `frrt-${kind.slice(0, 1)}${process.pid}`;
  const rig = new FrrRig(kind, `/var/tmp/frr-nspawn-${id}`, id);
  try {
    rig.start(daemons);
  } catch (error) {
    rig.stop();
    throw error;
  }
  return rig;
}
