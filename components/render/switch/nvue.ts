/**
 * Cumulus Linux 5.x with NVUE (`nv set/unset`, `nv config apply`), per the
 * CumulusNetworks/docs pages cited in tests/unit/switch-docs.ts:
 * - RA is off by default and enabled per port; its interval is in **milliseconds**
 *   (70–1800000), its lifetime in seconds;
 * - 5.15 renamed `interface … ip address` → `ipv4 address`, `ip neighbor-discovery` →
 *   `ipv6 neighbor-discovery` and `… enable on` → `… state enabled` ("New and Changed
 *   NVUE Commands": RA's and a neighbour's `bfd enable on` alike); `cumulusVersion` picks
 *   the syntax;
 * - the change set is staged with `nv set`/`nv unset` and applied once with
 *   `nv config apply --assume-yes -m MESSAGE`; `nv config diff` shows what is pending;
 * - delete unsets this resource's neighbours, networks and RA settings only: never
 *   `nv unset router bgp`, `vrf default router bgp` or `interface lo` whole.
 */
import { TorCli } from "../../enums";
import { quote, warn } from "../../shell";
import { Flow, renderApply, renderRemove } from "./flow";
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

/** The syntax a release uses: 5.15 renamed three parts of the commands TorCumulus emits. */
export function nvueSyntax(cumulusVersion: string): NvueSyntax {
  return atLeast(cumulusVersion, 5, 15)
    ? { ipv4: "ipv4", nd: "ipv6", on: ["state", "enabled"] }
    : { ipv4: "ip", nd: "ip", on: ["enable", "on"] };
}

const nv = (verb: "set" | "unset", ...rest: string[]): Words => ["nv", verb, ...rest];
const BGP = ["vrf", "default", "router", "bgp"];

const flow: Flow = {
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
  ],
  listing: "nvue config show -o commands",
  asnSed: "s/^nv set router bgp autonomous-system \\([0-9][0-9]*\\)$/\\1/p",
  routerIdSed: "s/^nv set router bgp router-id \\([0-9.][0-9.]*\\)$/\\1/p",
  before: [
    "pending=$(nvue config diff)",
    'if [ -n "$(sed "/^[[:space:]]*$/d" <<<"$pending")" ]; then',
    `    ${warn("the switch has NVUE changes pending that this run did not stage; apply or detach them (nv config apply / nv config detach) and run again. nv config diff:")}`,
    '    printf "%s\\n" "$pending" >&2',
    "    exit 1",
    "fi",
  ],
  discard: "nv config detach",
  run: (words) => `nvue ${words.slice(1).map(quote).join(" ")} >/dev/null`,
  key: (words) => words.join(" "),
  commit: (message) => [
    'if [ -n "$(nvue config diff | sed "/^[[:space:]]*$/d")" ]; then',
    `    nvue config apply --assume-yes -m ${quote(message)}`,
    "fi",
    'if [ -n "$(nvue config diff | sed "/^[[:space:]]*$/d")" ]; then',
    `    ${warn("nv config apply left changes pending:")}`,
    "    nv config diff >&2",
    "    exit 1",
    "fi",
  ],
};

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
  ];
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
    // BFD per neighbour: `… neighbor swp51 bfd enable on` (cumulus-linux-59 BFD page),
    // `… bfd state enabled` from 5.15 (its "New and Changed NVUE Commands").
    ...(c.bfd
      ? c.downlinks.map((d) => leaf([...BGP, "neighbor", d.port, "bfd", s.on[0]], [s.on[1]]))
      : []),
  ];
}

export const nvue: SwitchDialect = {
  cli: TorCli.Nvue,
  describes: "switch config with NVUE",
  shared,
  owned,
  applyScript: (step, c) => renderApply(flow, step, nvue.describes, c, shared(c), owned(c)),
  removeScript: (step, c) => renderRemove(flow, step, nvue.describes, c, owned(c)),
};
