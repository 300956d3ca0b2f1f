/** BgpLoopback's inputs, resolved, checked and normalised in one pass. */
import {
  DAEMON_OPTIONS_PATTERN,
  DEFAULT_DAEMONS,
  DaemonsConfig,
  RETAIN_ROUTES_SECONDS,
} from "../render/daemons";
import { HostFrrConfig } from "../render/frrConf";
import { asn, frrName, frrVersion, verifyOptions } from "./bgp";
import { bool, list, optional } from "./common";
import { interfaceName, ipv4Prefix, loopback, networksBesideLoopback, routerId } from "./net";
import { hostname, machineName } from "./names";
import { Problems, show } from "./problems";

/** The FRR release assumed on the `frr version` line when no image tells it. */
export const DEFAULT_FRR_VERSION = "8.4.4";

/** BgpLoopback's inputs once every Output has resolved. */
export interface BgpLoopbackValues {
  machineName: unknown;
  loopback: unknown;
  asn: unknown;
  routerId?: unknown;
  interfaces?: unknown;
  peerGroup?: unknown;
  networks?: unknown;
  frrVersion?: unknown;
  hostname?: unknown;
  zebraOptions?: unknown;
  bgpdOptions?: unknown;
  verify?: unknown;
  verifyTimeoutSeconds?: unknown;
  bfd?: unknown;
  gracefulRestart?: unknown;
}

/** Everything BgpLoopback renders from. */
export interface BgpLoopbackConfig {
  machine: string;
  frr: HostFrrConfig;
  daemons: DaemonsConfig;
  /** How long the verify step waits for the sessions. */
  verifyTimeoutSeconds: number;
}

function daemonOptions(
  value: unknown,
  fallback: string,
  path: string,
  problems: Problems,
): string | undefined {
  return optional(value, fallback, path, problems, (v, p, pr) => {
    if (typeof v !== "string" || !DAEMON_OPTIONS_PATTERN.test(v)) {
      pr.add(
        p,
        `${show(v)} is not a daemon option string; use letters, digits, spaces and . _ = / : , -`,
      );
      return undefined;
    }
    return v;
  });
}

export function validateBgpLoopback(
  subject: string,
  v: BgpLoopbackValues,
  secrets: ReadonlySet<string> = new Set(),
): BgpLoopbackConfig {
  const problems = new Problems(secrets);
  const m = machineName(v.machineName, "machineName", problems);
  const lo = loopback(v.loopback, "loopback", problems);
  const as = asn(v.asn, "asn", problems);
  const rid = routerId(v.routerId, lo, "routerId", problems);
  const interfaces = optional(v.interfaces, ["ens3"], "interfaces", problems, (x, p, pr) =>
    list(x, p, pr, interfaceName, { min: 1 }),
  );
  const peerGroup = optional(v.peerGroup, "TOR", "peerGroup", problems, frrName);
  const networks = optional(v.networks, [] as string[], "networks", problems, (x, p, pr) =>
    list(x, p, pr, ipv4Prefix),
  );
  const version = optional(v.frrVersion, DEFAULT_FRR_VERSION, "frrVersion", problems, frrVersion);
  const host = optional(v.hostname, m, "hostname", problems, hostname);
  const zebraOptions = daemonOptions(
    v.zebraOptions,
    DEFAULT_DAEMONS.zebraOptions,
    "zebraOptions",
    problems,
  );
  const bgpdOptions = daemonOptions(
    v.bgpdOptions,
    DEFAULT_DAEMONS.bgpdOptions,
    "bgpdOptions",
    problems,
  );
  const verifyTimeout = verifyOptions(v, problems);
  const bfd = optional(v.bfd, false, "bfd", problems, bool);
  const gracefulRestart = optional(v.gracefulRestart, true, "gracefulRestart", problems, bool);
  networksBesideLoopback(networks, lo, "networks", problems);
  if (interfaces !== undefined && peerGroup !== undefined && interfaces.includes(peerGroup)) {
    problems.add(
      "peerGroup",
      `${show(peerGroup)} is also an interface name; FRR would confuse the two`,
    );
  }
  problems.throwIfAny(subject);
  // Every value is defined here: throwIfAny threw otherwise.
  return {
    machine: m!,
    frr: {
      frrVersion: version!,
      hostname: host!,
      asn: as!,
      routerId: rid!,
      loopback: lo!,
      interfaces: interfaces!,
      peerGroup: peerGroup!,
      networks: networks!,
      bfd: bfd!,
      gracefulRestart: gracefulRestart!,
    },
    daemons: {
      zebraOptions: zebraOptions!,
      bgpdOptions: bgpdOptions!,
      bfd: bfd!,
      ...(gracefulRestart! ? { retainRoutesSeconds: RETAIN_ROUTES_SECONDS } : {}),
    },
    verifyTimeoutSeconds: verifyTimeout!,
  };
}
