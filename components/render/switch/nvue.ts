/**
 * Cumulus Linux 5.1 and later with NVUE (`nv set/unset`, `nv config apply`), per the
 * CumulusNetworks/docs pages cited in tests/unit/switch-docs.ts:
 * - RA is off by default and enabled per port; its interval is in **milliseconds**
 *   (70–1800000), its lifetime in seconds; its commands exist from 5.1.0 (nvue-reference
 *   Neighbor-Discovery.md: "Introduced in Cumulus Linux 5.1.0"), so 5.0 is refused;
 * - 5.15 renamed `interface … ip address` → `ipv4 address`, `ip neighbor-discovery` →
 *   `ipv6 neighbor-discovery` and RA's `enable on` → `state enabled` ("New and Changed
 *   NVUE Commands"); `cumulusVersion` picks the syntax;
 * - BFD: up to 5.14 `… neighbor swpN bfd enable on` (cumulus-linux-59 BFD page); 5.15
 *   removed it ("What's New": removed `… neighbor <neighbor-id> bfd enable`, new `nv set
 *   router bfd state`, `nv set router bfd profile <profile-name>` and `… neighbor
 *   <neighbor-id> bfd profile <profile-name>`), and its BFD page enables BFD switch-wide
 *   (`nv set router bfd state enabled`: "the FRR service will restart, affecting all
 *   configured routing protocols") and attaches a profile to each neighbour. So from 5.15
 *   an apply with `bfd` fails, before staging anything, unless BFD is on (frr-nspawn does
 *   not restart a switch's FRR that carries sessions, as with vtysh's bfdd); the profile
 *   {@link BFD_PROFILE} (FRR's default timers, written out) is set when absent and never
 *   removed, like the ASN; each neighbour's `bfd profile` line is this resource's;
 * - the change set is staged with `nv set`/`nv unset` and applied once with
 *   `nv config apply --assume-yes` (with `-m MESSAGE` from 5.9, where the NVUE CLI page
 *   documents it); up to 5.8 `nv config apply` does not save ("the configuration does not
 *   persist after a reboot", nvue-reference Config-Commands.md; auto save is on by default
 *   from 5.9), so there `nv config save` follows;
 * - `nv config show -o commands` groups interfaces (`nv set interface swp51-54 link state
 *   up`), and the ASN and router-id may be set per VRF instead of globally (cumulus-linux-59
 *   Basic-BGP-Configuration.md): the listing is read one interface per line, and
 *   `vrf default`'s ASN and router-id count as the switch's;
 * - delete unsets this resource's neighbours, networks and RA settings only: never
 *   `nv unset router bgp`, `vrf default router bgp` or `interface lo` whole.
 */
import { TorCli } from "../../enums";
import { quote, warn } from "../../shell";
import { Flow, expandInterfacesFunction, renderApply, renderRemove } from "./flow";
import {
  OwnedLine,
  SwitchConfig,
  SwitchDialect,
  Words,
  ownedNetworks,
  sharedNetworks,
} from "./model";

/** The NVUE syntax of one Cumulus Linux release. */
export interface NvueSyntax {
  /** `ip` (≤ 5.14) or `ipv4` (5.15+) before `address` on an interface. */
  ipv4: string;
  /** `ip` (≤ 5.14) or `ipv6` (5.15+) before `neighbor-discovery`. */
  nd: string;
  /** How a feature is switched on: `enable on` (≤ 5.14) or `state enabled` (5.15+). */
  on: readonly string[];
}

/** Whether `version` ("5.9", "5.15", "5.15.1") is at least major.minor. */
export function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = version.split(".").map(Number);
  return a > major || (a === major && b >= minor);
}

/** The name of the BFD profile TorCumulus sets on 5.15 and later (switch-wide, kept). */
export const BFD_PROFILE = "frr-nspawn";

/** The syntax a release uses: 5.15 renamed three parts of the commands TorCumulus emits. */
export function nvueSyntax(cumulusVersion: string): NvueSyntax {
  return atLeast(cumulusVersion, 5, 15)
    ? { ipv4: "ipv4", nd: "ipv6", on: ["state", "enabled"] }
    : { ipv4: "ip", nd: "ip", on: ["enable", "on"] };
}

const nv = (verb: "set" | "unset", ...rest: string[]): Words => ["nv", verb, ...rest];
const BGP = ["vrf", "default", "router", "bgp"];

/** The line the listing shows when BFD is on switch-wide (5.15 and later). */
const BFD_ON = "nv set router bfd state enabled";

/**
 * The flow of one release: from 5.9 the apply carries a message and saves itself. `bfdOn`:
 * BFD must already be on switch-wide (5.15+ with `bfd`, on apply only).
 */
