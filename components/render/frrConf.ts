/**
 * frr.conf renderers: the host's (BGP unnumbered peer-group to the TOR, announcing its
 * loopback) and a plain-FRR switch's (the TOR side). Output is in the `show
 * running-config` text and indentation of the release line named by `frrVersion` (see
 * frrProfile.ts), so `frr-reload.py` sees no difference and a reload touches nothing
 * that did not change; one thing differs, on purpose: the file ({@link FrrConfForm})
 * puts the policy (prefix-lists, route-maps) before `router bgp` on every line, where
 * 8.x lists it after.
 *
 * FRR >= 7.4 enables `bgp ebgp-requires-policy`: an eBGP peer with no policy neither
 * sends nor accepts routes. Both configs therefore carry an explicit policy instead of
 * switching the check off.
 */
import { SwitchDownlink } from "./switch/model";

import { FrrProfile, frrProfile } from "./frrProfile";

/** Values for the host's frr.conf; all validated and normalised by the caller. */
export interface HostFrrConfig {
  /**
   * Written on the `frr version` line; FRR picks its defaults by it, and the render
   * follows that release line's normalised form.
   */
  frrVersion: string;
  hostname: string;
  asn: number;
  routerId: string;
  /** `a.b.c.d/32`. */
  loopback: string;
  /** Uplink NICs, each an unnumbered neighbour in the peer-group. */
  interfaces: readonly string[];
  peerGroup: string;
  /** Extra IPv4 prefixes announced besides the loopback. */
  networks: readonly string[];
  /**
   * `neighbor <peerGroup> bfd`: every uplink's session follows a BFD session (bfdd must
   * run: the daemons file's `bfd`).
   * @default false
   */
  bfd?: boolean;
  /**
   * `bgp graceful-restart`: the host is a restarting speaker (RFC 4724), so its TORs
   * keep its routes while its bgpd restarts.
   * @default false
   */
  gracefulRestart?: boolean;
}

/**
 * Values for a plain-FRR switch's whole frr.conf (the TOR). TorCumulus's vtysh dialect
 * adds these lines one by one instead (components/render/switch/vtysh.ts); the whole-file
 * form is what FRR's own parser checks in tests/frr.
 */
export interface SwitchFrrConfig {
  frrVersion: string;
  hostname: string;
  asn: number;
  routerId: string;
  loopback: string;
  downlinks: readonly SwitchDownlink[];
  networks: readonly string[];
  /**
   * `neighbor <port> bfd` on every downlink (bfdd must run).
   * @default false
   */
  bfd?: boolean;
  /**
   * With `bfd`, `neighbor <port> bfd check-control-plane-failure` on every downlink: a
   * host's BFD going down while its FRR restarts leaves its routes to graceful restart.
   * @default false
   */
  bfdCheckControlPlaneFailure?: boolean;
}

/**
 * With graceful restart the host's zebra installs routes with their next hops inline
 * (`via 169.254.0.1 dev ens3 onlink`), not as kernel nexthop objects. A restarted zebra
 * (`-K`) takes the previous run's routes back from the kernel; from nexthop objects
 * FRR 10.3 rebuilt an IPv4 route over an IPv6 link-local next hop as `dev ens3` only,
 * and traffic stopped until bgpd installed it again (94 pings at 20/s); inline, the
 * restart lost none (tests/rack). Same place in 8.4's and 10.3's running-config.
 */
export const NO_KERNEL_NEXTHOP_GROUPS = "no zebra nexthop kernel enable";

/** Names of the host's policy objects, derived from the peer-group name. */
export function hostPolicyNames(peerGroup: string): {
  prefixList: string;
  routeMapIn: string;
  routeMapOut: string;
} {
  return {
    prefixList: `${peerGroup}-OUT`,
    routeMapIn: `${peerGroup}-IN`,
    routeMapOut: `${peerGroup}-OUT`,
  };
}

/** The switch's route-maps on its downlinks. */
export const SWITCH_ROUTE_MAP_IN = "DOWNLINKS-IN";
export const SWITCH_ROUTE_MAP_OUT = "DOWNLINKS-OUT";

/**
 * FRR lists interfaces in name order with numbers compared as numbers (`lo` before
 * `swp1`, `swp2` before `swp10`), as its if_cmp_name_func does.
 */
