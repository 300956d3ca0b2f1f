/**
 * /etc/frr/daemons: the shell-sourced file that tells FRR's init script which daemons
 * to run and with what options. zebra, staticd and watchfrr always run (mgmtd too from
 * FRR 9.0); we switch on bgpd only. Every daemon that runs gets its VTY bound to
 * 127.0.0.1: the FRR machine shares the host's network namespace, and a VTY without
 * `-A` listens on every address of the host.
 *
 * Options for hitless restarts and fast failover (domain-notes, "Hitless restarts"):
 * bfdd (`bfdd=yes`) for `neighbor … bfd`; zebra's `-r` (`--retain`: leave the routes it
 * installed in the kernel when it exits) and `-KN` (`--graceful_restart=N`: at start,
 * keep the kernel's routes of a previous run and sweep those not reclaimed after N s).
 *
 * The seconds are attached to `-K`, never a separate word: from FRR 10.2 `-K` is a
 * libfrr option whose argument is optional (frr-10.3 lib/libfrr.c: longopts
 * `{ "graceful_restart", optional_argument, NULL, 'K' }`, optstring `"hvdM:F:N:o:K::"`,
 * added by frr_preinit() before zebra's own `"rK:"` in zebra/main.c main()), and getopt
 * gives an optional argument only when attached: `-K 120` is `-K` without a time, the
 * `120` is left over unread, and zebra_main_router_started() (zebra/main.c) then arms
 * rib_sweep_route for ZEBRA_GR_DEFAULT_RIB_SWEEP_TIME, 500 s (zebra/zebra_router.h).
 * On 8.4 `-K` is zebra's own with a required argument (frr-8.4.4 zebra/main.c:
 * `"baz:e:rK:s:"`, `graceful_restart = atoi(optarg)`), which takes `-K120` too. Measured
 * in tests/frr/retain.test.ts: zebra's rib_sweep_route timer (`show thread timers` on
 * 8.4, `show event timers` on 10.3) starts at 120 s with `-K120` on both lines; with
 * `-K 120` at 120 s on 8.4.4 and at 500 s on 10.3.
 */
import { frrProfile, vtyDaemons } from "./frrProfile";

/** Options for the daemons file; option strings are validated by the caller. */
export interface DaemonsConfig {
  /** zebra's options; the seed's: VTY on localhost only, 90 MB netlink receive buffer. */
  zebraOptions: string;
  /** bgpd's options; the seed's: VTY on localhost only. */
  bgpdOptions: string;
  /**
   * Run bfdd (`bfdd=yes`, its VTY on 127.0.0.1 too).
   * @default false
   */
  bfd?: boolean;
  /**
   * Keep zebra's kernel routes across an FRR restart: appends `-r -K<seconds>` to
   * zebra's options, the seconds being how long the previous run's routes stay after a
   * start before zebra sweeps those bgpd has not installed again.
   * @default undefined (zebra removes its routes when it exits)
   */
  retainRoutesSeconds?: number;
}

/**
 * How long a restarted zebra keeps the previous run's routes before sweeping those not
 * reclaimed: bgpd's graceful-restart restart-time (120 s), by which every session that
 * is coming back is back.
 */
export const RETAIN_ROUTES_SECONDS = 120;

/** The seed's daemon options. */
export const DEFAULT_DAEMONS: DaemonsConfig = {
  zebraOptions: " -A 127.0.0.1 -s 90000000",
  bgpdOptions: " -A 127.0.0.1",
};

/** The options of the daemons the package does not configure (staticd, mgmtd). */
export const LOCAL_VTY_OPTIONS = " -A 127.0.0.1";

/** Characters allowed in a daemon option string (it is sourced by sh inside `"…"`). */
export const DAEMON_OPTIONS_PATTERN = /^[A-Za-z0-9 ._=/:,-]*$/;

/**
 * The daemons file for FRR `frrVersion`: bgpd on (and bfdd with `bfd`), and an
 * `<daemon>_options` line for every daemon of that release line that runs (zebra and
 * bgpd with the given options, zebra's with `-r -KN` appended for
 * `retainRoutesSeconds`, the others with `-A 127.0.0.1`).
 */
export function renderDaemons(c: DaemonsConfig, frrVersion: string): string {
  const retain = c.retainRoutesSeconds === undefined ? "" : ` -r -K${c.retainRoutesSeconds}`;
  const given: Record<string, string> = {
    zebra: `${c.zebraOptions}${retain}`,
    bgpd: c.bgpdOptions,
  };
  return [
    "# FRR daemons, written by frr-nspawn. Changing this file restarts FRR.",
    "bgpd=yes",
    ...(c.bfd === true ? ["bfdd=yes"] : []),
    "vtysh_enable=yes",
    ...[...vtyDaemons(frrProfile(frrVersion)), ...(c.bfd === true ? ["bfdd"] : [])].map(
      (d) => `${d}_options="${given[d] ?? LOCAL_VTY_OPTIONS}"`,
    ),
    "",
  ].join("\n");
}

/** Where the machine's frr.service drop-in goes (relative to FRR's root). */
export const FRR_STOP_DROP_IN = "/etc/systemd/system/frr.service.d/frr-nspawn-stop.conf";

/**
 * The frr.service drop-in that stops zebra first, or undefined without graceful restart.
 * FRR's own `frrinit.sh stop` stops zebra last on 8.4 (frr-8.4.4 tools/frrcommon.sh.in
 * all_stop; reverted in 8.5, so 10.3 stops every daemon at once), and 8.4's bgpd withdraws
 * its routes from zebra as it exits (10.3's did so once in three runs), so zebra deleted
 * them from the kernel; with zebra (`-r`) gone first the kernel keeps them until the next start takes
 * them back (`-K`). Measured in tests/rack (single-homed host, 20/s ping): on 8.4.4 a
 * restart lost 167 pings without it and 0 with it (and frrConf's policy-first file);
 * 10.3 lost 0 in most runs without it but 220 once, and 0 in every run with it, so every
 * release line takes it. `frrinit.sh stop` still runs after it and stops the rest (on
 * 8.4 it says it cannot stop watchfrr and zebra, which are gone; 8.4's `daemon_stop`
 * ignores `--quiet` and calls `log_success_msg`, which this `bash -c` does not define, so
 * the journal shows "command not found" there: noise only, the stop still returns 0).
 * watchfrr goes first: it would start zebra again.
 */
export function renderFrrStopDropIn(gracefulRestart: boolean): string | undefined {
  if (!gracefulRestart) {
    return undefined;
  }
  return [
    "# Written by frr-nspawn (BgpLoopback gracefulRestart): FRR stops with",
    "# zebra first, so that the routes bgpd withdraws as it exits stay in the kernel (zebra -r)",
    "# until the next start takes them back (zebra -K).",
    "[Service]",
    "ExecStop=",
    "ExecStop=-/bin/bash -c '. /usr/lib/frr/frrcommon.sh && daemon_stop watchfrr --quiet; daemon_stop zebra --quiet'",
    "ExecStop=/usr/lib/frr/frrinit.sh stop",
    "",
  ].join("\n");
}
