#!/usr/bin/env bash
# frr-nspawn local lab: booted systemd hosts (systemd-nspawn containers)
#   coreos, h1, h2  - CoreOS stand-ins; can run a nested nspawn machine (machinectl)
#   tor, t1, t2     - top-of-rack stand-ins with Debian's frr installed
# joined by veth "links", each reachable over SSH on a management /30 from the
# root netns. LAB_TOPOLOGY=seed (default): coreos:ens3 <-> tor:swp1.
# LAB_TOPOLOGY=rack: h1 and h2 each dual-homed, ens3 to t1 and ens4 to t2.
#
# Usage: lab/hosts.sh up|down|status|ssh <host> [cmd...]|reboot <host>|
#                     freeze <host>|thaw <host>|cache|nested-image|info|purge
# Env:   LAB_STATE (default /var/tmp/frr-nspawn-lab), LAB_CACHE (default
#        /var/cache/frr-nspawn/lab), LAB_MIRROR (default: from apt sources),
#        LAB_BOOT_TIMEOUT (default 120 s), LAB_SUITE (bookworm: systemd 252
#        and FRR 8.4 on the hosts; trixie: systemd 257 and FRR 10.3),
#        LAB_TOPOLOGY (seed or rack; rack's LAB_STATE default ends in -rack)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib"
# shellcheck source=lib/common.sh
source "$LIB/common.sh"
# shellcheck source=lib/rootfs.sh
source "$LIB/rootfs.sh"
# shellcheck source=lib/net.sh
source "$LIB/net.sh"
# shellcheck source=lib/machine.sh
source "$LIB/machine.sh"
trap trap_err ERR

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

check_host() { host_index "$1" >/dev/null; }

# Bring one host from "not running" to "answers SSH".
boot_host() {
  local name=$1 links
  # Clear leftovers of a crashed instance (container processes that outlived a
  # killed nspawn keep ve-<name> and the link busy: "veth ... File exists").
  stop_host "$name"
  local ve; ve="$(host_veth "$name")"
  if root_has_if "$ve" && is_veth "$ve"; then ip link del "$ve"; fi
  links="$(link_prepare_for_start "$name")"
  start_host "$name" "$links"
  setup_mgmt "$name"
}

cmd_up() {
  require_root
  require_cmds debootstrap systemd-nspawn ssh ssh-keygen ip nsenter zstd tar setsid flock findmnt md5sum
  mkdir -p "$LAB_STATE"
  # 1. Images (cold: debootstrap + apt; warm: cached tarballs).
  ensure_cache base tor
  # 2. Keys: client key + pinned host keys + known_hosts.
  ensure_client_key
  local name
  for name in "${LAB_HOSTS[@]}"; do ensure_host_key "$name"; done
  write_known_hosts
  # 3. Per-host rootfs copies (unpacked in parallel).
  local pids=()
  for name in "${LAB_HOSTS[@]}"; do
    if host_running "$name"; then continue; fi
    prepare_rootfs "$name" & pids+=($!)
  done
  local p; for p in "${pids[@]}"; do wait "$p" || die "preparing a rootfs failed (see messages above)"; done
  # 4. Boot, address the management veths, wait for SSH.
  for name in "${LAB_HOSTS[@]}"; do
    if host_running "$name"; then log "$name: already running"; setup_mgmt "$name"; else boot_host "$name"; fi
  done
  link_repair
  switch_port_up
  for name in "${LAB_HOSTS[@]}"; do wait_ssh "$name"; done
  cmd_info
}

cmd_down() {
  require_root
  local name p pids=()
  # Power off both hosts in parallel.
  for name in "${LAB_HOSTS[@]}"; do stop_host "$name" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || log "warning: stopping a host failed (see above)"; done
  # Any lab nspawn we lost track of: SIGTERM, then SIGKILL.
  for p in $(orphan_nspawn_pids); do
    log "killing orphaned lab nspawn pid $p"
    kill -TERM "$p" 2>/dev/null || true
    wait_for 15 bash -c "! kill -0 $p" || kill -KILL "$p" 2>/dev/null || true
  done
  net_cleanup_root
  # Unmount anything still mounted below the state dir (deepest first).
  local m
  if [[ -d "$LAB_STATE" ]]; then
    while read -r m; do
      [[ -n "$m" ]] || continue
      umount -l "$m" 2>/dev/null || log "warning: could not unmount $m"
    done < <(findmnt -rn -o TARGET | grep "^$LAB_STATE/" | sort -r)
  fi
  cgroup_rmtree "$(cgroup2_root)/$LAB_CGROUP_NAME"
  # nspawn's per-machine propagation dirs survive a killed nspawn; drop if empty.
  for name in "${LAB_HOSTS[@]}"; do rmdir "/run/systemd/nspawn/propagate/$name" 2>/dev/null || true; done
  # Booted rootfs copies and runtime files go; keys (ssh/) and logs stay.
  rm -rf --one-file-system "$LAB_STATE/machines" "$LAB_STATE/run"
  log "down: done (cache kept in $LAB_CACHE, keys in $SSH_DIR)"
}