export function compareInterfaceNames(a: string, b: string): number {
  const parts = (name: string) => name.match(/[0-9]+|[^0-9]+/g) ?? [];
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const numeric = /^[0-9]/.test(pa[i]) && /^[0-9]/.test(pb[i]);
    if (numeric && Number(pa[i]) !== Number(pb[i])) {
      return Number(pa[i]) - Number(pb[i]);
    }
    if (pa[i] !== pb[i]) {
      return pa[i] < pb[i] ? -1 : 1;
    }
  }
  return pa.length - pb.length;
}

function header(frrVersion: string, hostname: string, zebra: readonly string[] = []): string[] {
  return [
    `frr version ${frrVersion}`,
    "frr defaults traditional",
    `hostname ${hostname}`,
    ...zebra,
    "service integrated-vtysh-config",
    "!",
  ];
}

/** The kernel's forwarding, as zebra reads it (see {@link withKernelForwarding}). */
export interface KernelForwarding {
  /** `/proc/net/snmp`'s IpForwarding is 1 (or the file cannot be read). */
  ipv4: boolean;
  /** `/proc/sys/net/ipv6/conf/all/forwarding` is not 0 (or the file cannot be read). */
  ipv6: boolean;
}

/** The lines FRR lists for each kind of forwarding that is off. */
export const FORWARDING_OFF_LINES = {
  ipv4: "no ip forwarding",
  ipv6: "no ipv6 forwarding",
} as const;

/** Lines about forwarding that never stay in a rendered file as given. */
const FORWARDING_LINES = [
  "ip forwarding",
  FORWARDING_OFF_LINES.ipv4,
  "ipv6 forwarding",
  FORWARDING_OFF_LINES.ipv6,
];

/**
 * What the apply script (frrApply.ts `mirror_forwarding`, run where FRR runs just before
 * FRR reads the file) makes of a rendered frr.conf: any forwarding line taken out, then
 * `no ip forwarding` and `no ipv6 forwarding` put back right after the leading `frr
 * version`/`frr defaults`/`hostname` lines for each kind the kernel has off, which is
 * where and when FRR's own `show running-config` lists them.
 *
 * No renderer writes forwarding lines: the host's forwarding is the host's (Docker needs
 * `ip_forward=1`), and FRR must neither change it nor fight it. Both release lines
 * (frr-8.4.4 and frr-10.3 zebra/zebra_vty.c, unchanged between them):
 * - `no ip forwarding` writes 0 to /proc/sys/net/ipv4/ip_forward unless ipforward()
 *   already reads it off (no_ip_forwarding → ipforward_off(), zebra/ipforward_proc.c),
 *   and fails "Can't turn off IP forwarding" when it cannot write (the same for IPv6);
 * - config_write_forwarding() lists `no ip forwarding` exactly when ipforward() reads
 *   it off, and never lists `ip forwarding`;
 * - frr-reload.py (tools/frr-reload.py lines_to_config) removes a running-only line
 *   `no ip forwarding` by sending `ip forwarding`, which ipforward_on() writes as 1.
 * So a file that always says `no ip forwarding` turned a forwarding host's IPv4 and IPv6
 * forwarding off where FRR may write /proc/sys, and where it may not (systemd-nspawn
 * mounts /proc/sys read-only in a machine sharing the host's network: checked with
 * systemd 252) every later `frr-reload.py` tried again and failed, and so did the apply;
 * a file that never says it turned a non-forwarding host's forwarding on at the next
 * reload (tests/frr/forwarding.test.ts shows each on 8.4.4 and 10.3). With the kernel's
 * own state in the file there is nothing to change: `no ip forwarding` with forwarding
 * already off writes nothing, and the reload finds no difference. The file keeps the
 * state of its last apply: forwarding turned on later meets a stale `no ip forwarding`
 * at FRR's next start (in the machine it fails, logged, and changes nothing), until the
 * next apply.
 */
export function withKernelForwarding(conf: string, k: KernelForwarding): string {
  const off = [
    ...(k.ipv4 ? [] : [FORWARDING_OFF_LINES.ipv4]),
    ...(k.ipv6 ? [] : [FORWARDING_OFF_LINES.ipv6]),
  ];
  const lines = conf.split("\n");
  const last = lines.pop(); // "" after the final newline
  const kept = lines.filter((line) => !FORWARDING_LINES.includes(line));
  let at = kept.findIndex((line) => !/^(frr version|frr defaults|hostname) /.test(line));
  if (at < 0) {
    at = kept.length;
  }
  return [...kept.slice(0, at), ...off, ...kept.slice(at), last].join("\n");
}

