import * as pulumi from "@pulumi/pulumi";
import { checkedConnection, Connection, endpointOf, gatedTarget } from "./connection";
import { NspawnMachine } from "./nspawnMachine";
import { renderDaemons, renderFrrStopDropIn } from "./render/daemons";
import { renderEmptyFrrConf, renderHostFrrConf } from "./render/frrConf";
import { HostNetworkConfig } from "./render/hostNetwork";
import {
  renderDaemonsApply,
  renderDaemonsRemove,
  renderFrrConfApply,
  renderFrrConfRemove,
} from "./render/scripts/frrApply";
import {
  renderHostUnitApply,
  renderHostUnitRemove,
  renderSysctlApply,
  renderSysctlRemove,
} from "./render/scripts/hostNet";
import { FrrTarget } from "./render/scripts/lib";
import { SessionState } from "./render/scripts/verify";
import { checkConstruction, resolveValidated } from "./resolve";
import {
  hostLibrarySteps,
  libraryStep,
  machineLibrary,
  RemoteTarget,
  remoteStep,
  stepSource,
  verifyStep,
} from "./steps";
import { validateBgpLoopback } from "./validate/bgpLoopback";
import { InputError, Problem } from "./validate/problems";

/** The NspawnMachine to follow, if any; exactly one of `machine` and `machineName`. */
function machineOf(subject: string, args: BgpLoopbackArgs): NspawnMachine | undefined {
  const problems: Problem[] = [];
  if (args.machine !== undefined && !(args.machine instanceof NspawnMachine)) {
    problems.push({
      path: "machine",
      message:
        "must be an NspawnMachine (plain, not an Output); for a machine not managed here give machineName",
    });
  }
  if ((args.machine === undefined) === (args.machineName === undefined)) {
    problems.push({
      path: "machine",
      message:
        "give exactly one of machine (an NspawnMachine) and machineName (a running machine's name)",
    });
  }
  if (problems.length > 0) {
    throw new InputError(subject, problems);
  }
  return args.machine;
}

/** Every key of {@link BgpLoopbackArgs} (the compiler keeps this list complete). */
const BGP_LOOPBACK_KEYS = {
  connection: true,
  machine: true,
  machineName: true,
  loopback: true,
  asn: true,
  routerId: true,
  interfaces: true,
  peerGroup: true,
  networks: true,
  frrVersion: true,
  hostname: true,
  zebraOptions: true,
  bgpdOptions: true,
  verify: true,
  verifyTimeoutSeconds: true,
  bfd: true,
  gracefulRestart: true,
} as const satisfies Record<keyof BgpLoopbackArgs, true>;

