/**
 * The seed's hand procedure as one Pulumi program: build the FRR image here, deploy it
 * to one CoreOS host as an nspawn machine, announce the host's loopback over BGP
 * unnumbered, and configure the top-of-rack switch. Hosts and keys come from stack
 * config (keys as secrets); see README.md beside this file.
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
} from "frr-nspawn";

const config = new pulumi.Config();

/** The SSH connection to a host from its `<prefix>Host`, `…Port`, `…User`, … config keys. */
function connectionFromConfig(prefix: "coreos" | "tor", defaultUser: string): Connection {
  return {
    host: config.require(`${prefix}Host`),
    port: config.getNumber(`${prefix}Port`) ?? 22,
    user: config.get(`${prefix}User`) ?? defaultUser,
    privateKey: config.requireSecret(`${prefix}PrivateKey`),
    hostKey: config.get(`${prefix}HostKey`),
    sudo: config.getBoolean(`${prefix}Sudo`) ?? true,
  };
}

const host = connectionFromConfig("coreos", "core");
const tor = connectionFromConfig("tor", "cumulus");

/**
 * Build the image here, or deploy one built elsewhere: a file here (imagePath) or a URL
 * the host downloads (imageUrl), either with its imageSha256.
 */
function chooseImage(): NspawnImage {
  const url = config.get("imageUrl");
  if (url !== undefined) {
    return { url, sha256: config.require("imageSha256") };
  }
  const path = config.get("imagePath");
  if (path !== undefined) {
    return { path, sha256: config.require("imageSha256") };
  }
  const frrImage = new FrrImage("frr-image", {
    suite: config.get("suite") ?? "bookworm",
    mirror: config.get("mirror"),
    workDir: config.get("imageWorkDir"),
    // Pulumi usually runs unprivileged; set imageLocalSudo=false when it runs as root.
    localSudo: config.getBoolean("imageLocalSudo") ?? true,
  });
  return { frrImage };
}
const image = chooseImage();

const machine = new NspawnMachine("coreos-frr", {
  connection: host,
  image,
  machineName: config.get("machineName") ?? "frr",
  // "nspawn-file" (least privilege) or "unit-override" (the seed's --capability=all).
  settings:
    (config.get("machineSettings") as "nspawn-file" | "unit-override" | undefined) ?? "nspawn-file",
});

const bgp = new BgpLoopback("coreos-bgp", {
  connection: host,
  machine,
  loopback: config.get("hostLoopback") ?? "2.2.2.2/32",
  asn: config.getNumber("hostAsn") ?? 65001,
  interfaces: config.getObject<string[]>("hostInterfaces") ?? ["ens3"],
  networks: config.getObject<string[]>("hostNetworks") ?? [],
});

// The switch's last step waits for the host's BGP session (verify, on by default), so it
// starts once the host's machine runs, beside the host's own BGP steps.
const switchConfig = new TorCumulus(
  "tor",
  {
    connection: tor,
    asn: config.getNumber("torAsn") ?? 65000,
    loopback: config.get("torLoopback") ?? "1.1.1.1/32",
    downlinks: (config.getObject<string[]>("torDownlinks") ?? ["swp1"]).map((port) => ({
      port,
    })),
    cli: (config.get("torCli") as TorCli | undefined) ?? TorCli.Nclu,
    // With torCli "nvue": the switch's Cumulus Linux release, e.g. "5.9" or "5.15".
    cumulusVersion: config.get("torCumulusVersion"),
  },
  { dependsOn: [machine] },
);

export const imageId = machine.imageId;
export const imageSha256 = machine.imageSha256;
export const frrVersion = machine.frrVersion;
export const machineName = machine.machineName;
export const hostFrrConf = bgp.frrConf;
export const torCommands = switchConfig.commands;
export const torSessions = switchConfig.sessions;
