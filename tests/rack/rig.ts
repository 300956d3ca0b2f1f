/**
 * A rack of real FRR daemons, one network namespace per box, no nspawn: this machine's
 * FRR (Debian bookworm's 8.4), or another release's from an extracted rootfs (trixie's
 * 10.3, tests/frr/rootfs.sh) run by chroot, its daemons booted by `vtysh -b` as
 * frrinit.sh does from 9.0. Two TORs (t1, t2, both AS 65000, plain-FRR switch render)
 * and hosts rendered by the package (frr.conf and the daemons file):
 *
 *   h1 ens3 - t1 swp1    h1 ens4 - t2 swp1     (dual-homed)
 *   h2 ens3 - t1 swp2    h2 ens4 - t2 swp2     (dual-homed)
 *   h3 ens3 - t1 swp3                          (single-homed)
 *
 * Each box's daemons run in an FRR path space of its own (`-N <ns>`: /etc/frr/<ns>,
 * /var/run/frr/<ns>), started with the options of the rendered daemons file, so a
 * restart here is what `systemctl restart frr` does in the machine: every daemon stops
 * (in frrinit.sh's order, the reverse of the start), then starts again. Needs root.
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";

import {
  DEFAULT_DAEMONS,
  RETAIN_ROUTES_SECONDS,
  renderDaemons,
  renderFrrStopDropIn,
} from "../../components/render/daemons";
import { renderHostFrrConf, renderSwitchFrrConf } from "../../components/render/frrConf";
import { frrProfile } from "../../components/render/frrProfile";

/** FRR's own start order (frrcommon.sh's daemon_list); stop is the reverse. */
const START_ORDER = ["mgmtd", "zebra", "bgpd", "staticd", "bfdd"];

export interface RackOptions {
  /** BgpLoopback's and the TORs' `bfd`. */
  bfd: boolean;
  /** The TORs' `bfdCheckControlPlaneFailure` (TorCumulus, plain FRR). */
  bfdCheckControlPlaneFailure?: boolean;
  /** BgpLoopback's `gracefulRestart` on every host. */
  gracefulRestart: boolean;
}

export interface Box {
  ns: string;
  /** The loopback address (no length). */
  lo: string;
  /** `interface name → the peer box and its interface`. */
  links: Record<string, { box: string; port: string }>;
  conf: string;
  daemons: string;
  /**
   * The box's frr.service stop drop-in as BgpLoopback renders it (renderFrrStopDropIn):
   * when there is one, {@link Rack.stop} stops zebra first, as that drop-in does.
   */
  stopDropIn?: string;
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The daemons a daemons file turns on, and each one's options, as frrinit.sh reads them. */
export function daemonsOf(file: string, version: string): Record<string, string> {
  const on = new Set(frrProfile(version).alwaysRunning);
  for (const m of file.matchAll(/^([a-z]+)=yes$/gm)) {
    on.add(m[1]);
  }
  const out: Record<string, string> = {};
  for (const d of START_ORDER.filter((x) => on.has(x))) {
    const m = new RegExp(`^${d}_options="([^"]*)"$`, "m").exec(file);
    out[d] = m?.[1] ?? "";
  }
  return out;
}

export class Rack {
  readonly boxes: Record<string, Box> = {};
  private readonly id = `rk${process.pid % 100000}`;