function flowFor(cumulusVersion: string, bfdOn: boolean): Flow {
  const saves = atLeast(cumulusVersion, 5, 9);
  return {
    functions: [
      "nvue() {",
      "    local out",
      '    if ! out=$(nv "$@" 2>&1) || grep -qi "^error" <<<"$out"; then',
      '        echo "frr-nspawn: nv $* failed:" >&2',
      '        printf "%s\\n" "$out" >&2',
      "        return 1",
      "    fi",
      '    printf "%s\\n" "$out"',
      "}",
      // One interface per line; `vrf default`'s ASN and router-id also as the switch's.
      ...expandInterfacesFunction("nvue_lines", "nv set interface ", false, [
        '/^nv set vrf default router bgp (autonomous-system|router-id) / { print; sub(/^nv set vrf default router bgp /, "nv set router bgp "); print; next }',
      ]),
      "nvue_listing() {",
      "    nvue config show -o commands | nvue_lines",
      "}",
    ],
    listing: "nvue_listing",
    asnSed: "s/^nv set router bgp autonomous-system \\([0-9][0-9]*\\)$/\\1/p",
    routerIdSed: "s/^nv set router bgp router-id \\([0-9.][0-9.]*\\)$/\\1/p",
    before: [
      "pending=$(nvue config diff)",
      'if [ -n "$(sed "/^[[:space:]]*$/d" <<<"$pending")" ]; then',
      `    ${warn("the switch has NVUE changes pending that this run did not stage; apply or detach them (nv config apply / nv config detach) and run again. nv config diff:")}`,
      '    printf "%s\\n" "$pending" >&2',
      "    exit 1",
      "fi",
      ...(bfdOn
        ? [
            `if ! nvue_listing | grep -Fxq ${quote(BFD_ON)}; then`,
            `    ${warn(`bfd needs BFD on on this switch (${BFD_ON}, then nv config apply), and that restarts the switch's FRR, so frr-nspawn leaves it to you: turn it on when it suits, and run again`)}`,
            "    exit 1",
            "fi",
          ]
        : []),
    ],
    discard: "nv config detach",
    run: (words) => `nvue ${words.slice(1).map(quote).join(" ")} >/dev/null`,
    key: (words) => words.join(" "),
    commit: (message) => [
      'if [ -n "$(nvue config diff | sed "/^[[:space:]]*$/d")" ]; then',
      ...(saves
        ? [`    nvue config apply --assume-yes -m ${quote(message)}`]
        : ["    nvue config apply --assume-yes", "    nvue config save"]),
      "fi",
      'if [ -n "$(nvue config diff | sed "/^[[:space:]]*$/d")" ]; then',
      `    ${warn("nv config apply left changes pending:")}`,
      "    nv config diff >&2",
      "    exit 1",
      "fi",
    ],
  };
}

function shared(c: SwitchConfig): Words[] {
  const s = nvueSyntax(c.cumulusVersion);
  return [
    nv("set", "interface", "lo", s.ipv4, "address", c.loopback),
    ...c.downlinks.map((d) => nv("set", "interface", d.port, "link", "state", "up")),
    nv("set", "router", "bgp", "autonomous-system", String(c.asn)),
    nv("set", "router", "bgp", "router-id", c.routerId),
    ...sharedNetworks(c).map((p) =>
      nv("set", ...BGP, "address-family", "ipv4-unicast", "network", p),
    ),
    // 5.15: a profile with FRR's default timers (the 5.15 BFD page: multiplier 3, 300 ms
    // each way), set when absent and kept: other resources use it. BFD itself must be on.
    ...(c.bfd && bfdProfiles(c)
      ? [
          nv("set", "router", "bfd", "profile", BFD_PROFILE, "detect-multiplier", "3"),
          nv("set", "router", "bfd", "profile", BFD_PROFILE, "min-rx-interval", "300"),
          nv("set", "router", "bfd", "profile", BFD_PROFILE, "min-tx-interval", "300"),
        ]
      : []),
  ];
}

/** Whether a release attaches BFD to a neighbour through a profile (5.15 and later). */
function bfdProfiles(c: SwitchConfig): boolean {
  return atLeast(c.cumulusVersion, 5, 15);
}

function owned(c: SwitchConfig): OwnedLine[] {
  const s = nvueSyntax(c.cumulusVersion);
  const leaf = (path: string[], value: string[]): OwnedLine => ({
    add: nv("set", ...path, ...value),
    remove: nv("unset", ...path),
  });
  const entry = (path: string[], name: string, value: string[] = []): OwnedLine => ({
    add: nv("set", ...path, name, ...value),
    remove: nv("unset", ...path, name),
  });
  return [
    ...c.downlinks.flatMap((d) => {
      const ra = ["interface", d.port, s.nd, "neighbor-discovery", "router-advertisement"];
      return [
        leaf([...ra, s.on[0]], [s.on[1]]),
        // NVUE takes the interval in milliseconds.
        leaf([...ra, "interval"], [String(d.raInterval * 1000)]),
        leaf([...ra, "lifetime"], [String(d.raLifetime)]),
      ];
    }),
    ...ownedNetworks(c).map((p) => entry([...BGP, "address-family", "ipv4-unicast", "network"], p)),
    ...c.downlinks.map((d) => entry([...BGP, "neighbor"], d.port, ["remote-as", "external"])),
    // BFD per neighbour: `… neighbor swp51 bfd enable on` (cumulus-linux-59 BFD page);
    // from 5.15 `… neighbor swp51 bfd profile BFD1`, removed with `nv unset … bfd`.
    ...(c.bfd
      ? c.downlinks.map((d) =>
          bfdProfiles(c)
            ? leaf([...BGP, "neighbor", d.port, "bfd"], ["profile", BFD_PROFILE])
            : leaf([...BGP, "neighbor", d.port, "bfd", "enable"], ["on"]),
        )
      : []),
  ];
}

export const nvue: SwitchDialect = {
  cli: TorCli.Nvue,
  describes: "switch config with NVUE",
  shared,
  owned,
  applyScript: (step, c) =>
    renderApply(
      flowFor(c.cumulusVersion, c.bfd && bfdProfiles(c)),
      step,
      nvue.describes,
      c,
      shared(c),
      owned(c),
    ),
  removeScript: (step, c) =>
    renderRemove(flowFor(c.cumulusVersion, false), step, nvue.describes, c, owned(c)),
};
