import * as pulumi from "@pulumi/pulumi";
import { checkedConnection, Connection, gatedTarget } from "./connection";
import { DIALECTS } from "./render/switch";
import { checkConstruction, requirePlain, resolveValidated } from "./resolve";
import { SessionState } from "./render/scripts/verify";
import { RemoteTarget, remoteStep, stepSource, verifyStep } from "./steps";
import { TorCli } from "./enums";
import { validateTorCumulus } from "./validate/torCumulus";

/** A downlink port with its own router-advertisement timing. */
export interface Downlink {
  /** The port, e.g. `"swp1"`. */
  port: pulumi.Input<string>;
  /**
   * Router-advertisement interval in seconds, 1..1800.
   * @default 5
   */
  raInterval?: pulumi.Input<number>;
  /**
   * Router lifetime in seconds, 0 or >= raInterval, at most 9000.
   * @default 15
   */
  raLifetime?: pulumi.Input<number>;
}

/** Every key of {@link TorCumulusArgs} (the compiler keeps this list complete). */
const TOR_CUMULUS_KEYS = {
  connection: true,
  asn: true,
  loopback: true,
  routerId: true,
  downlinks: true,
  networks: true,
  cli: true,
  cumulusVersion: true,
  commitDescription: true,
  bfd: true,
  bfdCheckControlPlaneFailure: true,
  verify: true,
  verifyTimeoutSeconds: true,
} as const satisfies Record<keyof TorCumulusArgs, true>;

/** Arguments of {@link TorCumulus}. */
export interface TorCumulusArgs {
  /** The switch (SSH; kept secret). Cumulus logs in as `cumulus` and needs `sudo: true`. */
  connection: pulumi.Input<Connection>;
  /**
   * The switch's AS number in asplain form: 1..4294967295, not 23456.
   * @example 65000
   */
  asn: pulumi.Input<number>;
  /**
   * The switch's loopback, announced over BGP: `"1.1.1.1"` or `"1.1.1.1/32"`.
   */
  loopback: pulumi.Input<string>;
  /**
   * BGP router-id (IPv4).
   * @default the loopback address
   */
  routerId?: pulumi.Input<string>;
  /**
   * Ports facing the hosts, each an unnumbered BGP neighbour with router advertisements.
   * @example [{ port: "swp1" }, { port: "swp2", raInterval: 10, raLifetime: 30 }]
   */
  downlinks: pulumi.Input<pulumi.Input<Downlink>[]>;
  /**
   * Extra IPv4 prefixes the switch announces.
   * @default []
   */
  networks?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * How the switch is configured: `"nclu"` (`net add/del`, `net commit`: Cumulus Linux
   * 3.7–4.x), `"nvue"` (`nv set/unset`, `nv config apply`: Cumulus Linux 5.x, give
   * `cumulusVersion`) or `"vtysh"` (a switch running plain FRR: vtysh commands, then
   * `write memory`). Each adds and removes only this resource's own lines. Plain: it
   * decides the steps.
   * @default "nclu"
   */
  cli?: TorCli;
  /**
   * The switch's Cumulus Linux release with `cli: "nvue"`, from 5.1 (the first with NVUE's
   * router-advertisement commands), e.g. `"5.9"` or `"5.15"`: 5.15 renamed `ip address` →
   * `ipv4 address`, `ip neighbor-discovery` → `ipv6 neighbor-discovery` and `enable on` →
   * `state enabled`, and attaches BFD through profiles; before 5.9 the apply has no message
   * and is followed by `nv config save` (5.9 saves on apply). Required with nvue, refused
   * with the other dialects.
   * @default none (required with `cli: "nvue"`)
   */
  cumulusVersion?: pulumi.Input<string>;
  /**
   * The commit (`net commit description`) or apply (`nv config apply -m`, from 5.9) message.
   * @default "frr-nspawn <project>/<stack> <name>"
   */
  commitDescription?: pulumi.Input<string>;
  /**
   * Fast failover: BFD on every downlink's BGP neighbour, FRR's default timers (300 ms × 3),
   * for hosts whose BgpLoopback has `bfd: true`. NCLU `net add bgp neighbor swpN bfd`; NVUE
   * `nv set vrf default router bgp neighbor swpN bfd enable on` (5.15+: the profile
   * `frr-nspawn` with those timers, set when absent and kept, and `… neighbor swpN bfd
   * profile frr-nspawn`; BFD must first be on on the switch, `nv set router bfd state
   * enabled`, which restarts its FRR and is left to the operator: the step fails before
   * staging anything otherwise); vtysh `neighbor swpN bfd`, where bfdd must be on in the switch's daemons file
   * (turned on when frr-nspawn turns bgpd on; otherwise the step fails rather than restart
   * a switch's FRR). Own lines: `false` removes them again. Plain.
   * @default false
   */
  bfd?: boolean;
  /**
   * With `bfd` on a plain-FRR switch (`cli: "vtysh"`): FRR's `neighbor swpN bfd
   * check-control-plane-failure` on every downlink, so that a host's FRR restart loses no
   * traffic with BFD on. The host's bfdd stops with its FRR; its BFD packets say that BFD
   * shares the host's control plane (C bit clear), and the switch's bgpd then ignores that
   * BFD session going down while graceful restart is negotiated, and helps the host
   * restart instead. Measured on real FRR 8.4 and 10.3 (tests/rack): 0 pings lost, against
   * 3 s (8.4) to 14 s (10.3) lost without it. The cost: a host that hangs with its link
   * up is noticed by the hold timer, not by BFD (it matters for anycast `networks`, not
   * for a host's own loopback). Cumulus documents no NCLU or NVUE command for it, so it
   * needs `cli: "vtysh"`. Own lines: `false` removes them again. Plain.
   * @default false
   */
  bfdCheckControlPlaneFailure?: boolean;
  /**
   * After each apply, wait on the switch until every downlink's BGP session is
   * Established and advertises the switch's loopback, and fail the update naming each
   * session that is not (its state and FRR's last error). The hosts must be up by then:
   * create the TorCumulus after their machines (`dependsOn`). Set it to `false` for a
   * port with no host behind it yet. Plain: it decides whether the `-verify` step exists.
   * @default true
   */
  verify?: boolean;
  /**
   * How long the verify step waits for the sessions, 5..1800 seconds.
   * @default 120
   */
  verifyTimeoutSeconds?: pulumi.Input<number>;
}

