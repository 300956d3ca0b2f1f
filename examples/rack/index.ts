/**
 * A rack: one image, several CoreOS hosts each with its own loopback, and the one switch
 * they hang off. Shows the components composing: one FrrImage feeds every machine, and
 * one TorCumulus per switch lists every host-facing port.
 */
import * as pulumi from "@pulumi/pulumi";
import { BgpLoopback, FrrImage, NspawnMachine, TorCumulus } from "frr-nspawn";

interface RackHost {
  /** Short name, used in resource names. */
  name: string;
  address: string;
  loopback: string;
  asn: number;
  /** The switch port this host is cabled to. */
  switchPort: string;
}

const config = new pulumi.Config();
const key = config.requireSecret("privateKey");
const hosts = config.requireObject<RackHost[]>("hosts");

const image = new FrrImage("frr-image", { localSudo: config.getBoolean("imageLocalSudo") ?? true });

const machines = hosts.map((h) => {
  const connection = { host: h.address, user: "core", privateKey: key, sudo: true };
  const machine = new NspawnMachine(`${h.name}-frr`, { connection, image: { frrImage: image } });
  new BgpLoopback(`${h.name}-bgp`, { connection, machine, loopback: h.loopback, asn: h.asn });
  return machine;
});

// The switch verifies every downlink's session: it starts once the hosts' machines run.
const tor = new TorCumulus(
  "rack1-tor",
  {
    connection: { host: config.require("torHost"), user: "cumulus", privateKey: key, sudo: true },
    asn: config.getNumber("torAsn") ?? 65000,
    loopback: config.require("torLoopback"),
    downlinks: hosts.map((h) => ({ port: h.switchPort })),
  },
  { dependsOn: machines },
);

export const torCommands = tor.commands;
export const torSessions = tor.sessions;
