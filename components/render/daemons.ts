/**
 * /etc/frr/daemons: the shell-sourced file that tells FRR's init script which daemons
 * to run and with what options. zebra, staticd and watchfrr always run (mgmtd too from
 * FRR 9.0); we switch on bgpd only.
 */

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

/** Characters allowed in a daemon option string (it is sourced by sh inside `"…"`). */
export const DAEMON_OPTIONS_PATTERN = /^[A-Za-z0-9 ._=/:,-]*$/;

export function renderDaemons(c: DaemonsConfig): string {
  return [
    "# FRR daemons, written by frr-nspawn (BgpLoopback). Changing this file restarts FRR.",
    "bgpd=yes",
    "vtysh_enable=yes",
    `zebra_options="${c.zebraOptions}"`,
    `bgpd_options="${c.bgpdOptions}"`,
    "",
  ].join("\n");
}
