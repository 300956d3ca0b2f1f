# shellcheck shell=bash
# Start / stop lab hosts as booted systemd-nspawn containers.
# PID 1 of this machine is not systemd (no system bus), so nspawn runs with
# --register=no --keep-unit, in the background under setsid, with its own
# cgroup2 subtree (so the two container systemds don't share a cgroup).

# cgroup2 mount: hybrid layout has it at /sys/fs/cgroup/unified.
cgroup2_root() {
  if [[ -f /sys/fs/cgroup/unified/cgroup.procs ]]; then echo /sys/fs/cgroup/unified
  elif [[ -f /sys/fs/cgroup/cgroup.procs && "$(stat -fc %T /sys/fs/cgroup)" == cgroup2fs ]]; then echo /sys/fs/cgroup
  else die "no cgroup2 hierarchy found (needed for SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1)"; fi
}
declare -A BOOT_T0=()   # per host: when start_host launched nspawn
host_cgroup() { echo "$(cgroup2_root)/$LAB_CGROUP_NAME/$1"; }

# Remove a cgroup directory tree bottom-up (only empty cgroups can go).
cgroup_rmtree() {
  local cg=$1
  [[ -d "$cg" ]] || return 0
  find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  [[ ! -d "$cg" ]] || log "warning: could not remove cgroup $cg (processes left?)"
}

# PID of the nspawn supervisor for <name> (empty + rc 1 if not running).
host_nspawn_pid() {
  local pf; pf="$(host_pidfile "$1")"
  [[ -f "$pf" ]] || return 1
  local pid; pid="$(<"$pf")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "systemd-nspawn.* -M $1 " || return 1
  echo "$pid"
}
host_running() { host_nspawn_pid "$1" >/dev/null; }

# PID (in the root pid ns) of the container's PID 1 (systemd): the descendant
# of the nspawn process whose NSpid ends in "1".
host_leader() {
  local pid; pid="$(host_nspawn_pid "$1")" || return 1
  local queue=("$pid") p c
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
      if awk '/^NSpid:/ { exit !(NF > 2 && $NF == 1) }' "/proc/$c/status" 2>/dev/null; then echo "$c"; return 0; fi
      queue+=("$c")
    done
  done
  return 1
}

# Boot <name> in the background. $2: the link ends to move into it, as
# link_prepare_for_start prints them ("<root-netns name> <name inside>" lines).
# NOTE: nspawn's own --network-interface= refuses interfaces that udev has not
# "initialized" ("Network interface ens3 is not initialized yet") and this
# machine runs no udevd, so the interfaces are moved right after the container's
# PID 1 appears instead (`ip link set dev IF netns LEADER`, then renamed inside),
# i.e. before its systemd has got far into boot.
start_host() {
  local name=$1 links=${2:-}
  if host_running "$name"; then log "$name: already running (pid $(host_nspawn_pid "$name"))"; return 0; fi
  local root log pf cg
  root="$(host_root "$name")"; log="$(host_log "$name")"; pf="$(host_pidfile "$name")"; cg="$(host_cgroup "$name")"
  mkdir -p "$(dirname "$log")" "$(dirname "$pf")" "$cg"
  local args=(--boot --register=no --keep-unit --capability=all --network-veth
              --console=read-only --link-journal=no -D "$root" -M "$name")
  log "$name: booting (log: $log)"
  BOOT_T0[$name]=$EPOCHREALTIME
  echo "=== $(date -Is) systemd-nspawn ${args[*]}" >>"$log"
  # The child puts itself into its own cgroup2 group, records its pid, then
  # becomes systemd-nspawn (same pid). fd 9 (our lock) is closed for it, or
  # the long-lived nspawn would hold the lab lock forever.
  setsid bash -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2" && shift 2 &&
                  exec env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn "$@"' \
    lab-start "$cg" "$pf" "${args[@]}" </dev/null >>"$log" 2>&1 9>&- &
  # Wait for the container's PID 1 to show up.
  if ! wait_for 30 host_leader "$name"; then
    tail -n 20 "$log" >&2
    die "$name: systemd-nspawn did not start a container (see $log)"
  fi
  local tmp inside leader; leader="$(host_leader "$name")"
  while read -r tmp inside; do
    [[ -n "$tmp" ]] || continue
    ip link set dev "$tmp" netns "$leader" || die "$name: could not move $tmp into the container's netns"
    nsenter -t "$leader" -n -- ip link set dev "$tmp" name "$inside" || die "$name: could not rename $tmp to $inside"
    log "$name: moved $inside into its netns"
  done <<<"$links"
}

# Poweroff <name>: SIGRTMIN+4 to the container's systemd = `systemctl poweroff`.
# Falls back to SIGTERM / SIGKILL on the nspawn supervisor.
stop_host() {
  local name=$1 pid leader
  if pid="$(host_nspawn_pid "$name")"; then
    if leader="$(host_leader "$name")"; then
      log "$name: poweroff (SIGRTMIN+4 to container PID 1 = $leader)"
      kill -s RTMIN+4 "$leader" 2>/dev/null || true
    fi
    if ! wait_for 60 bash -c "! kill -0 $pid"; then
      log "$name: did not power off in 60s; SIGTERM to nspawn $pid"
      kill -TERM "$pid" 2>/dev/null || true
      if ! wait_for 15 bash -c "! kill -0 $pid"; then
        log "$name: SIGKILL to nspawn $pid"
        kill -KILL "$pid" 2>/dev/null || true
        wait_for 10 bash -c "! kill -0 $pid" || die "$name: nspawn pid $pid will not die"
      fi
    fi
  fi
  rm -f "$(host_pidfile "$name")"
  # Kill anything left in the host's cgroup (e.g. after SIGKILL of nspawn).
  local cg; cg="$(host_cgroup "$name")"
  if [[ -d "$cg" ]]; then
    local procs
    procs="$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' ')"
    if [[ -n "${procs// /}" ]]; then
      log "$name: killing leftover processes: $procs"
      # shellcheck disable=SC2086
      kill -KILL $procs 2>/dev/null || true
      sleep 1
    fi
    cgroup_rmtree "$cg"
  fi
}

# nspawn processes of this lab whose pidfile is gone (e.g. state dir wiped):
# matched by their -D argument below $LAB_STATE/machines/.
orphan_nspawn_pids() {
  local d cmd
  for d in /proc/[0-9]*; do
    cmd="$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)" || continue
    [[ "$cmd" == systemd-nspawn*" -D $LAB_STATE/machines/"* ]] && echo "${d#/proc/}"
  done
  return 0
}

ssh_opts() {
  echo -i "$SSH_KEY" -o IdentitiesOnly=yes -o UserKnownHostsFile="$KNOWN_HOSTS" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=3 -o LogLevel=ERROR
}

# Wait until root can log in over SSH on the management address.
wait_ssh() {
  local name=$1
  # shellcheck disable=SC2046
  if ! wait_for "$LAB_BOOT_TIMEOUT" ssh $(ssh_opts) "root@$(host_ip "$name")" true; then
    tail -n 30 "$(host_log "$name")" >&2
    die "$name: SSH on $(host_ip "$name"):22 did not answer within ${LAB_BOOT_TIMEOUT}s (see $(host_log "$name"))"
  fi
  if [[ -n "${BOOT_T0[$name]:-}" ]]; then
    log "$name: SSH answers on $(host_ip "$name"):22 ($(awk -v a="${BOOT_T0[$name]}" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')s after nspawn start)"
  else
    log "$name: SSH answers on $(host_ip "$name"):22"
  fi
}
