/**
 * What differs between FRR release lines, in one place. Renderers and scripts look the
 * profile up from the `frr version` they write (frrProfile("10.3")) instead of testing
 * versions themselves. Facts measured against Debian's real daemons (tests/frr): 8.4.4
 * (bookworm) and 10.3 (trixie); line 9 is FRR's 9.x, between the two (mgmtd appeared in
 * 9.0), and is not tested against real daemons here.
 */

/** An FRR release line this package renders for. */
export const FRR_LINES = ["8", "9", "10"] as const;
export type FrrLine = (typeof FRR_LINES)[number];

/** The differences between release lines that the renders and scripts depend on. */
export interface FrrProfile {
  line: FrrLine;
  /**
   * Daemons FRR's init script starts whatever the daemons file says (watchfrr aside):
   * zebra and staticd, and mgmtd from 9.0.
   */
  alwaysRunning: readonly string[];
  /**
   * Where `show running-config` puts `ip prefix-list` and `route-map` blocks: `"last"`
   * (8.x: after `router bgp`, route-maps in the order bgpd lists them) or `"first"`
   * (10.x: right after the header, before `interface` and `router bgp`, route-maps
   * sorted by name).
   */
  policyPosition: "first" | "last";
  /**
   * How `vtysh --dryrun -f` reports a rejected line: `"output"` (8.4 exits 0 when the
   * file's last command parses; only the `line N: %…` message tells) or `"exit-status"`
   * (10.x exits 2). The apply script checks both either way.
   */
  dryrunRejects: "output" | "exit-status";
  /**
   * What graceful restart (BgpLoopback's `gracefulRestart`) does on this line beyond
   * `bgp graceful-restart` and `preserve-fw-state`. Measured in tests/rack with a
   * single-homed host and a 20/s ping: on 8.4.4 a restart lost 167 pings without
   * `zebraFirst`, 0–66 with it while frr.conf had its policy after `router bgp`, and 0
   * with the policy first (frrConf's FrrConfForm); 10.3 lost 0 in most runs without it,
   * but once its kernel routes went while FRR was stopped (220 lost), and 0 in every run
   * with it. Line 9 is taken like 8 (not measured: the safe side). No line takes `bgp
   * graceful-restart disable-eor`: bgpd answers no route refresh before it has sent
   * End-of-RIB, so a host with it never sent its routes again to a TOR that asked
   * (tests/rack "(b)" and "(d)" failed with it).
   */
  gracefulRestart: {
    /**
     * Stop zebra before bgpd (FRR's frrinit.sh stops it last): 8.4's bgpd withdraws its
     * routes from zebra when it exits (10.3's did so once in three runs), and zebra then
     * deletes them from the kernel; with zebra (`-r`) gone first the kernel keeps them
     * until the new run takes them back (`-K`). Done by a drop-in for the machine's
     * frr.service (daemons.renderFrrStopDropIn).
     */
    zebraFirst: boolean;
  };
}

/** Graceful restart, the same on every line (see FrrProfile.gracefulRestart). */
const GRACEFUL_RESTART = { zebraFirst: true } as const;

const PROFILES: Record<FrrLine, FrrProfile> = {
  "8": {
    line: "8",
    alwaysRunning: ["zebra", "staticd"],
    policyPosition: "last",
    dryrunRejects: "output",
    gracefulRestart: GRACEFUL_RESTART,
  },
  "9": {
    line: "9",
    alwaysRunning: ["zebra", "mgmtd", "staticd"],
    policyPosition: "last",
    dryrunRejects: "output",
    gracefulRestart: GRACEFUL_RESTART,
  },
  "10": {
    line: "10",
    alwaysRunning: ["zebra", "mgmtd", "staticd"],
    policyPosition: "first",
    dryrunRejects: "exit-status",
    gracefulRestart: GRACEFUL_RESTART,
  },
};

/**
 * The release line of an `frr version` (`"8.4.4"` → `"8"`, `"10.3"` → `"10"`). Releases
 * before 8 render like 8 (the package's configs date from 7.x), releases after 10 like 10.
 */
export function frrLine(version: string): FrrLine {
  const major = Number(/^([0-9]+)/.exec(version)?.[1]);
  if (!Number.isInteger(major)) {
    throw new Error(`"${version}" is not an FRR version like "8.4.4" or "10.3"`);
  }
  if (major <= 8) {
    return "8";
  }
  return major === 9 ? "9" : "10";
}

/** The profile of the release line `version` belongs to. */
export function frrProfile(version: string): FrrProfile {
  return PROFILES[frrLine(version)];
}

/**
 * The daemons whose VTY the daemons file binds to 127.0.0.1: every daemon that runs
 * (bgpd and the always-running ones). Without `-A` a daemon's VTY listens on every
 * address of the namespace, which for the FRR machine is the host's own network.
 */
export function vtyDaemons(profile: FrrProfile): string[] {
  return [...profile.alwaysRunning, "bgpd"];
}