/** Arguments of {@link BgpLoopback}. */
export interface BgpLoopbackArgs {
  /** The CoreOS host that runs the FRR machine (SSH; kept secret). */
  connection: pulumi.Input<Connection>;
  /**
   * The FRR machine, deployed by this program: its steps run first, its image's FRR
   * version is used, and a new image applies FRR's files again. Give exactly one of
   * `machine` and `machineName`. Plain: it decides what the steps wait for.
   * @default undefined (then `machineName` is required)
   */
  machine?: NspawnMachine;
  /**
   * The name of an FRR machine already running on the host, not managed by this program.
   * Give exactly one of `machine` and `machineName`.
   * @default undefined (then `machine` is required)
   * @example "frr"
   */
  machineName?: pulumi.Input<string>;
  /**
   * The host's loopback, announced over BGP: `"10.255.0.1"` or `"10.255.0.1/32"`.
   * @example "2.2.2.2/32"
   */
  loopback: pulumi.Input<string>;
  /**
   * The host's AS number in asplain form: 1..4294967295, not 23456 (AS_TRANS). For asdot
   * `1.10`, write 65546.
   * @example 65001
   */
  asn: pulumi.Input<number>;
  /**
   * BGP router-id (IPv4).
   * @default the loopback address
   */
  routerId?: pulumi.Input<string>;
  /**
   * Uplink NICs, each an unnumbered (IPv6 link-local) BGP neighbour in the peer-group.
   * @default ["ens3"]
   */
  interfaces?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Name of the peer-group of the uplinks; the policy objects are named after it
   * (`<peerGroup>-IN`, `<peerGroup>-OUT`).
   * @default "TOR"
   */
  peerGroup?: pulumi.Input<string>;
  /**
   * Extra IPv4 prefixes to announce besides the loopback (they must be in the RIB).
   * @default []
   * @example ["10.1.0.0/24"]
   */
  networks?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The release written on frr.conf's `frr version` line (FRR picks defaults by it).
   * @default the image's FRR version when `machine` is an NspawnMachine built from an
   * FrrImage, else "8.4.4"
   */
  frrVersion?: pulumi.Input<string>;
  /**
   * The `hostname` line of frr.conf.
   * @default the machine name
   */
  hostname?: pulumi.Input<string>;
  /**
   * zebra's options in the daemons file.
   * @default " -A 127.0.0.1 -s 90000000"
   */
  zebraOptions?: pulumi.Input<string>;
  /**
   * bgpd's options in the daemons file.
   * @default " -A 127.0.0.1"
   */
  bgpdOptions?: pulumi.Input<string>;
  /**
   * After each apply, wait until every uplink's BGP session is Established and
   * advertises the loopback, and fail the update naming each session that is not (its
   * state and FRR's last error). Plain: it decides whether the `-verify` step exists.
   * @default true
   */
  verify?: boolean;
  /**
   * How long the verify step waits for the sessions, 5..1800 seconds.
   * @default 120
   */
  verifyTimeoutSeconds?: pulumi.Input<number>;
  /**
   * Fast failover: every uplink's BGP session follows a BFD session (bfdd in the daemons
   * file with its VTY on 127.0.0.1, `neighbor <peerGroup> bfd` in frr.conf; FRR's BFD
   * timers, 300 ms × 3). The TOR must run BFD on its downlinks too.
   * @default false
   */
  bfd?: boolean;
  /**
   * Hitless FRR restarts: `bgp graceful-restart` and `bgp graceful-restart
   * preserve-fw-state` (the host is a restarting speaker, the TORs, as GR helpers, keep
   * its routes while its bgpd restarts), and zebra keeps its kernel routes when it exits
   * and sweeps those not reclaimed 120 s after it starts (`-r -K120` appended to zebra's
   * options in the daemons file), its next hops inline (`no zebra nexthop kernel
   * enable`), which a restarted zebra takes back intact. The machine's frr.service
   * stops zebra first (a drop-in), so bgpd's withdrawals as it exits never reach the
   * kernel, and frr.conf defines its route-maps before `router bgp` uses them, so the
   * first update after the restart already carries the loopback (README, "Failover and
   * hitless restarts").
   * @default true
   */
  gracefulRestart?: boolean;
}

/**
 * BGP unnumbered from a CoreOS host to its top-of-rack switch, announcing the host's
 * loopback /32. On the host: IPv6 sysctls and a unit that puts the loopback on `lo`
 * (both persist across reboots). In the FRR machine: the daemons file and frr.conf,
 * checked with `vtysh --dryrun` first; frr.conf changes apply with `frr-reload.py`, so
 * BGP sessions stay up.
 *
 * Steps, in order: `${name}-sysctl`, `${name}-host-unit`, `${name}-daemons`, `${name}-frr-conf`,
 * then `${name}-verify` (unless `verify` is false).
 */
export class BgpLoopback extends pulumi.ComponentResource {
  /**
   * The rendered frr.conf. It has no forwarding lines: on the host the frr.conf step adds
   * `no ip forwarding` / `no ipv6 forwarding` where the kernel has that forwarding off,
   * so FRR never changes the host's forwarding (README, "What lands on the hosts").
   */
  public readonly frrConf: pulumi.Output<string>;
  /** The rendered /etc/frr/daemons. */
  public readonly daemons: pulumi.Output<string>;
  public readonly routerId: pulumi.Output<string>;
  /** The AS number in asplain form. */
  public readonly asn: pulumi.Output<number>;
  /** The loopback as `a.b.c.d/32`. */
  public readonly loopback: pulumi.Output<string>;
  /**
   * Each uplink's BGP session as the verify step last saw it (`{}` when `verify` is
   * false): its state, whether it advertises the loopback, and FRR's last error.
   */
  public readonly sessions: pulumi.Output<Record<string, SessionState>>;

