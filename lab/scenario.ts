/**
 * The seed scenario on the local lab: boots the hosts (lab/hosts.sh), applies
 * examples/seed to them with the lab driver (the engine stand-in), and reads host state
 * back over SSH. Used by `npm run lab` and by tests/lab.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..");
/** A lab topology of lab/hosts.sh: "seed" (coreos, tor) or "rack" (h1, h2, t1, t2). */
export type Topology = "seed" | "rack";

/**
 * Where a topology's hosts, keys and driver state live: `LAB_STATE` for the seed,
 * `LAB_RACK_STATE` for the rack (hosts.sh is handed it as its `LAB_STATE`).
 */
export function labStateDir(topology: Topology): string {
  return topology === "seed"
    ? (process.env.LAB_STATE ?? "/var/tmp/frr-nspawn-lab")
    : (process.env.LAB_RACK_STATE ?? "/var/tmp/frr-nspawn-lab-rack");
}
export const STATE_DIR = labStateDir("seed");
const HOSTS = path.join(REPO, "lab", "hosts.sh");
const DRIVER = path.join(REPO, "lab", "driver", "cli.ts");
/** The project name of the root Pulumi.yaml, which runs examples/seed. */
export const PROJECT = "frr-nspawn-seed";

/** A program the lab driver applies to a lab topology, and where its state is kept. */
export interface DriverTarget {
  program: string;
  project: string;
  stack: string;
  /** Where the driver's state and config files are written. */
  stateDir: string;
}

/** examples/seed on the seed topology (coreos and tor). */
export const SEED: DriverTarget = {
  program: path.join(REPO, "examples", "seed"),
  project: PROJECT,
  stack: "lab",
  stateDir: STATE_DIR,
};
/** Built images persist here between runs, so a warm lab does not rebuild. */
export const IMAGE_WORK_DIR = path.join(REPO, ".cache", "lab", "images");
const IMAGE_KEEP = path.join(REPO, ".cache", "lab", "images-kept");

/**
 * The Debian suite of the lab hosts (lab/hosts.sh reads the same variable) and of the FRR
 * image: `bookworm` (systemd 252, FRR 8.4) or `trixie` (systemd 257, FRR 10.3).
 */
export const LAB_SUITE = process.env.LAB_SUITE ?? "bookworm";

let torFrr: string | undefined;

/** The upstream FRR version installed on the tor (what its frr.conf must be rendered for). */
export function torFrrVersion(lab: LabInfo): string {
  torFrr ??= /^(?:[0-9]+:)?([0-9.]+)/.exec(
    ssh(lab, "tor", "dpkg-query -W -f='${Version}' frr"),
  )![1];
  return torFrr;
}

export const LAB = {
  coreos: { address: "10.254.1.2", loopback: "10.255.0.1", asn: 65001, nic: "ens3" },
  tor: { address: "10.254.2.2", loopback: "10.255.0.2", asn: 65000, port: "swp1" },
};

export interface LabInfo {
  sshKey: string;
  knownHosts: string;
  hosts: Record<string, { address: string; user: string; hostKey: string }>;
}

function hostsScript(args: string[], topology: Topology, capture = false): string {
  return execFileSync(HOSTS, args, {
    env: { ...process.env, LAB_TOPOLOGY: topology, LAB_STATE: labStateDir(topology) },
    encoding: "utf8",
    stdio: ["ignore", capture ? "pipe" : "ignore", "inherit"],
  });
}

/** Boots the topology's hosts (idempotent) and returns what the hosts script reports. */
export function hostsUp(topology: Topology = "seed"): LabInfo {
  hostsScript(["up"], topology);
  return info(topology);
}

export function hostsDown(topology: Topology = "seed"): void {
  hostsScript(["down"], topology);
}

export function info(topology: Topology = "seed"): LabInfo {
  return JSON.parse(hostsScript(["info"], topology, true)) as LabInfo;
}

