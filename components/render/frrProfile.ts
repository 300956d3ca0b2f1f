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
}

const PROFILES: Record<FrrLine, FrrProfile> = {
  "8": {
    line: "8",
    alwaysRunning: ["zebra", "staticd"],
    policyPosition: "last",
    dryrunRejects: "output",
  },
  "9": {
    line: "9",
    alwaysRunning: ["zebra", "mgmtd", "staticd"],
    policyPosition: "last",
    dryrunRejects: "output",
  },
  "10": {
    line: "10",
    alwaysRunning: ["zebra", "mgmtd", "staticd"],
    policyPosition: "first",
    dryrunRejects: "exit-status",
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