  /**
   * @param root where FRR lives: "" for this machine's, or an extracted rootfs
   * (tests/frr/rootfs.sh) whose FRR runs by chroot
   * @param version that FRR's version
   */
  constructor(
    readonly opts: RackOptions,
    readonly root = "",
    readonly version = "8.4.4",
  ) {
    const FRR_VERSION = version;
    const host = (name: string, n: number, interfaces: string[]) => {
      const lo = `10.255.0.${n}`;
      const frr = {
        frrVersion: FRR_VERSION,
        hostname: name,
        asn: 65100 + n,
        routerId: lo,
        loopback: `${lo}/32`,
        interfaces,
        peerGroup: "TOR",
        networks: [],
        bfd: opts.bfd,
        gracefulRestart: opts.gracefulRestart,
      };
      // As validateBgpLoopback fills the daemons config from `bfd` and `gracefulRestart`.
      const daemons = renderDaemons(
        {
          ...DEFAULT_DAEMONS,
          bfd: opts.bfd,
          ...(opts.gracefulRestart ? { retainRoutesSeconds: RETAIN_ROUTES_SECONDS } : {}),
        },
        FRR_VERSION,
      );
      const stopDropIn = renderFrrStopDropIn(opts.gracefulRestart);
      return { lo, conf: renderHostFrrConf(frr), daemons, stopDropIn };
    };
    const tor = (name: string, n: number, ports: string[]) => {
      const lo = `10.255.1.${n}`;
      const conf = renderSwitchFrrConf({
        frrVersion: FRR_VERSION,
        hostname: name,
        asn: 65000,
        routerId: lo,
        loopback: `${lo}/32`,
        downlinks: ports.map((port) => ({ port, raInterval: 5, raLifetime: 15 })),
        networks: [],
        bfd: opts.bfd,
        bfdCheckControlPlaneFailure: opts.bfdCheckControlPlaneFailure,
      });
      // A plain-FRR switch: FRR's defaults (GR helper), bfdd when BFD is on.
      return {
        lo,
        conf,
        daemons: renderDaemons({ ...DEFAULT_DAEMONS, bfd: opts.bfd }, FRR_VERSION),
      };
    };
    const wires: [string, string, string, string][] = [
      ["h1", "ens3", "t1", "swp1"],
      ["h1", "ens4", "t2", "swp1"],
      ["h2", "ens3", "t1", "swp2"],
      ["h2", "ens4", "t2", "swp2"],
      ["h3", "ens3", "t1", "swp3"],
    ];
    const specs: Record<string, Omit<Box, "ns" | "links">> = {
      h1: host("h1", 1, ["ens3", "ens4"]),
      h2: host("h2", 2, ["ens3", "ens4"]),
      h3: host("h3", 3, ["ens3"]),
      t1: tor("t1", 1, ["swp1", "swp2", "swp3"]),
      t2: tor("t2", 2, ["swp1", "swp2"]),
    };
    for (const [name, spec] of Object.entries(specs)) {
      this.boxes[name] = { ns: `${this.id}${name}`, links: {}, ...spec };
    }
    for (const [a, ap, b, bp] of wires) {
      this.boxes[a].links[ap] = { box: b, port: bp };
      this.boxes[b].links[bp] = { box: a, port: ap };
    }
  }

  /** FRR 9.0+ (mgmtd) loads frr.conf by `vtysh -b`, as frrinit.sh does. */
  private get bootByVtysh(): boolean {
    return frrProfile(this.version).alwaysRunning.includes("mgmtd");
  }

  private etcDir(ns: string): string {
    return `${this.root}/etc/frr/${ns}`;
  }

  private runDir(ns: string): string {
    return `${this.root}/run/frr/${ns}`;
  }

  /** The command prefix that runs FRR's programs (in `ns` when given). */
  private frr(ns?: string): string[] {
    const netns = ns === undefined ? [] : ["ip", "netns", "exec", ns];
    return this.root === "" ? netns : [...netns, "chroot", this.root];
  }

