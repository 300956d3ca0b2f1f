/**
 * Cumulus Linux 3.7–4.x with NCLU (`net add/del …`, `net pending`, `net commit`), per the
 * CumulusNetworks/docs pages cited in tests/unit/switch-docs.ts. What the docs and
 * Ansible's community.network nclu module say, and this flow follows:
 * - data-plane ports are disabled by default; `net add interface swpN` brings one up;
 * - `net pending` always prints a section listing the `net` commands since the last
 *   commit; only what comes before it (the file diff) says whether anything changes
 *   (Ansible's check_pending cuts it off the same way);
 * - a commit with nothing to change prints "commit ignored" (Ansible: unchanged, abort);
 * - `net` can exit 0 while printing `ERROR:`; so every call is checked for it, and after
 *   the commit `net show configuration commands` must list every expected line. That
 *   listing groups ports (`net add interface swp1-4 mtu 9202`) and prints an unnumbered
 *   neighbour as frr.conf has it (`net add bgp neighbor swp1 interface v6only remote-as
 *   external`; cumulus-linux-42 EVPN-Multihoming.md), so it is read one port per line
 *   and with the neighbour also in the form this dialect adds it;
 * - RA needs no line of its own: "IPv6 route advertisements (RAs) are automatically
 *   enabled on an interface with IPv6 addresses; the `no ipv6 nd suppress-ra` command is
 *   not needed for BGP unnumbered" (cumulus-linux-37 Border-Gateway-Protocol-BGP.md), so
 *   only the RA interval and lifetime are set, and destroy never suppresses RA;
 * - `net del bgp autonomous-system N` removes the whole `router bgp`: never emitted.
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

const net = (verb: "add" | "del", ...rest: string[]): Words => ["net", verb, ...rest];

/** The header `net pending` prints before the list of staged commands. */
export const NCLU_PENDING_SECTION = "net add/del commands since the last";

const flow: Flow = {
  functions: [
    // `net` can exit 0 and print ERROR: both count as failures.
    "nclu() {",
    "    local out",
    '    if ! out=$(net "$@" 2>&1) || grep -q "ERROR" <<<"$out"; then',
    '        echo "frr-nspawn: net $* failed:" >&2',
    '        printf "%s\\n" "$out" >&2',
    "        return 1",
    "    fi",
    '    printf "%s\\n" "$out"',
    "}",
    // Ansible's check_pending: the part of `net pending` before the command list, colour
    // codes and blank lines dropped. Empty = nothing would change.
    "pending_changes() {",
    "    local out",
    "    out=$(nclu pending)",
    `    out=\${out%%${quote(NCLU_PENDING_SECTION)}*}`,
    "    sed -e 's/\\x1b\\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' <<<\"$out\"",
    "}",
    // The rows of the command list (after its dashed rule): staged commands, changing or not.
    // The listing one port per line; an unnumbered neighbour also as `net add bgp neighbor
    // swpN remote-as external`, the form this dialect adds and removes.
    ...expandInterfacesFunction("nclu_lines", "net add interface ", true, [
      '/^net add bgp neighbor [^ ]+ interface (v6only )?remote-as / { print; sub(/ interface (v6only )?remote-as /, " remote-as "); print; next }',
    ]),
    "nclu_listing() {",
    "    nclu show configuration commands | nclu_lines",
    "}",
    "pending_commands() {",
    "    nclu pending | awk '/^-+ +-+/ { rows = 1; next } rows && NF { print }'",
    "}",
  ],
  listing: "nclu_listing",
  asnSed: "s/^net add bgp autonomous-system \\([0-9][0-9]*\\)$/\\1/p",
  routerIdSed: "s/^net add bgp router-id \\([0-9.][0-9.]*\\)$/\\1/p",
  before: [
    'if [ -n "$(pending_changes)" ] || [ -n "$(pending_commands)" ]; then',
    `    ${warn("the switch has NCLU changes pending that this run did not stage; commit or abort them (net commit / net abort) and run again. net pending:")}`,
    "    net pending >&2",
    "    exit 1",
    "fi",
  ],
  discard: "net abort",
  run: (words) => `nclu ${words.slice(1).map(quote).join(" ")} >/dev/null`,
  key: (words) => words.join(" "),
  // Before 0396099 this dialect owned `net del interface swpN ipv6 nd suppress-ra` (RA on); its
  // removal would now suppress RA, which Cumulus turns on by itself: let it go as it is.
  disowned: ["'net del interface '*' ipv6 nd suppress-ra'"],
  commit: (message) => [
    'if [ -n "$(pending_changes)" ]; then',
    `    out=$(nclu commit description ${quote(message)})`,
    '    printf "%s\\n" "$out"',
    '    if grep -q "commit ignored" <<<"$out"; then',
    // Ansible's nclu module: unchanged, and the buffer is cleared.
    "        nclu abort >/dev/null",
    "    fi",
    'elif [ "$staged" = 1 ]; then',
    // Only lines that were already there were staged: nothing to commit, clear them.
    "    nclu abort >/dev/null",
    "fi",
  ],
};

/** Switch-wide lines: loopback, the ports up, ASN, router-id, the loopback announced. */
function shared(c: SwitchConfig): Words[] {
  return [
    net("add", "loopback", "lo", "ip", "address", c.loopback),
    ...c.downlinks.map((d) => net("add", "interface", d.port)),
    net("add", "bgp", "autonomous-system", String(c.asn)),
    net("add", "bgp", "router-id", c.routerId),
    ...sharedNetworks(c).map((p) => net("add", "bgp", "ipv4", "unicast", "network", p)),
  ];
}

/** This resource's lines: RA timing per port (removed lifetime first), networks, neighbours, BFD. */
function owned(c: SwitchConfig): OwnedLine[] {
  const pair = (...rest: string[]): OwnedLine => ({
    add: net("add", ...rest),
    remove: net("del", ...rest),
  });
  return [
    ...c.downlinks.flatMap((d) => [
      pair("interface", d.port, "ipv6", "nd", "ra-interval", String(d.raInterval)),
      pair("interface", d.port, "ipv6", "nd", "ra-lifetime", String(d.raLifetime)),
    ]),
    ...ownedNetworks(c).map((p) => pair("bgp", "ipv4", "unicast", "network", p)),
    ...c.downlinks.map((d) => pair("bgp", "neighbor", d.port, "remote-as", "external")),
    // BFD per neighbour (cumulus-linux-44 "Bidirectional Forwarding Detection - BFD": `net add
    // bgp neighbor swp1 bfd`, FRR's default timers); after the neighbour, removed before it.
    ...(c.bfd ? c.downlinks.map((d) => pair("bgp", "neighbor", d.port, "bfd")) : []),
  ];
}

export const nclu: SwitchDialect = {
  cli: TorCli.Nclu,
  describes: "switch config with NCLU",
  shared,
  owned,
  applyScript: (step, c) => renderApply(flow, step, nclu.describes, c, shared(c), owned(c)),
  removeScript: (step, c) => renderRemove(flow, step, nclu.describes, c, owned(c)),
};
