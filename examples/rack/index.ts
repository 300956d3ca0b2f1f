/**
 * A rack: one image, several CoreOS hosts each announcing its own loopback, every host
 * dual-homed to the rack's top-of-rack switches (one uplink to each). Shows the
 * components composing:
 * - one FrrImage feeds every machine (a new image, too, goes in wave by wave);
 * - hosts roll out in waves (`inWaves`): a wave starts only once the wave before has
 *   applied and verified its BGP sessions, so a broken change stops after the first wave;
 * - one TorCumulus per switch lists every host-facing port.
 *
 * The lab's `rack` topology runs it (tests/lab/rack.test.ts); see README.md beside this file.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  BgpLoopback,
  Connection,
  FrrImage,
  NspawnImage,
  NspawnMachine,
  TorCli,
  TorCumulus,
  inWaves,
} from "frr-nspawn";

interface RackHost {
  /** Short name, used in resource names. */
  name: string;
  /** The address the runner reaches the host on over SSH. */
  address: string;
  /** The host's SSH host key (`ssh-ed25519 AAAA…`), pinned; none: not checked. */
  hostKey?: string;
  /** The loopback /32 the host announces. */
  loopback: string;
  asn: number;
  /** The host's interfaces cabled to the switches, one per switch. */
  uplinks: string[];
}

interface RackSwitch {
  name: string;
  address: string;
  hostKey?: string;
  loopback: string;
  asn: number;
  /** The ports the hosts are cabled to. */
  downlinks: string[];
}

const config = new pulumi.Config();
const key = config.requireSecret("privateKey");
const hosts = config.requireObject<RackHost[]>("hosts");
const switches = config.requireObject<RackSwitch[]>("switches");
/** Hosts changed at a time; each wave is verified before the next starts. */
const waveSize = config.getNumber("waveSize") ?? 1;
/** BFD on every host uplink and switch downlink (sub-second failover). */
const bfd = config.getBoolean("bfd") ?? false;
const switchCli = (config.get("switchCli") as TorCli | undefined) ?? TorCli.Nclu;
/**
 * With bfd on plain-FRR switches (switchCli vtysh): the switches let a host's FRR restart
 * through (TorCumulus bfdCheckControlPlaneFailure), so it loses no traffic.
 */
const bfdCheckControlPlaneFailure = config.getBoolean("bfdCheckControlPlaneFailure") ?? false;
const verifyTimeoutSeconds = config.getNumber("verifyTimeoutSeconds");

function connection(address: string, user: string, hostKey?: string): Connection {
  return { host: address, user, privateKey: key, hostKey, sudo: true };
}

/** Build the image here, or deploy a tarball built elsewhere (imagePath, imageSha256). */
function chooseImage(): NspawnImage {
  const path = config.get("imagePath");
  if (path !== undefined) {
    return { path, sha256: config.require("imageSha256") };
  }
  const frrImage = new FrrImage("frr-image", {
    suite: config.get("suite") ?? "bookworm",
    workDir: config.get("imageWorkDir"),
    // Pulumi usually runs unprivileged; set imageLocalSudo=false when it runs as root.
    localSudo: config.getBoolean("imageLocalSudo") ?? true,
  });
  return { frrImage };
}
const image = chooseImage();

// The switches do not wait for the hosts: a host's verify step needs its switches'
// downlinks configured. The switches' own verify is off because their downlinks come up
// wave by wave; each host's verify checks its sessions to every switch instead.
const tors = switches.map(
  (s) =>
    new TorCumulus(s.name, {
      connection: connection(s.address, "cumulus", s.hostKey),
      asn: s.asn,
      loopback: s.loopback,
      downlinks: s.downlinks.map((port) => ({ port })),
      cli: switchCli,
      bfd,
      bfdCheckControlPlaneFailure,
      verify: false,
    }),
);

// Each wave's machines and BGP wait for the wave before: its BgpLoopbacks, whose last
// step verifies that every uplink session is Established and the loopback advertised.
const bgp = inWaves<RackHost, BgpLoopback>(hosts, waveSize, (h, dependsOn) => {
  const conn = connection(h.address, "core", h.hostKey);
  const machine = new NspawnMachine(`${h.name}-frr`, { connection: conn, image }, { dependsOn });
  return new BgpLoopback(
    `${h.name}-bgp`,
    {
      connection: conn,
      machine,
      loopback: h.loopback,
      asn: h.asn,
      interfaces: h.uplinks,
      bfd,
      verifyTimeoutSeconds,
    },
    { dependsOn },
  );
});

/** Each host's uplink sessions as its verify step saw them at the end of the run. */
export const hostSessions = Object.fromEntries(hosts.map((h, i) => [h.name, bgp[i].sessions]));
export const switchCommands = Object.fromEntries(
  switches.map((s, i) => [s.name, tors[i].commands]),
);
