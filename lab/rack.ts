/**
 * The rack scenario on the local lab's `rack` topology (lab/hosts.sh with
 * LAB_TOPOLOGY=rack): hosts h1 and h2, each cabled to both switches t1 (ens3 - swpN) and
 * t2 (ens4 - swpN). examples/rack is applied to it with the lab driver. Used by
 * tests/lab/rack.test.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import {
  DriverTarget,
  IMAGE_WORK_DIR,
  LAB_SUITE,
  LabInfo,
  REPO,
  bgpPeers,
  inFrr,
  labStateDir,
  ssh,
  sshInBackground,
  waitUntil,
} from "./scenario";

export const RACK_STATE_DIR = labStateDir("rack");

/** examples/rack on the rack topology. */
export const RACK: DriverTarget = {
  program: path.join(REPO, "examples", "rack"),
  project: "frr-nspawn-rack",
  stack: "lab",
  stateDir: RACK_STATE_DIR,
};

export interface RackHost {
  loopback: string;
  asn: number;
  /** Interface to t1, interface to t2. */
  uplinks: string[];
}

/** A host of the rack (as examples/rack's `hosts` config names it). */
export type RackHostName = "h1" | "h2";

/** The rack's hosts. */
export const HOSTS: Record<RackHostName, RackHost> = {
  h1: { loopback: "10.255.0.11", asn: 65011, uplinks: ["ens3", "ens4"] },
  h2: { loopback: "10.255.0.12", asn: 65012, uplinks: ["ens3", "ens4"] },
};

/** The switches, with their own config's AS and router-id (lab/lib/rootfs.sh). */
export const SWITCHES: Record<"t1" | "t2", { loopback: string; asn: number; downlinks: string[] }> =
  {
    t1: { loopback: "10.255.0.2", asn: 65000, downlinks: ["swp1", "swp2"] },
    t2: { loopback: "10.255.0.3", asn: 65000, downlinks: ["swp1", "swp2"] },
  };

/** Which switch a host's uplink goes to. */
export const UPLINK_SWITCH: Record<string, "t1" | "t2"> = { ens3: "t1", ens4: "t2" };

/** What may change between runs of examples/rack. */
export interface RackChange {
  bfd?: boolean;
  /** Every host's AS, replacing its own (the broken change of the waves test). */
  hostAsn?: number;
  /** A tarball on this machine to deploy instead of the FrrImage, and its SHA-256. */
  image?: { path: string; sha256: string };
}

/** The stack config examples/rack reads, pointed at the lab. */
export function rackConfig(
  lab: LabInfo,
  change: RackChange = {},
): Record<string, { value: string; secret: boolean }> {
  const hosts = Object.entries(HOSTS).map(([name, h]) => ({
    name,
    address: lab.hosts[name].address,
    hostKey: lab.hosts[name].hostKey,
    loopback: `${h.loopback}/32`,
    asn: change.hostAsn ?? h.asn,
    uplinks: h.uplinks,
  }));
  const switches = Object.entries(SWITCHES).map(([name, s]) => ({
    name,
    address: lab.hosts[name].address,
    hostKey: lab.hosts[name].hostKey,
    loopback: `${s.loopback}/32`,
    asn: s.asn,
    downlinks: s.downlinks,
  }));
  const plain: Record<string, string> = {
    hosts: JSON.stringify(hosts),
    switches: JSON.stringify(switches),
    waveSize: "1",
    bfd: String(change.bfd ?? false),
    verifyTimeoutSeconds: "45",
    suite: LAB_SUITE,
    imageWorkDir: IMAGE_WORK_DIR,
    // The lab runs as root, where sudo is neither needed nor installed.
    imageLocalSudo: "false",
    ...(change.image ? { imagePath: change.image.path, imageSha256: change.image.sha256 } : {}),
  };
  const config: Record<string, { value: string; secret: boolean }> = {};
  for (const [k, v] of Object.entries(plain)) {
    config[`${RACK.project}:${k}`] = { value: v, secret: false };
  }
  config[`${RACK.project}:privateKey`] = {
    value: fs.readFileSync(lab.sshKey, "utf8"),
    secret: true,
  };
  return config;
}