/**
 * The host's frr.conf: a peer-group with `remote-as external`, every uplink an
 * unnumbered (`interface`) member, the loopback and extra networks announced, and a
 * policy that exports only those prefixes (the host never becomes transit) and accepts
 * what the TOR sends. No forwarding lines: the apply adds the kernel's own
 * ({@link withKernelForwarding}). With
 * `gracefulRestart`, `bgp graceful-restart` and `bgp graceful-restart preserve-fw-state`
 * (zebra keeps the kernel's routes: the F bit) follow the router-id, and zebra keeps
 * next hops inline ({@link NO_KERNEL_NEXTHOP_GROUPS}); with `bfd`,
 * `neighbor <peerGroup> bfd` follows the peer-group's remote-as (FRR's order).
 */
export function renderHostFrrConf(c: HostFrrConfig, form: FrrConfForm = "file"): string {
  const names = hostPolicyNames(c.peerGroup);
  const profile = frrProfile(c.frrVersion);
  const announced = sortPrefixes([c.loopback, ...c.networks]);
  const router = [
    `router bgp ${c.asn}`,
    ` bgp router-id ${c.routerId}`,
    ...(c.gracefulRestart === true
      ? [" bgp graceful-restart", " bgp graceful-restart preserve-fw-state"]
      : []),
    ` neighbor ${c.peerGroup} peer-group`,
    ` neighbor ${c.peerGroup} remote-as external`,
    ...(c.bfd === true ? [` neighbor ${c.peerGroup} bfd`] : []),
    ...c.interfaces.map((nic) => ` neighbor ${nic} interface peer-group ${c.peerGroup}`),
    " !",
    " address-family ipv4 unicast",
    ...announced.map((prefix) => `  network ${prefix}`),
    `  neighbor ${c.peerGroup} route-map ${names.routeMapIn} in`,
    `  neighbor ${c.peerGroup} route-map ${names.routeMapOut} out`,
    " exit-address-family",
    "exit",
    "!",
  ];
  // 8.x lists route-maps in the order they were created: this file's order.
  const routeMaps: RouteMapBlock[] = [
    { name: names.routeMapOut, lines: [` match ip address prefix-list ${names.prefixList}`] },
    { name: names.routeMapIn, lines: [] },
  ];
  const prefixLists = announced.map(
    (prefix, i) => `ip prefix-list ${names.prefixList} seq ${(i + 1) * 5} permit ${prefix}`,
  );
  return layout(profile, form, {
    header: header(
      c.frrVersion,
      c.hostname,
      c.gracefulRestart === true ? [NO_KERNEL_NEXTHOP_GROUPS] : [],
    ),
    interfaces: [],
    router,
    prefixLists,
    routeMaps,
  });
}

/**
 * A plain-FRR switch's frr.conf: the loopback on `lo`, router advertisements on every
 * downlink (BGP unnumbered learns the host's link-local address from them), one
 * unnumbered neighbour per downlink with `remote-as external`, the loopback and extra
 * networks announced. As a transit router the switch accepts and sends everything.
 */
export function renderSwitchFrrConf(c: SwitchFrrConfig, form: FrrConfForm = "file"): string {
  const router = [
    `router bgp ${c.asn}`,
    ` bgp router-id ${c.routerId}`,
    ...c.downlinks.flatMap((d) => [
      ` neighbor ${d.port} interface remote-as external`,
      ...(c.bfd === true ? [` neighbor ${d.port} bfd`] : []),
      ...(c.bfd === true && c.bfdCheckControlPlaneFailure === true
        ? [` neighbor ${d.port} bfd check-control-plane-failure`]
        : []),
    ]),
    " !",
    " address-family ipv4 unicast",
    ...sortPrefixes([c.loopback, ...c.networks]).map((prefix) => `  network ${prefix}`),
    ...c.downlinks.flatMap((d) => [
      `  neighbor ${d.port} route-map ${SWITCH_ROUTE_MAP_IN} in`,
      `  neighbor ${d.port} route-map ${SWITCH_ROUTE_MAP_OUT} out`,
    ]),
    " exit-address-family",
    "exit",
    "!",
  ];
  return layout(frrProfile(c.frrVersion), form, {
    header: header(c.frrVersion, c.hostname),
    interfaces: interfaceBlocks(c),
    router,
    prefixLists: [],
    routeMaps: [
      { name: SWITCH_ROUTE_MAP_IN, lines: [] },
      { name: SWITCH_ROUTE_MAP_OUT, lines: [] },
    ],
  });
}