/**
 * The top-of-rack side of BGP unnumbered: router advertisements on the downlinks, an
 * unnumbered eBGP neighbour per downlink with `remote-as external`, extra networks
 * announced — this resource's own lines, removed again on destroy — and the switch-wide
 * ASN, router-id and loopback (announced), set when absent, checked when present, never
 * removed. Nothing else on the switch is touched, so several TorCumulus (say one per
 * host) share a switch with each other and with the switch's own config. Every dialect
 * writes under one switch-wide lock.
 *
 * Steps: `${name}-<cli>` (`-nclu`, `-nvue` or `-vtysh`), then `${name}-verify` (unless
 * `verify` is false): it runs `vtysh` on the switch (through sudo when the connection
 * says so) and changes nothing.
 */
export class TorCumulus extends pulumi.ComponentResource {
  /** The lines this resource adds, in the dialect's syntax (switch-wide ones first). */
  public readonly commands: pulumi.Output<string[]>;
  public readonly asn: pulumi.Output<number>;
  public readonly loopback: pulumi.Output<string>;
  /**
   * Each downlink's BGP session as the verify step last saw it (`{}` when `verify` is
   * false): its state, whether it advertises the loopback, and FRR's last error.
   */
  public readonly sessions: pulumi.Output<Record<string, SessionState>>;

  constructor(name: string, args: TorCumulusArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "frr-nspawn:index:TorCumulus",
      checkConstruction("TorCumulus", name, args, TOR_CUMULUS_KEYS),
      {},
      opts,
    );
    // The cli and verify decide which steps exist, so they must be known now.
    requirePlain(`TorCumulus "${name}"`, { cli: args.cli, verify: args.verify });
    const description = `frr-nspawn ${pulumi.getProject()}/${pulumi.getStack()} ${name}`;
    // Who this resource is on the switch: names its state file (and vtysh route-maps).
    const id = `${pulumi.getProject()}-${pulumi.getStack()}-${name}`.replace(
      /[^A-Za-z0-9_.-]/g,
      "_",
    );
    const config = resolveValidated(
      `TorCumulus "${name}"`,
      {
        asn: args.asn,
        loopback: args.loopback,
        routerId: args.routerId,
        downlinks: args.downlinks,
        networks: args.networks,
        cli: args.cli,
        commitDescription: args.commitDescription,
        cumulusVersion: args.cumulusVersion,
        bfd: args.bfd,
        bfdCheckControlPlaneFailure: args.bfdCheckControlPlaneFailure,
        verify: args.verify,
        verifyTimeoutSeconds: args.verifyTimeoutSeconds,
      },
      (subject, v, secrets) => validateTorCumulus(subject, v, description, id, secrets),
    );
    // The step waits for the connection and the whole config to pass validation.
    const target: RemoteTarget = gatedTarget(
      checkedConnection(`TorCumulus "${name}"`, args.connection),
      config,
    );
    const dialect = DIALECTS[args.cli ?? TorCli.Nclu];
    const step = `${name}-${dialect.cli}`;
    const source = stepSource(target, config);
    const configure = remoteStep(this, step, target, source, (c) => ({
      create: dialect.applyScript(step, c),
      delete: dialect.removeScript(step, c),
    }));
    const commandsOf = (c: pulumi.Unwrap<typeof config>) =>
      [...dialect.shared(c), ...dialect.owned(c).map((o) => o.add)].map((w) => w.join(" "));
    this.commands = config.apply(commandsOf);
    // The switch's own FRR (Cumulus or plain) answers vtysh where the step runs.
    this.sessions =
      args.verify === false
        ? pulumi.output<Record<string, SessionState>>({})
        : verifyStep(
            this,
            `${name}-verify`,
            target,
            source,
            (c) => ({
              frr: { kind: "host" as const },
              verify: {
                neighbors: c.downlinks.map((d) => d.port),
                advertise: [c.loopback],
                timeoutSeconds: c.verifyTimeoutSeconds,
                // A changed set of lines (ports, BFD, networks, …) verifies again.
                frrConf: commandsOf(c).join("\n"),
              },
            }),
            configure,
          );
    this.asn = config.apply((c) => c.asn);
    this.loopback = config.apply((c) => c.loopback);
    this.registerOutputs({
      commands: this.commands,
      asn: this.asn,
      loopback: this.loopback,
      sessions: this.sessions,
    });
  }
}