cmd_purge() { cmd_down; rm -rf --one-file-system "$LAB_STATE"; log "purged $LAB_STATE"; }

cmd_status() {
  local name rc=0
  for name in "${LAB_HOSTS[@]}"; do
    if host_running "$name"; then
      local ssh_ok=no link=missing
      # shellcheck disable=SC2046
      ssh $(ssh_opts) "root@$(host_ip "$name")" true 2>/dev/null && ssh_ok=yes
      link_present "$name" && link="$(host_link_ifs "$name" | tr ' ' ,) present"
      printf '%-7s running  nspawn-pid=%s leader=%s mgmt=%s ssh=%s link=%s\n' "$name" \
        "$(host_nspawn_pid "$name")" "$(host_leader "$name" || echo '?')" "$(host_ip "$name")" "$ssh_ok" "$link"
    else
      printf '%-7s stopped\n' "$name"; rc=3
    fi
  done
  return $rc
}

cmd_ssh() {
  local name=${1:?usage: hosts.sh ssh <host> [cmd...]}; shift
  check_host "$name"
  local user=${LAB_SSH_USER:-$(host_user "$name")}
  # shellcheck disable=SC2046
  exec ssh $(ssh_opts) "$user@$(host_ip "$name")" "$@"
}

# Stop (freeze) or resume (thaw) every process of a running host through its cgroup2
# group: a hung switch, FRR and sshd included. Its kernel goes on forwarding.
cmd_freeze() {
  local name=${1:?usage: hosts.sh freeze|thaw <host>} state=${2:-1}
  check_host "$name"
  host_running "$name" || die "$name is not running"
  echo "$state" >"$(host_cgroup "$name")/cgroup.freeze"
}

cmd_reboot() {
  require_root
  local name=${1:?usage: hosts.sh reboot <host>}
  check_host "$name"
  [[ -d "$(host_root "$name")" ]] || die "$name: no rootfs at $(host_root "$name"); run 'up' first"
  stop_host "$name"
  customise_rootfs "$name" "$(host_root "$name")"
  boot_host "$name"
  link_repair
  switch_port_up
  wait_ssh "$name"
}

# Facts the tests need (JSON): addresses, users, key paths, host keys.
cmd_info() {
  local name first=1
  printf '{\n  "sshKey": "%s",\n  "knownHosts": "%s",\n  "hosts": {\n' "$SSH_KEY" "$KNOWN_HOSTS"
  for name in "${LAB_HOSTS[@]}"; do
    ((first)) || printf ',\n'; first=0
    printf '    "%s": {"address": "%s", "user": "%s", "linkInterfaces": "%s", "hostKey": "%s", "hostKeyFile": "%s"}' \
      "$name" "$(host_ip "$name")" "$(host_user "$name")" "$(host_link_ifs "$name")" \
      "$(cut -d' ' -f1,2 "$(host_hostkey_pub "$name")" 2>/dev/null)" "$(host_hostkey_pub "$name")"
  done
  printf '\n  }\n}\n'
}

# Serialise up/down/reboot (e.g. parallel test runs).
take_lock() { mkdir -p "$LAB_STATE"; exec 9>"$LAB_STATE/.lock"; flock -w 600 9 || die "could not lock $LAB_STATE/.lock"; }

main() {
  local cmd=${1:-}; shift || true
  case "$cmd" in up|down|purge|reboot|cache|nested-image) require_root; take_lock ;; esac
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    purge) cmd_purge "$@" ;;
    status) cmd_status "$@" ;;
    ssh) cmd_ssh "$@" ;;
    reboot) cmd_reboot "$@" ;;
    freeze) require_root; cmd_freeze "${1:-}" 1 ;;
    thaw) require_root; cmd_freeze "${1:-}" 0 ;;
    cache) require_root; ensure_cache base tor ;;
    nested-image) require_root; build_nested_image ;;
    info) cmd_info ;;
    -h|--help|help) usage ;;
    *) usage >&2; die "unknown command '${cmd}'" ;;
  esac
}
main "$@"
