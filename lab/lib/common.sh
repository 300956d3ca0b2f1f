# shellcheck shell=bash
# shellcheck disable=SC2034  # variables used by the other lib files
# Common settings and helpers for the frr-nspawn local lab.
# Sourced by lab/hosts.sh; not meant to be run directly.

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$LAB_DIR/.." && pwd)"

# --- configuration (override via environment) -------------------------------
# Which hosts and links: "seed" (coreos and tor, one link) or "rack" (hosts h1 and h2,
# each cabled to both TORs t1 and t2).
LAB_TOPOLOGY="${LAB_TOPOLOGY:-seed}"
case "$LAB_TOPOLOGY" in seed|rack) ;; *) printf '[lab] ERROR: LAB_TOPOLOGY=%s: use seed or rack\n' "$LAB_TOPOLOGY" >&2; exit 1 ;; esac
# Running state: booted rootfs copies, keys, pids, logs (one directory per topology, so
# the two labs never share a host, a key or a veth).
if [[ $LAB_TOPOLOGY == seed ]]; then LAB_STATE="${LAB_STATE:-/var/tmp/frr-nspawn-lab}"
else LAB_STATE="${LAB_STATE:-/var/tmp/frr-nspawn-lab-$LAB_TOPOLOGY}"; fi
# Cache of debootstrapped rootfs tarballs (kept by `down`).
LAB_CACHE="${LAB_CACHE:-/var/cache/frr-nspawn/lab}"
# Debian suite for all rootfs images.
LAB_SUITE="${LAB_SUITE:-bookworm}"
# Debian mirror; default: read from this machine's own apt sources.
LAB_MIRROR="${LAB_MIRROR:-}"
# Seconds to wait for a host to answer SSH after boot.
LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-120}"

# The topology: hosts (index = management /30, flavour, login user) and links. A link is
# "<host>:<interface> <host>:<interface>", one veth pair; a TOR's interfaces are swpN.
declare -A HOST_INDEX=() HOST_FLAVOR=() TOR_ROUTER_ID=()
if [[ $LAB_TOPOLOGY == seed ]]; then
  LAB_HOSTS=(coreos tor)
  HOST_INDEX=([coreos]=1 [tor]=2)
  HOST_FLAVOR=([coreos]=base [tor]=tor)
  TOR_ROUTER_ID=([tor]=10.255.0.2)
  LAB_LINKS=("coreos:ens3 tor:swp1")
else
  LAB_HOSTS=(h1 h2 t1 t2)
  HOST_INDEX=([h1]=11 [h2]=12 [t1]=13 [t2]=14)
  HOST_FLAVOR=([h1]=base [h2]=base [t1]=tor [t2]=tor)
  TOR_ROUTER_ID=([t1]=10.255.0.2 [t2]=10.255.0.3)
  LAB_LINKS=("h1:ens3 t1:swp1" "h1:ens4 t2:swp1" "h2:ens3 t1:swp2" "h2:ens4 t2:swp2")
fi
SSH_DIR="$LAB_STATE/ssh"
SSH_KEY="$SSH_DIR/id_ed25519"
KNOWN_HOSTS="$SSH_DIR/known_hosts"
# cgroup2 (hybrid layout: /sys/fs/cgroup/unified; pure v2: /sys/fs/cgroup)
LAB_CGROUP_NAME="frr-nspawn-lab"
[[ $LAB_TOPOLOGY == seed ]] || LAB_CGROUP_NAME="frr-nspawn-lab-$LAB_TOPOLOGY"

# --- per-host facts ----------------------------------------------------------
host_index() { [[ -n "${HOST_INDEX[$1]:-}" ]] || die "unknown host '$1' (known: ${LAB_HOSTS[*]})"; echo "${HOST_INDEX[$1]}"; }
host_flavor() { echo "${HOST_FLAVOR[$1]}"; }
host_user() { case "$(host_flavor "$1")" in base) echo core ;; tor) echo cumulus ;; esac; }
# One line per link of host $1: "<link number> <its interface> <peer> <peer's interface>".
host_links() {
  local i a b
  for i in "${!LAB_LINKS[@]}"; do
    read -r a b <<<"${LAB_LINKS[$i]}"
    if [[ ${a%%:*} == "$1" ]]; then echo "$i ${a#*:} ${b%%:*} ${b#*:}"; fi
    if [[ ${b%%:*} == "$1" ]]; then echo "$i ${b#*:} ${a%%:*} ${a#*:}"; fi
  done
}
# The link interfaces inside host $1, space-separated (ens3, or ens3 ens4, or swp1 swp2).
host_link_ifs() { host_links "$1" | awk '{print $2}' | paste -sd' '; }
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
