/**
 * The command forms TorCumulus may emit to a Cumulus switch, each with the
 * CumulusNetworks/docs page (path in that repository) that documents it and the example
 * there it was read from. tests/unit/switch.test.ts checks every `net`/`nv` line each
 * dialect renders against this table: a line no row matches fails the test.
 *
 * `verbatim: false` marks a row whose exact words are not on the page: the page documents
 * the same FRR setting through another interface, as the note says.
 */
export interface DocumentedForm {
  /** The whole line, `<…>` parts as regular expressions. */
  form: RegExp;
  /** Path in github.com/CumulusNetworks/docs. */
  page: string;
  /** The example on that page. */
  example: string;
  verbatim: boolean;
  note?: string;
}

const PORT = "swp[0-9]+(s[0-9])?";
const V4 = "[0-9]{1,3}(\\.[0-9]{1,3}){3}";
const PREFIX = `${V4}/[0-9]{1,2}`;
const NUM = "[0-9]+";
const f = (s: string) => new RegExp(`^${s}$`);

const BFD_44 = "content/cumulus-linux-44/Layer-3/Bidirectional-Forwarding-Detection-BFD.md";
const BFD_59 = "content/cumulus-linux-59/Layer-3/Bidirectional-Forwarding-Detection-BFD.md";
const NCLU_44 =
  "content/cumulus-linux-44/System-Configuration/Network-Command-Line-Utility-NCLU.md";
const BGP_44 =
  "content/cumulus-linux-44/Layer-3/Border-Gateway-Protocol-BGP/Basic-BGP-Configuration.md";
const BGP_41 =
  "content/cumulus-linux-41/Layer-3/Border-Gateway-Protocol-BGP/Basic-BGP-Configuration.md";
const BGP_37 = "content/cumulus-linux-37/Layer-3/Border-Gateway-Protocol-BGP.md";
const IFACE_44 =
  "content/cumulus-linux-44/Layer-1-and-Switch-Ports/Interface-Configuration-and-Management/_index.md";
const QUICK_44 = "content/cumulus-linux-44/Quick-Start-Guide/_index.md";
const BGP_59 =
  "content/cumulus-linux-59/Layer-3/Border-Gateway-Protocol-BGP/Basic-BGP-Configuration.md";
const IFACE_59 =
  "content/cumulus-linux-59/Layer-1-and-Switch-Ports/Interface-Configuration-and-Management/_index.md";
const ND_REF = "content/nvue-reference/Set-and-Unset-Commands/Neighbor-Discovery.md";
const CHANGED_515 = "content/cumulus-linux-515/Whats-New/New-and-Changed-NVUE-Commands.md";
const VRF_44 = "content/cumulus-linux-44/Layer-3/VRFs/Virtual-Routing-and-Forwarding-VRF.md";
const BFD_515 = "content/cumulus-linux-515/Layer-3/Bidirectional-Forwarding-Detection-BFD.md";
const WHATS_NEW_515 = "content/cumulus-linux-515/Whats-New/_index.md";
const CONFIG_REF = "content/nvue-reference/Config-Commands.md";
const NCLU_DEL =
  "Use the `net add` and `net del` commands to stage and remove configuration changes";
const NVUE_CLI_59 =
  "content/cumulus-linux-59/System-Configuration/NVIDIA-User-Experience-NVUE/NVUE-CLI.md";

