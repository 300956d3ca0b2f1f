# shellcheck shell=bash
# Lab networking:
#  * management: nspawn --network-veth creates ve-<name> (root netns) <-> host0
#    (container). Root side gets 10.254.<i>.1/30 here; the container side gets
#    10.254.<i>.2/30 from systemd-networkd inside (see customise_rootfs).
#  * the link: one veth pair, ens3 (in coreos) <-> swp1 (in tor). An end is
#    created in the root netns and moved into a starting host (see
#    start_host for why not nspawn --network-interface=); if the other
#    host already runs, its end is created directly inside its netns. When a
#    host's netns dies, the kernel deletes the whole pair, so it is recreated
#    on the next start of that host.

# Run a command in the network namespace of a running host.
in_host_netns() {
  local name=$1; shift
  local leader; leader="$(host_leader "$name")" || return 1
  nsenter -t "$leader" -n -- "$@"
}

root_has_if() { ip link show dev "$1" >/dev/null 2>&1; }
is_veth() { ip -d link show dev "$1" 2>/dev/null | grep -q 'veth'; }

# Give the root-netns side of the management veth its address.
# Fails if nspawn did not create ve-<name> (check the host log).
setup_mgmt() {
  local name=$1 ve; ve="$(host_veth "$name")"
  wait_for 30 root_has_if "$ve" || die "$name: $ve did not appear in the root netns (see $(host_log "$name"))"
  ip addr replace "$(host_gw_ip "$name")/30" dev "$ve"
  ip link set "$ve" up
}

# Make sure the link end for <name> exists in the root netns right before
# <name> is started, so that start_host can move it into the new netns.
# Prints the interface name to pass.
link_prepare_for_start() {
  local name=$1 my_if peer peer_if
  my_if="$(host_link_if "$name")"; peer="$(host_peer "$name")"; peer_if="$(host_link_if "$peer")"
  if root_has_if "$my_if"; then
    is_veth "$my_if" || die "root netns already has a non-veth interface '$my_if'; the lab needs that name for its link (rename it or run on another machine)"
    echo "$my_if"; return 0
  fi
  if host_running "$peer"; then
    # Peer is up: its old end died with our previous netns (if any). Drop any
    # leftover and create a fresh pair: our end here, its end in its netns.
    in_host_netns "$peer" ip link del "$peer_if" >/dev/null 2>&1 || true
    ip link add "$my_if" type veth peer name "$peer_if" netns "$(host_leader "$peer")" \
      || die "could not create link veth $my_if <-> $peer:$peer_if"
    log "link: created $my_if (root netns, for $name) <-> $peer_if (inside $peer)"
  else
    if root_has_if "$peer_if"; then
      is_veth "$peer_if" || die "root netns already has a non-veth interface '$peer_if'"
      ip link del "$peer_if"
    fi
    ip link add "$my_if" type veth peer name "$peer_if" || die "could not create link veth $my_if <-> $peer_if"
    log "link: created $my_if <-> $peer_if (root netns, handed over at host start)"
  fi
  echo "$my_if"
}

# For a running host: is its link interface present inside it?
link_present() { in_host_netns "$1" ip link show dev "$(host_link_if "$1")" >/dev/null 2>&1; }

# Repair the link between two running hosts if either end is missing
# (e.g. after a host died outside of this script).
link_repair() {
  host_running coreos && host_running tor || return 0
  if link_present coreos && link_present tor; then return 0; fi
  log "link: repairing ens3 <-> swp1"
  in_host_netns coreos ip link del ens3 >/dev/null 2>&1 || true
  in_host_netns tor ip link del swp1 >/dev/null 2>&1 || true
  ip link add ens3 netns "$(host_leader coreos)" type veth peer name swp1 netns "$(host_leader tor)" \
    || die "could not recreate link veth ens3 <-> swp1"
}

# A switch's ports are up: its platform brings them up, not FRR (on Cumulus, NCLU's
# ifreload does). The tor stands in for that whenever its end of the link is new.
switch_port_up() {
  host_running tor || return 0
  in_host_netns tor ip link set swp1 up || die "could not bring swp1 up on tor"
}

# Remove lab interfaces left in the root netns (only veths, never real NICs).
net_cleanup_root() {
  local ifn
  for ifn in ens3 swp1 ve-coreos ve-tor; do
    if root_has_if "$ifn" && is_veth "$ifn"; then
      ip link del "$ifn" 2>/dev/null || true
    fi
  done
}
