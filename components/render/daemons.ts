/**
 * /etc/frr/daemons: the shell-sourced file that tells FRR's init script which daemons
 * to run and with what options. zebra, staticd and watchfrr always run (mgmtd too from
 * FRR 9.0); we switch on bgpd only. Every daemon that runs gets its VTY bound to
 * 127.0.0.1: the FRR machine shares the host's network namespace, and a VTY without
 * `-A` listens on every address of the host.
 */
import { frrProfile, vtyDaemons } from "./frrProfile";

/** Options for the daemons file; option strings are validated by the caller. */
export interface DaemonsConfig {
  /** zebra's options; the seed's: VTY on localhost only, 90 MB netlink receive buffer. */
  zebraOptions: string;
  /** bgpd's options; the seed's: VTY on localhost only. */
  bgpdOptions: string;
}

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
 * The daemons file for FRR `frrVersion`: bgpd on, and an `<daemon>_options` line for
 * every daemon of that release line that runs (zebra and bgpd with the given options,
 * the others with `-A 127.0.0.1`).
 */
export function renderDaemons(c: DaemonsConfig, frrVersion: string): string {
  const given: Record<string, string> = { zebra: c.zebraOptions, bgpd: c.bgpdOptions };
  return [
    "# FRR daemons, written by frr-nspawn. Changing this file restarts FRR.",
    "bgpd=yes",
    "vtysh_enable=yes",
    ...vtyDaemons(frrProfile(frrVersion)).map(
      (d) => `${d}_options="${given[d] ?? LOCAL_VTY_OPTIONS}"`,
    ),
    "",
  ].join("\n");
}