export const NCLU_FORMS: DocumentedForm[] = [
  {
    form: f(`net add loopback lo ip address ${PREFIX}`),
    page: IFACE_44,
    example: "net add loopback lo ip address 10.10.10.1",
    verbatim: true,
  },
  {
    form: f(`net add interface ${PORT}`),
    page: QUICK_44,
    example: "net add interface swp1 (data plane ports are disabled by default)",
    verbatim: true,
  },
  {
    form: f(`net add interface ${PORT} ipv6 nd ra-interval ${NUM}`),
    page: BGP_37,
    example:
      "net add interface <interface> ipv6 nd ra-interval <interval> (in seconds; RA is on by itself for BGP unnumbered)",
    verbatim: true,
  },
  {
    form: f(`net del interface ${PORT} ipv6 nd ra-interval ${NUM}`),
    page: NCLU_44,
    example: NCLU_DEL,
    verbatim: false,
    note: "the net del of the ra-interval line above",
  },
  {
    form: f(`net (add|del) interface ${PORT} ipv6 nd ra-lifetime ${NUM}`),
    page: BGP_37,
    example: "ipv6 nd ra-interval: the same `ipv6 nd` family, lifetime in seconds",
    verbatim: false,
    note: "the seed's procedure (shared/seed) runs it; the page documents RA timing with ra-interval",
  },
  {
    form: f(`net add bgp autonomous-system ${NUM}`),
    page: BGP_44,
    example: "net add bgp autonomous-system 65101",
    verbatim: true,
  },
  {
    form: f(`net add bgp router-id ${V4}`),
    page: BGP_44,
    example: "net add bgp router-id 10.10.10.1",
    verbatim: true,
  },
  {
    form: f(`net add bgp ipv4 unicast network ${PREFIX}`),
    page: BGP_44,
    example: "net add bgp ipv4 unicast network 10.10.10.1/32",
    verbatim: true,
  },
  {
    form: f(`net del bgp ipv4 unicast network ${PREFIX}`),
    page: NCLU_44,
    example: NCLU_DEL,
    verbatim: false,
    note: "the net del of the network line above",
  },
  {
    form: f(`net add bgp neighbor ${PORT} remote-as external`),
    page: BGP_41,
    example:
      "net add bgp neighbor swp51 remote-as external (BGP Unnumbered; frr.conf: neighbor swp51 interface)",
    verbatim: true,
  },
  {
    form: f(`net del bgp neighbor ${PORT} remote-as external`),
    page: VRF_44,
    example:
      "The NCLU command to remove a BGP neighbor (`net del bgp neighbor <interface> remote-as <asn>`)",
    verbatim: true,
  },
  {
    form: f(`net add bgp neighbor ${PORT} bfd`),
    page: BFD_44,
    example:
      "net add bgp neighbor swp1 bfd (BFD in BGP, default intervals; frr.conf: neighbor swp1 bfd)",
    verbatim: true,
  },
  {
    form: f(`net del bgp neighbor ${PORT} bfd`),
    page: NCLU_44,
    example: NCLU_DEL,
    verbatim: false,
    note: "the net del of the bfd line above",
  },
  {
    form: f("net pending"),
    page: NCLU_44,
    example: "net pending",
    verbatim: true,
  },
  {
    form: f("net commit description .+"),
    page: NCLU_44,
    example: "net commit description <description>",
    verbatim: true,
  },
  { form: f("net abort"), page: NCLU_44, example: "net abort", verbatim: true },
  {
    form: f("net show configuration commands"),
    page: NCLU_44,
    example: "net show configuration [commands|files|acl|bgp|multicast|ospf|ospf6]",
    verbatim: true,
  },
];

/** NVUE forms of Cumulus Linux 5.0–5.14. */
export const NVUE_59_FORMS: DocumentedForm[] = [
  {
    form: f(`nv set interface lo ip address ${PREFIX}`),
    page: IFACE_59,
    example: "nv set interface lo ip address 10.10.10.1",
    verbatim: true,
  },
  {
    form: f(`nv set interface ${PORT} link state up`),
    page: IFACE_59,
    example: "nv set interface swp1 link state up",
    verbatim: true,
  },
  {
    form: f(
      `nv (set|unset) interface ${PORT} ip neighbor-discovery router-advertisement enable( on)?`,
    ),
    page: ND_REF,
    example: "nv set interface swp1 ip neighbor-discovery router-advertisement enable off",
    verbatim: true,
  },
  {
    form: f(
      `nv (set|unset) interface ${PORT} ip neighbor-discovery router-advertisement interval( ${NUM})?`,
    ),
    page: ND_REF,
    example: "router-advertisement interval: 70..1800000 milliseconds",
    verbatim: true,
  },
  {
    form: f(
      `nv (set|unset) interface ${PORT} ip neighbor-discovery router-advertisement lifetime( ${NUM})?`,
    ),
    page: ND_REF,
    example: "router-advertisement lifetime 0-9000",
    verbatim: true,
  },
  {
    form: f(`nv (set|unset) vrf default router bgp neighbor ${PORT} bfd enable( on)?`),
    page: BFD_59,
    example: "nv set vrf default router bgp neighbor swp51 bfd enable on (BFD in BGP)",
    verbatim: true,
  },
];