  /** Creates the namespaces and links, writes each box's files and starts its daemons. */
  up(): void {
    for (const box of Object.values(this.boxes)) {
      sh("ip", ["netns", "add", box.ns]);
      sh("ip", ["-n", box.ns, "link", "set", "lo", "up"]);
      if (box.ns.endsWith("h1") || box.ns.endsWith("h2") || box.ns.endsWith("h3")) {
        // The host unit's job: the loopback on lo (the TORs' comes from their frr.conf).
        sh("ip", ["-n", box.ns, "address", "add", `${box.lo}/32`, "dev", "lo"]);
      } else {
        for (const key of ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]) {
          sh("ip", ["netns", "exec", box.ns, "sysctl", "-qw", key]);
        }
      }
      for (const dir of [this.etcDir(box.ns), this.runDir(box.ns)]) {
        fs.mkdirSync(dir, { recursive: true });
      }
      const [cmd, ...args] = [...this.frr(), "chown", "frr:frr", `/etc/frr/${box.ns}`];
      sh(cmd, [...args, `/run/frr/${box.ns}`]);
      fs.writeFileSync(`${this.etcDir(box.ns)}/vtysh.conf`, "service integrated-vtysh-config\n");
      fs.writeFileSync(`${this.etcDir(box.ns)}/frr.conf`, box.conf);
      fs.writeFileSync(`${this.etcDir(box.ns)}/daemons`, box.daemons);
    }
    for (const [name, box] of Object.entries(this.boxes)) {
      for (const [port, peer] of Object.entries(box.links)) {
        if (name < peer.box) {
          const other = this.boxes[peer.box];
          sh(
            "ip",
            ["link", "add", `${this.id}x`, "netns", box.ns, "type", "veth"].concat([
              "peer",
              "name",
              `${this.id}y`,
              "netns",
              other.ns,
            ]),
          );
          sh("ip", ["-n", box.ns, "link", "set", `${this.id}x`, "name", port, "up"]);
          sh("ip", ["-n", other.ns, "link", "set", `${this.id}y`, "name", peer.port, "up"]);
        }
      }
    }
    for (const name of Object.keys(this.boxes)) {
      this.start(name);
    }
  }

  /** Starts a box's daemons, in FRR's order, with the daemons file's options. */
  start(name: string): void {
    const box = this.boxes[name];
    for (const [d, options] of Object.entries(daemonsOf(box.daemons, this.version))) {
      const args = options.split(" ").filter((o) => o !== "");
      const [cmd, ...pre] = this.frr(box.ns);
      // A daemon keeps its inherited stdout open: no pipe to wait on.
      const r = spawnSync(
        cmd,
        [...pre, `/usr/lib/frr/${d}`, "-d", "-N", box.ns].concat(
          args,
          ["-F", "traditional"],
          // 8.x daemons read the integrated file themselves; 9.0+ get it from `vtysh -b`.
          this.bootByVtysh ? [] : ["-f", `/etc/frr/${box.ns}/frr.conf`],
        ),
        { stdio: "ignore" },
      );
      assert.equal(r.status, 0, `${name}: ${d} did not start`);
    }
    if (this.bootByVtysh) {
      const [cmd, ...pre] = this.frr(box.ns);
      const r = spawnSync(cmd, [...pre, "vtysh", "-N", box.ns, "-b"], { stdio: "ignore" });
      assert.equal(r.status, 0, `${name}: vtysh -b failed`);
    }
  }

