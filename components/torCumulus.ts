import * as pulumi from "@pulumi/pulumi";
import { checkedConnection, Connection, gatedTarget } from "./connection";
import { renderDaemons, DEFAULT_DAEMONS } from "./render/daemons";
import { renderEmptyFrrConf, renderSwitchFrrConf } from "./render/frrConf";
import { ncluAddLines } from "./render/nclu";
import {
  renderDaemonsApply,
  renderDaemonsRemove,
  renderFrrConfApply,
  renderFrrConfRemove,
} from "./render/scripts/frrApply";
import { renderNcluApply, renderNcluRemove } from "./render/scripts/tor";
import { checkConstruction, requirePlain, resolveValidated } from "./resolve";
import { RemoteTarget, remoteStep } from "./steps";
import { TorCli } from "./enums";
import { TorCumulusConfig, validateTorCumulus } from "./validate/torCumulus";

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
  commitDescription: true,
  hostname: true,
  frrVersion: true,
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
   * How the switch is configured: `"nclu"` (`net add … / net commit`, Cumulus Linux up to
   * 4.x) or `"vtysh"` (a switch running plain FRR: frr.conf written whole, applied with
   * frr-reload.py; one TorCumulus owns that switch's frr.conf). Plain: it decides the steps.
   * @default "nclu"
   */
  cli?: TorCli;
  /**
   * `net commit description` text (nclu).
   * @default "frr-nspawn <project>/<stack> <name>"
   */
  commitDescription?: pulumi.Input<string>;
  /**
   * The `hostname` line of frr.conf (vtysh).
   * @default "tor"
   */
  hostname?: pulumi.Input<string>;
  /**
   * The `frr version` line of frr.conf (vtysh).
   * @default "8.4.4"
   */
  frrVersion?: pulumi.Input<string>;
}

/**
 * The top-of-rack side of BGP unnumbered: loopback, router advertisements on the
 * downlinks, an eBGP neighbour per downlink with `remote-as external`, the loopback
 * announced. NCLU writes are atomic (`net abort` first, commit only when something is
 * pending) and serialised on the switch by a lock, so several TorCumulus resources may
 * share one switch.
 *
 * Steps: `${name}-nclu` (nclu), or `${name}-daemons` then `${name}-frr-conf` (vtysh).
 */
export class TorCumulus extends pulumi.ComponentResource {
  /** The configuration lines applied (NCLU commands, or frr.conf for vtysh). */
  public readonly commands: pulumi.Output<string[]>;
  public readonly asn: pulumi.Output<number>;
  public readonly loopback: pulumi.Output<string>;

  constructor(name: string, args: TorCumulusArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "frr-nspawn:index:TorCumulus",
      checkConstruction("TorCumulus", name, args, TOR_CUMULUS_KEYS),
      {},
      opts,
    );
    // The cli decides which steps exist, so it must be known now.
    requirePlain(`TorCumulus "${name}"`, { cli: args.cli });
    const description = `frr-nspawn ${pulumi.getProject()}/${pulumi.getStack()} ${name}`;
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
        hostname: args.hostname,
        frrVersion: args.frrVersion,
      },
      (subject, v, secrets) => validateTorCumulus(subject, v, description, secrets),
    );
    // Every step (the vtysh daemons step too, whose script needs no input) waits for the
    // connection and the whole config to pass validation.
    const target: RemoteTarget = gatedTarget(
      checkedConnection(`TorCumulus "${name}"`, args.connection),
      config,
    );
    const stateId = `${pulumi.getProject()}-${pulumi.getStack()}-${name}`.replace(
      /[^A-Za-z0-9_.-]/g,
      "_",
    );

    if ((args.cli ?? "nclu") === "nclu") {
      remoteStep(
        this,
        `${name}-nclu`,
        target,
        config.apply((c) => ({
          create: renderNcluApply(`${name}-nclu`, stateId, c, c.commitDescription),
          delete: renderNcluRemove(`${name}-nclu`, stateId, c, `${c.commitDescription} (destroy)`),
        })),
      );
    } else {
      const host = { kind: "host" } as const;
      const daemons = remoteStep(
        this,
        `${name}-daemons`,
        target,
        config.apply((c) => ({
          create: renderDaemonsApply(
            `${name}-daemons`,
            host,
            renderDaemons(DEFAULT_DAEMONS, c.frrVersion),
          ),
          delete: renderDaemonsRemove(`${name}-daemons`, host),
        })),
      );
      remoteStep(
        this,
        `${name}-frr-conf`,
        target,
        config.apply((c) => ({
          create: renderFrrConfApply(`${name}-frr-conf`, host, renderSwitchFrrConf(c)),
          delete: renderFrrConfRemove(
            `${name}-frr-conf`,
            host,
            renderEmptyFrrConf(c.frrVersion, c.hostname, true),
          ),
        })),
        { dependsOn: [daemons] },
      );
    }

    this.commands = config.apply((c: TorCumulusConfig) =>
      c.cli === "nclu" ? ncluAddLines(c) : renderSwitchFrrConf(c).trimEnd().split("\n"),
    );
    this.asn = config.apply((c) => c.asn);
    this.loopback = config.apply((c) => c.loopback);
    this.registerOutputs({ commands: this.commands, asn: this.asn, loopback: this.loopback });
  }
}
