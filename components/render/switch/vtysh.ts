/**
 * A switch running plain FRR, configured line by line through `vtysh` (`configure
 * terminal`, the line in its context, then `write memory`): only this resource's lines
 * are added and removed; the rest of frr.conf is never read back into a reload, so
 * neither FRR 10.3's `no interface X` refusal nor its RA YANG check (lifetime×1000 ≥
 * interval) can trip, and nothing resets sessions. Removals are explicit negations in an
 * order FRR accepts: route-map references, neighbours, networks, then RA lifetime before
 * RA interval, then the route-maps.
 *
 * A line is an argument list of vtysh commands: the contexts it lives in, then the line.
 * The switch's running config is listed with each line prefixed by its contexts
 * (`router bgp 65000 / address-family ipv4 unicast / network 1.1.1.1/32`), which is how
 * a line's presence is checked.
 */
import { TorCli } from "../../enums";
import { quote, warn } from "../../shell";
import { Flow, renderApply, renderRemove } from "./flow";
import { mgmtdRetryFunction } from "../scripts/lib";
import {
  OwnedLine,
  SwitchConfig,
  SwitchDialect,
  Words,
  ownedNetworks,
  sharedNetworks,
} from "./model";

/** The separator between a line's contexts in the listing. */
const SEP = " / ";

/**
 * Lists `show running-config` one line per row, each prefixed by its contexts: a
 * top-level line opens a context, one space of indent is inside it, `address-family`
 * opens a second level that `exit-address-family` closes.
 */
export const FRR_LISTING_AWK = [
  "/^[[:space:]]*!/ || /^[[:space:]]*$/ { next }",
  '/^exit$/ || /^end$/ { top = ""; af = ""; next }',
  '/^ exit-address-family$/ { af = ""; next }',
  '/^[^ ]/ { top = $0; af = ""; print; next }',
  "/^ address-family / { af = substr($0, 2); print top SEP af; next }",
  '/^  [^ ]/ && af != "" { print top SEP af SEP substr($0, 3); next }',
  "/^ [^ ]/ { print top SEP substr($0, 2); next }",
].join(" ");

/** The switch's route-maps for this resource's neighbours (FRR ≥ 7.4 wants a policy on eBGP). */
export function vtyshRouteMaps(c: SwitchConfig): { in: string; out: string } {
  return { in: `${c.id}-IN`, out: `${c.id}-OUT` };
}

/** The daemons file the switch's FRR starts from. */
const DAEMONS_FILE = "/etc/frr/daemons";

/**
 * Daemons are switch-wide: turned on when off, never off. bgpd off means nothing routes
 * over BGP yet, so frr is restarted then. With `bfd`, bfdd must run too; it is turned on
 * in the same restart when bgpd was off, and otherwise the run fails before changing
 * anything: restarting a switch's FRR that carries sessions is the operator's call.
 */
function daemonLines(bfd: boolean): string[] {
  const lines = [
    "restart=0",
    `if ! grep -Eq '^bgpd=yes' ${DAEMONS_FILE}; then`,
    `    ${warn("bgpd is off in /etc/frr/daemons: turning it on and restarting frr")}`,
    `    sed -i 's/^bgpd=.*/bgpd=yes/' ${DAEMONS_FILE}`,
    "    restart=1",
    "fi",
  ];
  if (bfd) {
    lines.push(
      `if ! grep -Eq '^bfdd=yes' ${DAEMONS_FILE}; then`,
      '    if [ "$restart" = 1 ]; then',
      `        ${warn("bfdd is off in /etc/frr/daemons: turning it on with bgpd")}`,
      `        if grep -Eq '^bfdd=' ${DAEMONS_FILE}; then sed -i 's/^bfdd=.*/bfdd=yes/' ${DAEMONS_FILE}; else echo bfdd=yes >>${DAEMONS_FILE}; fi`,
      "    else",
      `        ${warn("bfd needs bfdd, which is off in /etc/frr/daemons, and frr-nspawn does not restart a switch's FRR that carries BGP sessions: set bfdd=yes there, restart frr when it suits, and run again")}`,
      "        exit 1",
      "    fi",
      "fi",
    );
  }
  return [
    ...lines,
    'if [ "$restart" = 1 ]; then',
    "    systemctl restart frr",
    "    for _ in $(seq 30); do vtysh -c 'show bgp summary' >/dev/null 2>&1 && break; sleep 1; done",
    "fi",
  ];
}