  /**
   * Stops a box's daemons as frrinit.sh does: SIGTERM in reverse order, each awaited; with
   * the box's stop drop-in, zebra first (the drop-in's `daemon_stop zebra`).
   */
  async stop(name: string): Promise<void> {
    const box = this.boxes[name];
    const reverse = Object.keys(daemonsOf(box.daemons, this.version)).reverse();
    const zebraFirst = box.stopDropIn?.includes("daemon_stop zebra") === true;
    const order = zebraFirst ? ["zebra", ...reverse.filter((d) => d !== "zebra")] : reverse;
    for (const d of order) {
      const pid = this.pid(box.ns, d);
      if (pid === undefined) {
        continue;
      }
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        continue;
      }
      for (let i = 0; i < 200 && fs.existsSync(`/proc/${pid}`); i++) {
        await sleep(25);
      }
    }
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) a box's daemons. */
  signal(name: string, signal: "SIGSTOP" | "SIGCONT"): void {
    const box = this.boxes[name];
    for (const d of Object.keys(daemonsOf(box.daemons, this.version))) {
      const pid = this.pid(box.ns, d);
      if (pid !== undefined) {
        process.kill(pid, signal);
      }
    }
  }

  private pid(ns: string, daemon: string): number | undefined {
    try {
      return Number(fs.readFileSync(`${this.runDir(ns)}/${daemon}.pid`, "utf8"));
    } catch {
      return undefined;
    }
  }

  /** Runs a command in a box's namespace. */
  exec(name: string, args: string[]): string {
    return sh("ip", ["netns", "exec", this.boxes[name].ns, ...args]);
  }

  vtysh(name: string, command: string): string {
    const [cmd, ...pre] = this.frr(this.boxes[name].ns);
    return sh(cmd, [...pre, "vtysh", "-N", this.boxes[name].ns, "-c", command]);
  }

  /** The interfaces the kernel route from `name` to `dest`'s loopback goes out of. */
  routeDevs(name: string, dest: string): string[] {
    const out = spawnSync(
      "ip",
      ["-n", this.boxes[name].ns, "route", "show", `${this.boxes[dest].lo}/32`],
      {
        encoding: "utf8",
      },
    ).stdout;
    return [...out.matchAll(/ dev (\S+)/g)].map((m) => m[1]).sort();
  }

  /** The interface the kernel picks for the ping from `name` to `dest` (its source address). */
  pathOf(name: string, dest: string): string {
    const out = this.exec(name, [
      "ip",
      "route",
      "get",
      this.boxes[dest].lo,
      "from",
      this.boxes[name].lo,
    ]);
    const dev = / dev (\S+)/.exec(out)?.[1];
    assert.ok(dev, out);
    return dev;
  }

  /** Waits until every `[from, to, devs]` has exactly those kernel next hops. */
  async converge(expect: [string, string, string[]][], timeoutMs = 90000): Promise<number> {
    const started = Date.now();
    for (;;) {
      const pending = expect.filter(
        ([from, to, devs]) => this.routeDevs(from, to).join(",") !== [...devs].sort().join(","),
      );
      if (pending.length === 0) {
        return Date.now() - started;
      }
      if (Date.now() - started > timeoutMs) {
        assert.fail(
          `not converged after ${timeoutMs} ms: ${pending
            .map(
              ([f, t, d]) =>
                `${f}→${t} via ${this.routeDevs(f, t).join(",") || "nothing"}, want ${d.join(",")}`,
            )
            .join("; ")}\n${this.vtysh(pending[0][0], "show bgp summary")}`,
        );
      }
      await sleep(250);
    }
  }

  /**
   * Starts `count` pings at 20 per second from `from`'s loopback to `to`'s; resolves to
   * how many were lost once the stream ends.
   */
  ping(from: string, to: string, count: number): Promise<PingResult> {
    const child = spawn(
      "ip",
      ["netns", "exec", this.boxes[from].ns, "ping", "-n", "-q", "-i", "0.05", "-W", "1"].concat([
        "-c",
        String(count),
        "-I",
        this.boxes[from].lo,
        this.boxes[to].lo,
      ]),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    return new Promise((resolve, reject) => {
      child.on("close", () => {
        const m = /([0-9]+) packets transmitted, ([0-9]+) received/.exec(out);
        if (m === null) {
          reject(new Error(`ping printed no summary:\n${out}`));
          return;
        }
        const sent = Number(m[1]);
        const received = Number(m[2]);
        resolve({ sent, received, lost: sent - received, output: out });
      });
    });
  }

  /** Stops every daemon and removes the namespaces and path spaces. */
  async down(): Promise<void> {
    for (const name of Object.keys(this.boxes)) {
      try {
        this.signal(name, "SIGCONT");
      } catch {
        // not running
      }
      await this.stop(name);
    }
    for (const box of Object.values(this.boxes)) {
      spawnSync("ip", ["netns", "del", box.ns]);
      fs.rmSync(this.etcDir(box.ns), { recursive: true, force: true });
      fs.rmSync(this.runDir(box.ns), { recursive: true, force: true });
    }
  }
}

export interface PingResult {
  sent: number;
  received: number;
  lost: number;
  output: string;
}
