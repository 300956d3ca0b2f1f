/** The seed's parameters (shared/seed): host ASN 65001, loopback 2.2.2.2 on ens3, TOR 65000, 1.1.1.1 on swp1. */
import { HostFrrConfig, SwitchFrrConfig } from "../components/render/frrConf";
import { SwitchConfig } from "../components/render/switch/model";

export const SEED_HOST: HostFrrConfig = {
  frrVersion: "8.4.4",
  hostname: "frr",
  asn: 65001,
  routerId: "2.2.2.2",
  loopback: "2.2.2.2/32",
  interfaces: ["ens3"],
  peerGroup: "TOR",
  networks: [],
};

export const SEED_SWITCH: SwitchFrrConfig & SwitchConfig = {
  id: "p-s-tor",
  description: "frr-nspawn p/s tor",
  cumulusVersion: "5.9",
  bfd: false,
  bfdCheckControlPlaneFailure: false,
  frrVersion: "8.4.4",
  hostname: "tor",
  asn: 65000,
  routerId: "1.1.1.1",
  loopback: "1.1.1.1/32",
  downlinks: [{ port: "swp1", raInterval: 5, raLifetime: 15 }],
  networks: [],
};