/**
 * Which text a renderer returns: `"file"`, the frr.conf to write, or `"listing"`, what
 * `show running-config` lists once FRR has loaded that file. They differ only on 8.x/9.x,
 * which list the policy after `router bgp`: the file puts it first there too, because
 * bgpd reads the file in order, and a `neighbor … route-map` met before its route-map
 * exists leaves the session's first update without it: the host's own loopback is
 * filtered out until bgpd's route-map delay timer (5 s) runs. After a graceful restart
 * the TOR meanwhile flushed the host's stale routes on its End-of-RIB (8.4.4 in
 * tests/rack: 0–66 pings of 20/s lost with the policy last, 0 with it first), and a
 * restarted TOR likewise refused its hosts' routes with its own `DOWNLINKS-IN` missing.
 */
export type FrrConfForm = "file" | "listing";

/** A `route-map NAME permit 10` block with its lines. */
interface RouteMapBlock {
  name: string;
  lines: string[];
}

/** The parts of an frr.conf, each already in its own normalised order. */
interface ConfParts {
  header: string[];
  interfaces: string[];
  router: string[];
  prefixLists: string[];
  routeMaps: RouteMapBlock[];
}

/**
 * Puts the parts in the release line's order: 8.x lists policy objects after `router
 * bgp`, route-maps in creation order; 10.x right after the header, route-maps sorted
 * by name. The file ({@link FrrConfForm}) has the policy right after the header on
 * every line.
 */
function layout(profile: FrrProfile, form: FrrConfForm, p: ConfParts): string {
  const maps =
    profile.policyPosition === "first"
      ? [...p.routeMaps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      : p.routeMaps;
  const policy = [
    ...(p.prefixLists.length > 0 ? [...p.prefixLists, "!"] : []),
    ...maps.flatMap((m) => [`route-map ${m.name} permit 10`, ...m.lines, "exit", "!"]),
  ];
  const body =
    profile.policyPosition === "first" || form === "file"
      ? [...policy, ...p.interfaces, ...p.router]
      : [...p.interfaces, ...p.router, ...policy];
  return [...p.header, ...body, ""].join("\n");
}

/**
 * IPv4 prefixes in the order FRR lists `network` lines (a walk of its prefix tree):
 * by address bits, a covering prefix before the prefixes inside it.
 */
export function sortPrefixes(prefixes: readonly string[]): string[] {
  const key = (prefix: string): [number, number] => {
    const [address, length] = prefix.split("/");
    const value = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
    return [value, Number(length)];
  };
  return [...prefixes].sort((a, b) => {
    const [va, la] = key(a);
    const [vb, lb] = key(b);
    const shared = Math.min(la, lb);
    const mask = shared === 0 ? 0 : 2 ** 32 - 2 ** (32 - shared);
    const [ma, mb] = [bitsAnd(va, mask), bitsAnd(vb, mask)];
    if (ma !== mb) {
      return ma - mb;
    }
    return la !== lb ? la - lb : va - vb;
  });
}

/** `a & b` for unsigned 32-bit values (JavaScript's `&` is signed). */
function bitsAnd(a: number, b: number): number {
  return (a & b) >>> 0;
}

/** The switch's `interface` blocks (each downlink's RA, the loopback on lo) in FRR's order. */
function interfaceBlocks(c: SwitchFrrConfig): string[] {
  const blocks = new Map<string, string[]>([["lo", [` ip address ${c.loopback}`]]]);
  for (const d of c.downlinks) {
    blocks.set(d.port, [
      ` ipv6 nd ra-interval ${d.raInterval}`,
      ` ipv6 nd ra-lifetime ${d.raLifetime}`,
      " no ipv6 nd suppress-ra",
    ]);
  }
  return [...blocks.entries()]
    .sort(([a], [b]) => compareInterfaceNames(a, b))
    .flatMap(([name, lines]) => [`interface ${name}`, ...lines, "exit", "!"]);
}

/**
 * The frr.conf left behind when a component is destroyed: the header only, so a reload
 * removes every BGP, policy and interface line the component put there (the apply adds
 * the kernel's forwarding lines to it too: {@link withKernelForwarding}).
 */
export function renderEmptyFrrConf(frrVersion: string, hostname: string): string {
  return [...header(frrVersion, hostname), ""].join("\n");
}