  constructor(name: string, args: BgpLoopbackArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "frr-nspawn:index:BgpLoopback",
      checkConstruction("BgpLoopback", name, args, BGP_LOOPBACK_KEYS),
      {},
      opts,
    );
    const subject = `BgpLoopback "${name}"`;
    const machine = machineOf(subject, args);
    const config = resolveValidated(
      subject,
      {
        machineName: machine?.machineName ?? args.machineName,
        loopback: args.loopback,
        asn: args.asn,
        routerId: args.routerId,
        interfaces: args.interfaces,
        peerGroup: args.peerGroup,
        networks: args.networks,
        // Only an absent frrVersion defaults: null is refused like any other bad value.
        frrVersion: args.frrVersion !== undefined ? args.frrVersion : machine?.frrVersion,
        hostname: args.hostname,
        zebraOptions: args.zebraOptions,
        bgpdOptions: args.bgpdOptions,
        verify: args.verify,
        verifyTimeoutSeconds: args.verifyTimeoutSeconds,
        bfd: args.bfd,
        gracefulRestart: args.gracefulRestart,
      },
      validateBgpLoopback,
    );
    const connection = checkedConnection(subject, args.connection);
    const target: RemoteTarget = gatedTarget(connection, config);
    // Every remote script of this component sources the host library: the one its
    // NspawnMachine installed (on the same host, before any step here), or its own.
    const lib =
      machine === undefined
        ? hostLibrarySteps(
            this,
            name,
            "frr-nspawn:index:BgpLoopback",
            target,
            endpointOf(connection),
          )
        : machineLibrary(machine);
    const step = (part: string) => libraryStep(name, part, lib);
    // Host networking does not wait for the machine's image: its scripts are known at
    // preview even when the image is not.
    const net = stepSource(
      target,
      config.apply((c): HostNetworkConfig => ({
        machine: c.machine,
        loopback: c.frr.loopback,
        interfaces: c.frr.interfaces,
      })),
    );
    // What the steps inside the machine render from. With an NspawnMachine, the image it
    // runs is part of where FRR is: a new image is a fresh rootfs, and the daemons and
    // frr.conf steps then run again (an update).
    const inMachine = stepSource(
      target,
      pulumi.all([config, machine?.imageId]).apply(([c, imageId]) => ({
        c,
        frr: { kind: "machine", machine: c.machine, imageId } satisfies FrrTarget,
        frrConf: renderHostFrrConf(c.frr),
      })),
    );
    this.frrConf = config.apply((c) => renderHostFrrConf(c.frr));
    this.daemons = config.apply((c) => renderDaemons(c.daemons, c.frr.frrVersion));

    const sysctl = remoteStep(
      this,
      `${name}-sysctl`,
      target,
      net,
      (n) => ({
        create: renderSysctlApply(step("sysctl"), n),
        delete: renderSysctlRemove(step("sysctl"), n.machine),
      }),
      // After the library's install: this component's, or the machine (all its steps).
      { dependsOn: [lib.installed] },
    );
    const hostUnit = remoteStep(
      this,
      `${name}-host-unit`,
      target,
      net,
      (n) => ({
        create: renderHostUnitApply(step("host-unit"), n),
        delete: renderHostUnitRemove(step("host-unit"), n.machine),
      }),
      { dependsOn: [sysctl] },
    );
    const daemons = remoteStep(
      this,
      `${name}-daemons`,
      target,
      inMachine,
      ({ c, frr: t }) => ({
        create: renderDaemonsApply(
          step("daemons"),
          t,
          renderDaemons(c.daemons, c.frr.frrVersion),
          renderFrrStopDropIn(c.frr.gracefulRestart === true),
        ),
        delete: renderDaemonsRemove(step("daemons"), t),
      }),
      { dependsOn: [hostUnit] },
    );
    const frrConfStep = remoteStep(
      this,
      `${name}-frr-conf`,
      target,
      inMachine,
      ({ c, frr: t, frrConf }) => ({
        create: renderFrrConfApply(step("frr-conf"), t, frrConf),
        delete: renderFrrConfRemove(
          step("frr-conf"),
          t,
          renderEmptyFrrConf(c.frr.frrVersion, c.frr.hostname),
        ),
      }),
      { dependsOn: [daemons] },
    );
    this.sessions =
      args.verify === false
        ? pulumi.output<Record<string, SessionState>>({})
        : verifyStep(
            this,
            step("verify"),
            target,
            inMachine,
            ({ c, frr: t, frrConf }) => ({
              frr: t,
              verify: {
                neighbors: c.frr.interfaces,
                advertise: [c.frr.loopback],
                timeoutSeconds: c.verifyTimeoutSeconds,
                frrConf,
              },
            }),
            frrConfStep,
          );
    this.routerId = config.apply((c) => c.frr.routerId);
    this.asn = config.apply((c) => c.frr.asn);
    this.loopback = config.apply((c) => c.frr.loopback);
    this.registerOutputs({
      frrConf: this.frrConf,
      daemons: this.daemons,
      routerId: this.routerId,
      asn: this.asn,
      loopback: this.loopback,
      sessions: this.sessions,
    });
  }
}