export function rebootHost(host: string, topology: Topology = "seed"): void {
  hostsScript(["reboot", host], topology);
}

/** Freezes (every process stopped) or thaws a running lab host. */
export function freezeHost(host: string, frozen: boolean, topology: Topology = "seed"): void {
  hostsScript([frozen ? "freeze" : "thaw", host], topology);
}

/** Runs a command on a lab host as root over SSH; returns stdout, throws on failure. */
export function ssh(lab: LabInfo, host: string, command: string): string {
  const r = sshRaw(lab, host, command);
  if (r.status !== 0) {
    throw new Error(`ssh ${host} ${JSON.stringify(command)} exited ${r.status}: ${r.stderr}`);
  }
  return r.stdout;
}

/** Runs a bash script on a lab host as root (sent on stdin); returns status and output. */
export function sshScript(
  lab: LabInfo,
  host: string,
  script: string,
): { status: number | null; out: string } {
  const r = sshRaw(lab, host, "bash -s", script);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * The tor's running FRR config as lines prefixed by their contexts
 * (`router bgp 65000 / neighbor swp1 interface remote-as external`).
 */
export function torKeys(lab: LabInfo, host = "tor"): string[] {
  const out = ssh(lab, host, "vtysh -c 'show running-config'");
  const keys: string[] = [];
  let top = "";
  let af = "";
  for (const line of out.split("\n")) {
    if (/^\s*!/.test(line) || line.trim() === "" || /^(Building|Current)/.test(line)) continue;
    if (line === "exit" || line === "end") [top, af] = ["", ""];
    else if (line === " exit-address-family") af = "";
    else if (!line.startsWith(" ")) {
      [top, af] = [line, ""];
      keys.push(line);
    } else if (line.startsWith(" address-family ")) {
      af = line.slice(1);
      keys.push(`${top} / ${af}`);
    } else if (line.startsWith("  ") && af !== "") keys.push(`${top} / ${af} / ${line.slice(2)}`);
    else keys.push(`${top} / ${line.slice(1)}`);
  }
  return keys;
}

/** The tor's config of its own (lab/lib/rootfs.sh): a spine neighbour and its route-map. */
export function torOwnConfig(lab: LabInfo): string[] {
  return torKeys(lab).filter(
    (k) => k.includes("192.0.2.254") || k.startsWith("route-map SPINE-IN"),
  );
}

export function sshRaw(lab: LabInfo, host: string, command: string, input?: string) {
  return spawnSync(
    "ssh",
    [
      "-T",
      "-o",
      "BatchMode=yes",
      "-o",
      `UserKnownHostsFile=${lab.knownHosts}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "ConnectTimeout=5",
      "-i",
      lab.sshKey,
      `root@${lab.hosts[host].address}`,
      "--",
      command,
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, input },
  );
}

/** Runs `command` on a lab host as root over SSH in the background; resolves to its stdout. */
export function sshInBackground(lab: LabInfo, host: string, command: string): Promise<string> {
  const child = spawn("ssh", [
    "-T",
    "-o",
    "BatchMode=yes",
    "-o",
    `UserKnownHostsFile=${lab.knownHosts}`,
    "-i",
    lab.sshKey,
    `root@${lab.hosts[host].address}`,
    "--",
    command,
  ]);
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on("close", () => resolve(out)));
}

/** A shell command line that runs `command` inside coreos's FRR machine (by nsenter). */
export function inFrr(command: string, machine = "frr"): string {
  return `nsenter --target "$(machinectl show ${machine} --property=Leader --value)" --mount --uts --ipc --net --pid -- ${command}`;
}

/** One BGP peer as `show bgp ipv4 unicast summary json` reports it. */
export interface BgpPeer {
  state: string;
  pfxRcd?: number;
  connectionsEstablished: number;
  connectionsDropped: number;
  peerUptimeEstablishedEpoch?: number;
}

/** The BGP summary of a host's FRR: in the machine on a CoreOS host, on a TOR itself. */
export function bgpPeers(lab: LabInfo, host: string): Record<string, BgpPeer> {
  const vtysh = "vtysh -c 'show bgp ipv4 unicast summary json'";
  // A CoreOS host (user core) runs FRR in its machine; a TOR (user cumulus) runs it itself.
  const out = ssh(lab, host, lab.hosts[host].user === "core" ? inFrr(vtysh) : vtysh);
  return (JSON.parse(out) as { peers?: Record<string, BgpPeer> }).peers ?? {};
}

/** True once `host`'s peer on `iface` is Established and has received a prefix. */
export function bgpUp(lab: LabInfo, host: string, iface: string): boolean {
  try {
    const peer = bgpPeers(lab, host)[iface];
    return peer?.state === "Established" && (peer.pfxRcd ?? 0) >= 1;
  } catch {
    return false;
  }
}

/** Polls `check` once a second until it holds or `seconds` pass; returns whether it held. */
export function waitUntil(check: () => boolean, seconds: number): boolean {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

/** The stack config examples/seed reads, pointed at the lab. */
export function seedConfig(
  lab: LabInfo,
  extra: Record<string, string> = {},
): Record<string, { value: string; secret: boolean }> {
  const key = fs.readFileSync(lab.sshKey, "utf8");
  const plain: Record<string, string> = {
    coreosHost: lab.hosts.coreos.address,
    coreosUser: lab.hosts.coreos.user,
    coreosHostKey: lab.hosts.coreos.hostKey,
    torHost: lab.hosts.tor.address,
    torUser: lab.hosts.tor.user,
    torHostKey: lab.hosts.tor.hostKey,
    hostLoopback: `${LAB.coreos.loopback}/32`,
    hostAsn: String(LAB.coreos.asn),
    hostInterfaces: JSON.stringify([LAB.coreos.nic]),
    torLoopback: `${LAB.tor.loopback}/32`,
    torAsn: String(LAB.tor.asn),
    torDownlinks: JSON.stringify([LAB.tor.port]),
    imageWorkDir: IMAGE_WORK_DIR,
    suite: LAB_SUITE,
    // The lab runs as root, where sudo is neither needed nor installed.
    imageLocalSudo: "false",
    ...extra,
  };
  const config: Record<string, { value: string; secret: boolean }> = {};
  for (const [k, v] of Object.entries(plain)) {
    config[`${PROJECT}:${k}`] = { value: v, secret: false };
  }
  config[`${PROJECT}:coreosPrivateKey`] = { value: key, secret: true };
  config[`${PROJECT}:torPrivateKey`] = { value: key, secret: true };
  return config;
}

/** What one driver run did, from its LAB-DRIVER-SUMMARY line. */
export interface DriverSummary {
  operation: string;
  ok: boolean;
  ran: number;
  steps: {
    op: string;
    type: string;
    name: string;
    exitCode: number;
    durationMs: number;
    ok: boolean;
  }[];
  /** What the run planned for every resource (preview and up). */
  plan: {
    action: string;
    type: string;
    name: string;
    custom: boolean;
    /** The provider's Check of a custom resource. */
    check?: "passed" | "failed";
    /** Preview: create/update/delete as a user reads them ([secret], [unknown]). */
    scripts?: Record<string, string>;
  }[];
  /** The engine's error diagnostics (failed Check, protected resources, …). */
  diagnostics: string[];
  error?: string;
}

/** The driver's state file of a target. */
export function driverState(target: DriverTarget): string {
  return path.join(target.stateDir, "pulumi-state.json");
}
export const DRIVER_STATE = driverState(SEED);

/** What must be on coreos after destroy as it was before deploy: files, units, images, addresses, sysctls. */
export const COREOS_LISTING = [
  "machinectl list-images --no-legend 2>&1 | sort",
  "systemctl list-units --all --no-legend --plain 'frr-nspawn*' 'systemd-nspawn@*' | awk '{print $1, $3, $4}'",
  "ls -1A /etc/systemd/nspawn /etc/systemd/system /etc/systemd/system/machines.target.wants /etc/sysctl.d /var/lib/machines /var/lib/frr-nspawn 2>&1",
  "ls -1A /var/tmp | grep -v '^systemd-private-' || true",
  // The host library's copy, in the SSH user's home, is there only until -lib installs it.
  "ls -1A ~ | grep '^frr-nspawn-' || true",
  "ip -4 -o address show dev lo | awk '{print $4}'",
  "sysctl net.ipv6.conf.all.disable_ipv6 net.ipv6.conf.default.disable_ipv6 net.ipv6.conf.ens3.disable_ipv6",
].join("; echo ---; ");

/** Runs `up`, `preview` or `destroy` of a program (examples/seed) on the lab through the driver. */
export function driver(
  operation: "up" | "destroy" | "preview",
  config: Record<string, { value: string; secret: boolean }>,
  log = false,
  target: DriverTarget = SEED,
): DriverSummary {
  const configFile = path.join(target.stateDir, "pulumi-config.json");
  fs.mkdirSync(target.stateDir, { recursive: true });
  fs.writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  if (operation === "up") {
    restoreKeptImages();
  }
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      DRIVER,
      operation,
      "--program",
      target.program,
      "--state",
      driverState(target),
      "--config",
      configFile,
      "--project",
      target.project,
      "--stack",
      target.stack,
    ],
    {
      cwd: REPO,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      stdio: ["ignore", "pipe", log ? "inherit" : "pipe"],
    },
  );
  const lines = r.stdout.trimEnd().split("\n");
  if (log) {
    for (const line of lines.filter((l) => !l.startsWith("LAB-DRIVER-SUMMARY "))) {
      console.log(`  ${line}`);
    }
  }
  const last = lines.filter((l) => l.startsWith("LAB-DRIVER-SUMMARY ")).pop();
  if (last === undefined) {
    throw new Error(
      `the driver printed no summary (exit ${r.status}):\n${r.stdout}\n${r.stderr ?? ""}`,
    );
  }
  const summary = JSON.parse(last.slice("LAB-DRIVER-SUMMARY ".length)) as DriverSummary;
  if (operation === "up" && summary.ok) {
    keepImages();
  }
  return summary;
}

/** Outputs of a resource in the driver's state, by name. */
export function stateOutputs(name: string, target: DriverTarget = SEED): Record<string, unknown> {
  const state = JSON.parse(fs.readFileSync(driverState(target), "utf8")) as {
    resources: Record<string, { name: string; outputs: Record<string, unknown> }>;
  };
  const found = Object.values(state.resources).find((r) => r.name === name);
  if (found === undefined) {
    throw new Error(`no resource ${name} in ${driverState(target)}`);
  }
  return found.outputs;
}

// Destroy removes the built image (as it should); the lab keeps hard links to it so
// that the next run finds it and the build script's "already built" path is taken.
function keepImages(): void {
  if (!fs.existsSync(IMAGE_WORK_DIR)) return;
  fs.mkdirSync(IMAGE_KEEP, { recursive: true });
  for (const dir of fs.readdirSync(IMAGE_WORK_DIR)) {
    if (dir.startsWith(".")) continue;
    execFileSync("cp", ["-al", "--no-clobber", path.join(IMAGE_WORK_DIR, dir), IMAGE_KEEP]);
  }
}

function restoreKeptImages(): void {
  if (!fs.existsSync(IMAGE_KEEP)) return;
  fs.mkdirSync(IMAGE_WORK_DIR, { recursive: true });
  for (const dir of fs.readdirSync(IMAGE_KEEP)) {
    if (!fs.existsSync(path.join(IMAGE_WORK_DIR, dir))) {
      execFileSync("cp", ["-al", path.join(IMAGE_KEEP, dir), IMAGE_WORK_DIR]);
    }
  }
}