/**
 * True once every uplink of every host is Established and has received both prefixes a
 * switch sends a host: the switch's own loopback and the other host's.
 */
export function rackConverged(lab: LabInfo): boolean {
  try {
    return Object.entries(HOSTS).every(([name, h]) => {
      const peers = bgpPeers(lab, name);
      return h.uplinks.every(
        (u) => peers[u]?.state === "Established" && (peers[u].pfxRcd ?? 0) >= 2,
      );
    });
  } catch {
    return false;
  }
}

/** The interfaces of `host`'s kernel route to `to`'s loopback, sorted (two: ECMP). */
export function routeDevs(lab: LabInfo, host: RackHostName, to: RackHostName): string[] {
  const out = ssh(lab, host, `ip -j route show ${HOSTS[to].loopback}`);
  const routes = JSON.parse(out) as { dev?: string; nexthops?: { dev: string }[] }[];
  const devs = routes.flatMap((r) => (r.nexthops ?? [r]).map((n) => n.dev ?? ""));
  return devs.filter((d) => d !== "").sort();
}

/** The uplink `host` sends a ping to `to`'s loopback on (the kernel's ECMP choice). */
export function pathOf(lab: LabInfo, host: RackHostName, to: RackHostName): string {
  const out = ssh(lab, host, `ip -j route get ${HOSTS[to].loopback} from ${HOSTS[host].loopback}`);
  return (JSON.parse(out) as { dev: string }[])[0].dev;
}

/** `host`'s bgpd AS and how often each uplink session came up and went down. */
export function bgpIdentity(lab: LabInfo, host: RackHostName): string {
  const out = ssh(lab, host, inFrr("vtysh -c 'show bgp ipv4 unicast summary json'"));
  const s = JSON.parse(out) as {
    as: number;
    peers: Record<string, { connectionsEstablished: number; connectionsDropped: number }>;
  };
  const counts = Object.entries(s.peers).map(
    ([n, p]) => `${n} up ${p.connectionsEstablished} down ${p.connectionsDropped}`,
  );
  return `AS ${s.as}: ${counts.sort().join(", ")}`;
}

export interface PingResult {
  sent: number;
  lost: number;
  output: string;
}

/**
 * Pings `to`'s loopback from `from`'s (20 per second) while `during` runs (it starts after
 * 2 s): for `seconds` in all, or, without them, until `during` has ended, the rack has
 * converged and 3 s more have passed. Resolves to what ping counted.
 */
export async function pingDuring(
  lab: LabInfo,
  from: RackHostName,
  to: RackHostName,
  seconds: number | undefined,
  during: () => void | Promise<void>,
): Promise<PingResult> {
  const pidFile = "/run/frr-nspawn-lab-rack-ping.pid";
  const deadline = seconds === undefined ? "" : `-w ${seconds}`;
  const done = sshInBackground(
    lab,
    from,
    `ping -q -i 0.05 ${deadline} -I ${HOSTS[from].loopback} ${HOSTS[to].loopback} & echo $! > ${pidFile}; wait`,
  );
  await new Promise((resolve) => setTimeout(resolve, 2000));
  try {
    await during();
  } finally {
    if (seconds === undefined) {
      waitUntil(() => rackConverged(lab), 120);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      ssh(lab, from, `kill -INT "$(cat ${pidFile})"`);
    }
  }
  const output = await done;
  const stats = /(\d+) packets transmitted, (\d+) received/.exec(output);
  if (stats === null) {
    throw new Error(`no ping statistics from ${from}: ${output}`);
  }
  return { sent: Number(stats[1]), lost: Number(stats[1]) - Number(stats[2]), output };
}
