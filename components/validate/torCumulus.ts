/** TorCumulus's inputs, resolved, checked and normalised in one pass. */
import { TorCli, enumValues } from "../enums";
import { SwitchConfig, SwitchDownlink } from "../render/switch/model";
import { asn, raTiming, verifyOptions } from "./bgp";
import { Check, bool, knownKeys, list, oneOf, optional } from "./common";
import {
  cumulusPort,
  interfaceName,
  ipv4Prefix,
  loopback,
  networksBesideLoopback,
  routerId,
} from "./net";
import { oneLine } from "./names";
import { Problems, show } from "./problems";

/** The seed's router-advertisement timing on downlinks. */
export const DEFAULT_RA_INTERVAL = 5;
export const DEFAULT_RA_LIFETIME = 15;

export const TOR_CLIS = enumValues(TorCli);
export { TorCli };

/** TorCumulus's inputs once every Output has resolved. */
export interface TorCumulusValues {
  asn: unknown;
  loopback: unknown;
  routerId?: unknown;
  downlinks: unknown;
  networks?: unknown;
  cli?: unknown;
  commitDescription?: unknown;
  cumulusVersion?: unknown;
  bfd?: unknown;
  bfdCheckControlPlaneFailure?: unknown;
  verify?: unknown;
  verifyTimeoutSeconds?: unknown;
}

/** Everything TorCumulus renders from. */
export interface TorCumulusConfig extends SwitchConfig {
  cli: TorCli;
  /** How long the verify step waits for the downlinks' sessions. */
  verifyTimeoutSeconds: number;
}

function downlink(port: Check<string>): Check<SwitchDownlink> {
  return (value, path, problems) => {
    if (typeof value === "string") {
      problems.add(path, `${show(value)} is a port name; write { port: ${show(value)} }`);
      return undefined;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problems.add(path, `${show(value)} is not { port, raInterval?, raLifetime? }`);
      return undefined;
    }
    const d = value as Record<string, unknown>;
    knownKeys(d, ["port", "raInterval", "raLifetime"], path, problems);
    const p = port(d.port, `${path}.port`, problems);
    const ra = raTiming(
      // Only an absent value defaults: null is refused like any other bad value.
      d.raInterval === undefined ? DEFAULT_RA_INTERVAL : d.raInterval,
      d.raLifetime === undefined ? DEFAULT_RA_LIFETIME : d.raLifetime,
      path,
      problems,
    );
    return p === undefined || ra === undefined
      ? undefined
      : { port: p, raInterval: ra.interval, raLifetime: ra.lifetime };
  };
}

/** Ports are compared by name only: the same port twice with other timings is still a repeat. */
function uniquePorts(downlinks: SwitchDownlink[], problems: Problems): void {
  const seen = new Map<string, number>();
  downlinks.forEach((d, i) => {
    const first = seen.get(d.port);
    if (first !== undefined) {
      problems.add(`downlinks[${i}]`, `port ${show(d.port)} repeats downlinks[${first}]`);
    }
    seen.set(d.port, i);
  });
}

/**
 * A Cumulus Linux 5.x release from 5.1, `"5.9"`, `"5.15"` or `"5.15.1"`: it picks the NVUE
 * syntax. 5.0 has NVUE but not the router-advertisement commands (nvue-reference
 * Neighbor-Discovery.md: "Introduced in Cumulus Linux 5.1.0").
 */
export function cumulusVersion(
  value: unknown,
  path: string,
  problems: Problems,
): string | undefined {
  if (
    typeof value !== "string" ||
    !/^5\.[0-9]{1,2}(\.[0-9]{1,3})?$/.test(value) ||
    value.split(".")[1] === "0"
  ) {
    problems.add(
      path,
      `${show(value)} is not a Cumulus Linux release from 5.1 on; write it like "5.9" or "5.15" (NVUE's router-advertisement commands exist from 5.1; 5.15 renamed commands)`,
    );
    return undefined;
  }
  return value;
}

export function validateTorCumulus(
  subject: string,
  v: TorCumulusValues,
  defaultDescription: string,
  id: string,
  secrets: ReadonlySet<string> = new Set(),
): TorCumulusConfig {
  const problems = new Problems(secrets);
  const cli = optional(v.cli, "nclu" as TorCli, "cli", problems, oneOf(TOR_CLIS));
  const as = asn(v.asn, "asn", problems);
  const lo = loopback(v.loopback, "loopback", problems);
  const rid = routerId(v.routerId, lo, "routerId", problems);
  const port = cli === "vtysh" ? interfaceName : cumulusPort;
  const downlinks = list(v.downlinks, "downlinks", problems, downlink(port), { min: 1 });
  if (downlinks !== undefined) {
    uniquePorts(downlinks, problems);
    if (cli === "vtysh") {
      // FRR 8.4's zebra refuses `ipv6 nd ra-interval` on a port whose lifetime is 0
      // ("would conflict with configured ra-lifetime").
      downlinks.forEach((d, i) => {
        if (d.raLifetime === 0) {
          problems.add(
            `downlinks[${i}].raLifetime`,
            `0 is refused by FRR with an ra-interval set; with cli "vtysh" use a value >= ${d.raInterval}`,
          );
        }
      });
    }
  }
  const networks = optional(v.networks, [] as string[], "networks", problems, (x, p, pr) =>
    list(x, p, pr, ipv4Prefix),
  );
  networksBesideLoopback(networks, lo, "networks", problems);
  const description = optional(
    v.commitDescription,
    defaultDescription,
    "commitDescription",
    problems,
    oneLine,
  );
  const bfd = optional(v.bfd, false, "bfd", problems, bool);
  const cbit = optional(
    v.bfdCheckControlPlaneFailure,
    false,
    "bfdCheckControlPlaneFailure",
    problems,
    bool,
  );
  if (cbit === true) {
    if (bfd !== true) {
      problems.add("bfdCheckControlPlaneFailure", "only applies with bfd: true");
    }
    if (cli !== undefined && cli !== "vtysh") {
      problems.add(
        "bfdCheckControlPlaneFailure",
        `needs cli "vtysh": Cumulus documents no ${show(cli)} command for FRR's "neighbor … bfd check-control-plane-failure"`,
      );
    }
  }
  const verifyTimeout = verifyOptions(v, problems);
  let version = "";
  if (cli === "nvue") {
    if (v.cumulusVersion === undefined) {
      problems.add(
        "cumulusVersion",
        'is required with cli "nvue": the switch\'s Cumulus Linux release, like "5.9" or "5.15" (5.15 renamed NVUE commands)',
      );
    } else {
      version = cumulusVersion(v.cumulusVersion, "cumulusVersion", problems) ?? "";
    }
  } else if (v.cumulusVersion !== undefined && cli !== undefined) {
    problems.add("cumulusVersion", `only applies to cli "nvue", not ${show(cli)}`);
  }
  problems.throwIfAny(subject);
  return {
    id,
    cli: cli!,
    asn: as!,
    loopback: lo!,
    routerId: rid!,
    downlinks: downlinks!,
    networks: networks!,
    description: description!,
    cumulusVersion: version,
    bfd: bfd!,
    bfdCheckControlPlaneFailure: cbit!,
    verifyTimeoutSeconds: verifyTimeout!,
  };
}
