# shellcheck shell=bash
# shellcheck disable=SC2034  # variables used by the other lib files
# Common settings and helpers for the frr-nspawn local lab.
# Sourced by lab/hosts.sh; not meant to be run directly.

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$LAB_DIR/.." && pwd)"

# --- configuration (override via environment) -------------------------------
# Running state: booted rootfs copies, keys, pids, logs.
LAB_STATE="${LAB_STATE:-/var/tmp/frr-nspawn-lab}"
# Cache of debootstrapped rootfs tarballs (kept by `down`).
LAB_CACHE="${LAB_CACHE:-/var/cache/frr-nspawn/lab}"
# Debian suite for all rootfs images.
LAB_SUITE="${LAB_SUITE:-bookworm}"
# Debian mirror; default: read from this machine's own apt sources.
LAB_MIRROR="${LAB_MIRROR:-}"
# Seconds to wait for a host to answer SSH after boot.
LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-120}"

LAB_HOSTS=(coreos tor)
SSH_DIR="$LAB_STATE/ssh"
SSH_KEY="$SSH_DIR/id_ed25519"
KNOWN_HOSTS="$SSH_DIR/known_hosts"
# cgroup2 (hybrid layout: /sys/fs/cgroup/unified; pure v2: /sys/fs/cgroup)
LAB_CGROUP_NAME="frr-nspawn-lab"

# --- per-host facts ----------------------------------------------------------
host_index() { case "$1" in coreos) echo 1 ;; tor) echo 2 ;; *) die "unknown host '$1' (known: ${LAB_HOSTS[*]})" ;; esac; }
host_user() { case "$1" in coreos) echo core ;; tor) echo cumulus ;; esac; }
host_flavor() { case "$1" in coreos) echo base ;; tor) echo tor ;; esac; }
# Name of the point-to-point "link" interface inside the host.
host_link_if() { case "$1" in coreos) echo ens3 ;; tor) echo swp1 ;; esac; }
host_peer() { case "$1" in coreos) echo tor ;; tor) echo coreos ;; esac; }
host_ip() { echo "10.254.$(host_index "$1").2"; }      # container side (host0)
host_gw_ip() { echo "10.254.$(host_index "$1").1"; }   # root-netns side (ve-<name>)
host_veth() { echo "ve-$1"; }                          # what nspawn --network-veth names it
host_root() { echo "$LAB_STATE/machines/$1"; }
host_pidfile() { echo "$LAB_STATE/run/$1.pid"; }
host_log() { echo "$LAB_STATE/log/$1.log"; }
host_hostkey_pub() { echo "$SSH_DIR/hostkeys/$1/ssh_host_ed25519_key.pub"; }

# --- logging -----------------------------------------------------------------
log() { printf '[lab %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }
# On any unexpected failure, say which command/line failed.
trap_err() {
  local rc=$? cmd=$BASH_COMMAND
  printf '[lab] FAILED (exit %s) at %s:%s: %s\n' "$rc" "${BASH_SOURCE[1]:-?}" "${BASH_LINENO[0]:-?}" "$cmd" >&2
}

require_root() { [[ $EUID -eq 0 ]] || die "must run as root"; }
require_cmds() {
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  ((${#missing[@]} == 0)) || die "missing commands: ${missing[*]} (apt-get install debootstrap systemd-container openssh-client iproute2 zstd)"
}

# Debian mirror URL from the machine's apt sources (deb822 first, then
# one-line format). Never hardcoded.
# A suite the sources do not list (trixie, sid on a bookworm machine) is served by the
# same Debian mirror as this machine's own release (VERSION_CODENAME).
detect_mirror() {
  [[ -n "$LAB_MIRROR" ]] && { echo "$LAB_MIRROR"; return; }
  local suite url=""
  for suite in "$LAB_SUITE" "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"; do
    [[ -n "$suite" ]] || continue
    url="$(mirror_for_suite "$suite")"
    [[ -n "$url" ]] && break
  done
  [[ -n "$url" ]] || die "could not find a Debian mirror for '$LAB_SUITE' in /etc/apt/sources.list{,.d/*.sources}; set LAB_MIRROR"
  echo "$url"
}

mirror_for_suite() {
  local LAB_SUITE=$1 f url=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] || continue
    # deb822 stanzas separated by blank lines; pick the one whose Suites has
    # the plain suite (not -security) and Types has deb.
    url="$(awk -v suite="$LAB_SUITE" '
      BEGIN { RS=""; FS="\n" }
      {
        uris=""; suites=""; types=""
        for (i=1;i<=NF;i++) {
          if ($i ~ /^URIs:/)   { sub(/^URIs:[ \t]*/,"",$i); uris=$i }
          if ($i ~ /^Suites:/) { sub(/^Suites:[ \t]*/,"",$i); suites=" " $i " " }
          if ($i ~ /^Types:/)  { types=$i }
        }
        if (types ~ /deb( |$)/ && index(suites, " " suite " ") && uris != "") { split(uris,u," "); print u[1]; exit }
      }' "$f")"
    [[ -n "$url" ]] && break
  done
  if [[ -z "$url" && -r /etc/apt/sources.list ]]; then
    url="$(awk -v suite="$LAB_SUITE" '$1=="deb" { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1)==suite) { print $i; exit } } }' /etc/apt/sources.list)"
  fi
  echo "$url"
}

# Wait until "$@" succeeds or $timeout seconds pass. Usage: wait_for 30 cmd args
wait_for() {
  local timeout=$1; shift
  local end=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || return 1
    sleep 0.5
  done
}