/** The flow; `bfdd` is required on apply with `bfd` (never on remove). */
function flowFor(bfdd: boolean): Flow {
  return {
    functions: [
      ...mgmtdRetryFunction(),
      "frr() {",
      "    local out",
      '    if ! out=$(mgmtd_retry vtysh "$@"); then',
      '        echo "frr-nspawn: vtysh $* failed:" >&2',
      '        printf "%s\\n" "$out" >&2',
      "        return 1",
      "    fi",
      "}",
      "frr_listing() {",
      `    vtysh -c 'show running-config' | awk -v SEP=${quote(SEP)} ${quote(FRR_LISTING_AWK)}`,
      "}",
    ],
    listing: "frr_listing",
    asnSed: "s/^router bgp \\([0-9][0-9]*\\)$/\\1/p",
    routerIdSed: `s/^router bgp [0-9][0-9]*${SEP.replace(/\//g, "\\/")}bgp router-id \\([0-9.][0-9.]*\\)$/\\1/p`,
    before: daemonLines(bfdd),
    // vtysh applies each line at once: nothing is left staged.
    discard: "true",
    run: (words) => `frr -c 'configure terminal' ${words.map((w) => `-c ${quote(w)}`).join(" ")}`,
    key: (words) => words.join(SEP),
    commit: () => ['if [ "$staged" = 1 ]; then frr -c "write memory"; fi'],
  };
}

function shared(c: SwitchConfig): Words[] {
  const bgp = `router bgp ${c.asn}`;
  return [
    ["interface lo", `ip address ${c.loopback}`],
    [bgp],
    [bgp, `bgp router-id ${c.routerId}`],
    ...sharedNetworks(c).map((p) => [bgp, "address-family ipv4 unicast", `network ${p}`]),
  ];
}

function owned(c: SwitchConfig): OwnedLine[] {
  const bgp = `router bgp ${c.asn}`;
  const af = "address-family ipv4 unicast";
  const rm = vtyshRouteMaps(c);
  const line = (context: string[], text: string, negation: string): OwnedLine => ({
    add: [...context, text],
    remove: [...context, negation],
  });
  return [
    line([], `route-map ${rm.in} permit 10`, `no route-map ${rm.in}`),
    line([], `route-map ${rm.out} permit 10`, `no route-map ${rm.out}`),
    ...c.downlinks.flatMap((d) => {
      const ifc = [`interface ${d.port}`];
      return [
        line(ifc, "no ipv6 nd suppress-ra", "ipv6 nd suppress-ra"),
        // With the value, so that a changed timing makes the old line stale: it is negated
        // (lifetime first) before the new one is set.
        line(ifc, `ipv6 nd ra-interval ${d.raInterval}`, `no ipv6 nd ra-interval ${d.raInterval}`),
        line(ifc, `ipv6 nd ra-lifetime ${d.raLifetime}`, `no ipv6 nd ra-lifetime ${d.raLifetime}`),
      ];
    }),
    ...ownedNetworks(c).map((p) => line([bgp, af], `network ${p}`, `no network ${p}`)),
    ...c.downlinks.map((d) =>
      line([bgp], `neighbor ${d.port} interface remote-as external`, `no neighbor ${d.port}`),
    ),
    // BFD per neighbour (bfdd runs: see daemonLines), FRR's default timers.
    ...(c.bfd
      ? c.downlinks.map((d) => line([bgp], `neighbor ${d.port} bfd`, `no neighbor ${d.port} bfd`))
      : []),
    // After the BFD lines, so removed before them. bgpd ignores a BFD down from a peer in
    // graceful restart whose BFD shares its control plane (C bit clear, as a host's bfdd
    // sends): bgp_bfd.c, bfd_session_status_update.
    ...(c.bfd && c.bfdCheckControlPlaneFailure
      ? c.downlinks.map((d) =>
          line(
            [bgp],
            `neighbor ${d.port} bfd check-control-plane-failure`,
            `no neighbor ${d.port} bfd check-control-plane-failure`,
          ),
        )
      : []),
    ...c.downlinks.flatMap((d) => [
      line(
        [bgp, af],
        `neighbor ${d.port} route-map ${rm.in} in`,
        `no neighbor ${d.port} route-map ${rm.in} in`,
      ),
      line(
        [bgp, af],
        `neighbor ${d.port} route-map ${rm.out} out`,
        `no neighbor ${d.port} route-map ${rm.out} out`,
      ),
    ]),
  ];
}

export const vtysh: SwitchDialect = {
  cli: TorCli.Vtysh,
  describes: "switch config with vtysh (plain FRR)",
  shared,
  owned,
  applyScript: (step, c) =>
    renderApply(flowFor(c.bfd), step, vtysh.describes, c, shared(c), owned(c)),
  removeScript: (step, c) => renderRemove(flowFor(false), step, vtysh.describes, c, owned(c)),
};
