# shellcheck shell=bash
# Lab networking:
#  * management: nspawn --network-veth creates ve-<name> (root netns) <-> host0
#    (container). Root side gets 10.254.<i>.1/30 here; the container side gets
#    10.254.<i>.2/30 from systemd-networkd inside (see customise_rootfs).
#  * the links (LAB_LINKS in common.sh): one veth pair each, e.g. ens3 (in coreos)
#    <-> swp1 (in tor). An end is created in the root netns under a unique name and
#    moved (and renamed) into a starting host (see start_host for why not nspawn
#    --network-interface=); if the other host already runs, its end is created
#    directly inside its netns. When a host's netns dies, the kernel deletes its
#    pairs, so they are recreated on the next start of that host.

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

# Root-netns name of link <n>'s end <a|b> while it waits there for its host to start:
# unique, because two hosts may both want an "ens3" (or two TORs an "swp1") at once.
link_tmp_if() { echo "lablink$1$2"; }
# Which end ("a" or "b") of link <n> is <host>'s: usage link_end_of <host> <n>.
link_end_of() { local a; read -r a _ <<<"${LAB_LINKS[$2]}"; [[ ${a%%:*} == "$1" ]] && echo a || echo b; }

# Make sure every link end of <name> exists in the root netns right before <name> is
# started, so that start_host can move it into the new netns. Prints one
# "<root-netns name> <name inside the host>" line per link.
link_prepare_for_start() {
  local name=$1 n my_if peer peer_if tmp peer_tmp
  while read -r n my_if peer peer_if; do
    tmp="$(link_tmp_if "$n" "$(link_end_of "$name" "$n")")"
    peer_tmp="$(link_tmp_if "$n" "$(link_end_of "$peer" "$n")")"
    if root_has_if "$tmp"; then
      is_veth "$tmp" || die "root netns already has a non-veth interface '$tmp'; the lab needs that name for its link (rename it or run on another machine)"
    elif host_running "$peer"; then
      # Peer is up: its old end died with our previous netns (if any). Drop any
      # leftover and create a fresh pair: our end here, its end in its netns.
      in_host_netns "$peer" ip link del "$peer_if" >/dev/null 2>&1 || true
      ip link add "$tmp" type veth peer name "$peer_if" netns "$(host_leader "$peer")" \
        || die "could not create link veth $name:$my_if <-> $peer:$peer_if"
      log "link: created $name:$my_if (as $tmp in the root netns) <-> $peer_if (inside $peer)"
    else
      if root_has_if "$peer_tmp"; then
        is_veth "$peer_tmp" || die "root netns already has a non-veth interface '$peer_tmp'"
        ip link del "$peer_tmp"
      fi
      ip link add "$tmp" type veth peer name "$peer_tmp" || die "could not create link veth $name:$my_if <-> $peer:$peer_if"
      log "link: created $name:$my_if <-> $peer:$peer_if (as $tmp, $peer_tmp in the root netns, handed over at host start)"
    fi
    echo "$tmp $my_if"
  done < <(host_links "$name")
}

# For a running host: are all its link interfaces present inside it?
link_present() {
  local ifn
  for ifn in $(host_link_ifs "$1"); do
    in_host_netns "$1" ip link show dev "$ifn" >/dev/null 2>&1 || return 1
  done
}

# Repair every link between two running hosts with an end missing (e.g. after a host
# died outside of this script).
link_repair() {
  local i a b ha ia hb ib
  for i in "${!LAB_LINKS[@]}"; do
    read -r a b <<<"${LAB_LINKS[$i]}"
    ha=${a%%:*} ia=${a#*:} hb=${b%%:*} ib=${b#*:}
    host_running "$ha" && host_running "$hb" || continue
    if in_host_netns "$ha" ip link show dev "$ia" >/dev/null 2>&1 \
      && in_host_netns "$hb" ip link show dev "$ib" >/dev/null 2>&1; then continue; fi
    log "link: repairing $ha:$ia <-> $hb:$ib"
    in_host_netns "$ha" ip link del "$ia" >/dev/null 2>&1 || true
    in_host_netns "$hb" ip link del "$ib" >/dev/null 2>&1 || true
    ip link add "$ia" netns "$(host_leader "$ha")" type veth peer name "$ib" netns "$(host_leader "$hb")" \
      || die "could not recreate link veth $ha:$ia <-> $hb:$ib"
  done
}

# A switch's ports are up: its platform brings them up, not FRR (on Cumulus, NCLU's
# ifreload does). The TORs stand in for that whenever an end of a link is new.
switch_port_up() {
  local name ifn
  for name in "${LAB_HOSTS[@]}"; do
    [[ $(host_flavor "$name") == tor ]] && host_running "$name" || continue
    for ifn in $(host_link_ifs "$name"); do
      in_host_netns "$name" ip link set "$ifn" up || die "could not bring $ifn up on $name"
    done
  done
}

# Remove lab interfaces left in the root netns (only veths, never real NICs).
net_cleanup_root() {
  local ifn name i
  local names=(ens3 swp1)   # the names an older lab left there
  for name in "${LAB_HOSTS[@]}"; do names+=("$(host_veth "$name")"); done
  for i in "${!LAB_LINKS[@]}"; do names+=("$(link_tmp_if "$i" a)" "$(link_tmp_if "$i" b)"); done
  for ifn in "${names[@]}"; do
    if root_has_if "$ifn" && is_veth "$ifn"; then
      ip link del "$ifn" 2>/dev/null || true
    fi
  done
}