/** NVUE forms of Cumulus Linux 5.15 and later ("New and Changed NVUE Commands"). */
export const NVUE_515_FORMS: DocumentedForm[] = [
  {
    form: f(`nv set interface lo ipv4 address ${PREFIX}`),
    page: CHANGED_515,
    example: "nv set interface <interface-id> ipv4 address <ipv4-prefix-id>",
    verbatim: true,
  },
  {
    form: f(`nv set interface ${PORT} link state up`),
    page: IFACE_59,
    example: "nv set interface swp1 link state up (not among 5.15's changes)",
    verbatim: true,
  },
  {
    form: f(
      `nv (set|unset) interface ${PORT} ipv6 neighbor-discovery router-advertisement state( enabled)?`,
    ),
    page: CHANGED_515,
    example:
      "nv set interface <interface-id> ipv6 neighbor-discovery router-advertisement state enabled|disabled",
    verbatim: true,
  },
  {
    form: f(
      `nv (set|unset) interface ${PORT} ipv6 neighbor-discovery router-advertisement interval( ${NUM})?`,
    ),
    page: CHANGED_515,
    example:
      "nv set interface <interface-id> ipv6 neighbor-discovery router-advertisement interval (70-1800000)",
    verbatim: true,
  },
  {
    form: f(
      `nv (set|unset) interface ${PORT} ipv6 neighbor-discovery router-advertisement lifetime( ${NUM})?`,
    ),
    page: CHANGED_515,
    example:
      "nv set interface <interface-id> ipv6 neighbor-discovery router-advertisement lifetime (0-9000)",
    verbatim: true,
  },
  {
    form: f(
      `nv set router bfd profile frr-nspawn (detect-multiplier|min-rx-interval|min-tx-interval) ${NUM}`,
    ),
    page: BFD_515,
    example:
      "nv set router bfd profile BFD1 detect-multiplier 10 (also min-tx-interval, min-rx-interval)",
    verbatim: true,
  },
  {
    form: f(`nv set vrf default router bgp neighbor ${PORT} bfd profile frr-nspawn`),
    page: BFD_515,
    example:
      "nv set vrf default router bgp neighbor swp51 bfd profile BFD1 (5.15 removed `… bfd enable`: What's New, removed NVUE commands; the changes table's `bfd state enabled` row is contradicted there and on this page)",
    verbatim: true,
  },
  {
    form: f(`nv unset vrf default router bgp neighbor ${PORT} bfd`),
    page: WHATS_NEW_515,
    example: "New NVUE commands: nv unset vrf <vrf-id> router bgp neighbor <neighbor-id> bfd",
    verbatim: true,
  },
];

/** NVUE forms every 5.x release shares. */
export const NVUE_COMMON_FORMS: DocumentedForm[] = [
  {
    form: f(`nv set router bgp autonomous-system ${NUM}`),
    page: BGP_59,
    example: "nv set router bgp autonomous-system 65101",
    verbatim: true,
  },
  {
    form: f(`nv set router bgp router-id ${V4}`),
    page: BGP_59,
    example: "nv set router bgp router-id 10.10.10.1",
    verbatim: true,
  },
  {
    form: f(`nv set vrf default router bgp neighbor ${PORT} remote-as external`),
    page: BGP_59,
    example: "nv set vrf default router bgp neighbor swp51 remote-as external",
    verbatim: true,
  },
  {
    form: f(`nv unset vrf default router bgp neighbor ${PORT}`),
    page: BGP_59,
    example: "nv unset removes what nv set configured (nvue-reference: Set and Unset Commands)",
    verbatim: false,
  },
  {
    form: f(`nv (set|unset) vrf default router bgp address-family ipv4-unicast network ${PREFIX}`),
    page: BGP_59,
    example: "nv set vrf default router bgp address-family ipv4-unicast network 10.10.10.1/32",
    verbatim: true,
  },
  {
    form: f("nv config diff"),
    page: NVUE_CLI_59,
    example: "nv config diff: the pending changes",
    verbatim: true,
  },
  {
    form: f("nv config apply --assume-yes -m .+"),
    page: NVUE_CLI_59,
    example:
      "Add Configuration Apply Messages: nv config apply -m <message> (5.9 and later; --assume-yes below)",
    verbatim: true,
  },
  {
    form: f("nv config apply --assume-yes"),
    page: CONFIG_REF,
    example: "nv config apply: `--y` or `--assume-yes` automatically replies yes to all prompts",
    verbatim: true,
  },
  {
    form: f("nv config save"),
    page: CONFIG_REF,
    example:
      "In Cumulus Linux 5.8 and earlier, … This command does not save the configuration; … without having to run the `nv config save` command",
    verbatim: true,
  },
  { form: f("nv config detach"), page: NVUE_CLI_59, example: "nv config detach", verbatim: true },
  {
    form: f("nv config show -o commands"),
    page: NVUE_CLI_59,
    example: "nv config show -o commands: Shows the currently applied configuration commands",
    verbatim: true,
  },
];
