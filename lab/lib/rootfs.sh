# shellcheck shell=bash
# Rootfs images: build (cold: debootstrap) and cache tarballs, then unpack
# per-host copies and customise them (hostname, users, keys, network).

# Packages every lab host gets (on top of debootstrap's minbase).
BASE_INCLUDE="systemd,systemd-sysv,systemd-container,dbus,openssh-server,iproute2,sudo,iputils-ping,procps,less,tar,gzip,xz-utils,kmod,curl,ca-certificates"
# Extra packages for the "tor" flavour (installed into a copy of base).
TOR_PACKAGES=(frr frr-pythontools)

# Cache file names carry a short hash of what goes into the image, so changing
# the package lists (or suite) rebuilds instead of reusing a stale tarball.
cache_key() {
  case "$1" in
    base) echo "$LAB_SUITE|$BASE_INCLUDE" ;;
    tor) echo "$LAB_SUITE|$BASE_INCLUDE|${TOR_PACKAGES[*]}" ;;
  esac | md5sum | cut -c1-8
}
cache_tarball() { echo "$LAB_CACHE/$1-$LAB_SUITE-$(cache_key "$1").tar.zst"; }

# Pack a directory into a zstd tarball atomically (tmp file + rename).
# Keeps numeric owners and xattrs (ping's file capabilities live there).
pack_dir() {
  local dir=$1 out=$2
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$dir" -cf - . | zstd -q -T0 -3 -o "$out.tmp" -f
  mv -f "$out.tmp" "$out"
}
unpack_into() {
  local tarball=$1 dir=$2
  mkdir -p "$dir"
  zstd -q -dc "$tarball" | tar --numeric-owner --xattrs --xattrs-include='*' -C "$dir" -xf -
}

# Remove a build directory safely: unmount whatever is still mounted below it (deepest
# first), and never cross into another filesystem (a bind of the host's /dev or /sys
# left mounted must never be emptied).
remove_build_dir() {
  local dir=$1 m
  [[ -e "$dir" ]] || return 0
  while read -r m; do
    [[ -n "$m" ]] || continue
    umount "$m" 2>/dev/null || umount -l "$m" || die "cannot unmount $m; remove $dir by hand"
  done < <(findmnt -rn -o TARGET | awk -v d="$dir" '$0 == d || index($0, d "/") == 1' | sort -r)
  rm -rf --one-file-system "$dir"
}

# Cache builds are serialised: two builders of one cache directory would remove each
# other's build directories while they are mounted.
lock_cache() {
  mkdir -p "$LAB_CACHE"
  exec 7>"$LAB_CACHE/.build.lock"
  flock -w 1800 7 || die "another cache build held $LAB_CACHE/.build.lock for 30 minutes"
}

# Run a command in a chroot with /proc,/sys,/dev bound; always unmounts.
with_chroot() {
  local root=$1; shift
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys"
  mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"
  local rc=0
  chroot "$root" "$@" || rc=$?
  umount -R "$root/dev" || umount -lR "$root/dev" || true
  umount -R "$root/sys" || umount -lR "$root/sys" || true
  umount "$root/proc" || umount -l "$root/proc" || true
  return $rc
}

# Cold path: debootstrap the base image. On failure, see $LAB_CACHE/debootstrap-base.log
# (and the rootfs's debootstrap/debootstrap.log if it got that far).
build_base_cache() {
  local out; out="$(cache_tarball base)"
  [[ -s "$out" ]] && { log "cache hit: $out"; return 0; }
  local mirror tmp
  mirror="$(detect_mirror)"
  tmp="$LAB_CACHE/build-base"
  remove_build_dir "$tmp"; mkdir -p "$LAB_CACHE"
  log "cold build: debootstrap $LAB_SUITE (minbase), then apt-get install $BASE_INCLUDE -> $out (log: $LAB_CACHE/debootstrap-base.log)"
  # Packages come with apt-get, not --include: debootstrap (bookworm's) cannot order
  # trixie's systemd pre-dependency (libsystemd-shared) and fails.
  if ! debootstrap --variant=minbase "$LAB_SUITE" "$tmp" "$mirror" >"$LAB_CACHE/debootstrap-base.log" 2>&1; then
    tail -n 30 "$LAB_CACHE/debootstrap-base.log" >&2
    [[ -f "$tmp/debootstrap/debootstrap.log" ]] && tail -n 30 "$tmp/debootstrap/debootstrap.log" >&2
    die "debootstrap failed (full log: $LAB_CACHE/debootstrap-base.log)"
  fi
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"; chmod +x "$tmp/usr/sbin/policy-rc.d"
  local aptopts=(-o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false -o Dpkg::Use-Pty=0)
  if ! with_chroot "$tmp" env DEBIAN_FRONTEND=noninteractive sh -c \
      "apt-get ${aptopts[*]} update && apt-get ${aptopts[*]} install -y --no-install-recommends ${BASE_INCLUDE//,/ } && apt-get clean" \
      >>"$LAB_CACHE/debootstrap-base.log" 2>&1; then
    tail -n 30 "$LAB_CACHE/debootstrap-base.log" >&2
    die "installing the base packages failed (full log: $LAB_CACHE/debootstrap-base.log)"
  fi
  rm -f "$tmp/usr/sbin/policy-rc.d"
  # Generic (not per-host) tweaks baked into the cache:
  rm -f "$tmp"/etc/ssh/ssh_host_*            # per-host keys are installed later
  : >"$tmp/etc/machine-id"                   # per-host machine-id set later
  # systemd-networkd configures host0 (management) inside the container.
  systemctl --root="$tmp" enable systemd-networkd.service >/dev/null 2>&1 || die "enable systemd-networkd in image failed"
  # Only host0 is managed by networkd; ens3/swp1 are left alone for the code under test.
  rm -f "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages 2>/dev/null || true
  pack_dir "$tmp" "$out"
  remove_build_dir "$tmp"
  log "cached $(du -h "$out" | cut -f1) $out"
}

# tor = base + Debian's frr packages (apt-get inside a chroot of a base copy).
build_tor_cache() {
  local out; out="$(cache_tarball tor)"
  [[ -s "$out" ]] && { log "cache hit: $out"; return 0; }
  build_base_cache
  local tmp="$LAB_CACHE/build-tor"
  remove_build_dir "$tmp"
  unpack_into "$(cache_tarball base)" "$tmp"
  log "cold build: installing ${TOR_PACKAGES[*]} into tor image (log: $LAB_CACHE/build-tor.log)"
  mv "$tmp/etc/resolv.conf" "$tmp/etc/resolv.conf.orig" 2>/dev/null || true
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  # Don't start services inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"; chmod +x "$tmp/usr/sbin/policy-rc.d"
  local aptopts=(-o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false -o Dpkg::Use-Pty=0)
  if ! with_chroot "$tmp" env DEBIAN_FRONTEND=noninteractive sh -c \
      "apt-get ${aptopts[*]} update && apt-get ${aptopts[*]} install -y --no-install-recommends ${TOR_PACKAGES[*]} && apt-get clean" \
      >"$LAB_CACHE/build-tor.log" 2>&1; then
    tail -n 30 "$LAB_CACHE/build-tor.log" >&2
    die "installing ${TOR_PACKAGES[*]} failed (full log: $LAB_CACHE/build-tor.log)"
  fi
  rm -f "$tmp/usr/sbin/policy-rc.d" "$tmp"/var/lib/apt/lists/*_Packages 2>/dev/null || true
  rm -f "$tmp/etc/resolv.conf"; mv "$tmp/etc/resolv.conf.orig" "$tmp/etc/resolv.conf" 2>/dev/null || true
  : >"$tmp/etc/machine-id"
  pack_dir "$tmp" "$out"
  remove_build_dir "$tmp"
  log "cached $(du -h "$out" | cut -f1) $out"
}

ensure_cache() {
  local flavor
  lock_cache
  for flavor in "$@"; do
    case "$flavor" in
      base) build_base_cache ;;
      tor) build_tor_cache ;;
      *) die "unknown image flavour '$flavor'" ;;
    esac
  done
}

# Tiny systemd image for the nested machine inside coreos (gzip tarball, as
# `machinectl import-tar` wants). Derived from the base cache: no sshd, no
# networkd (it shares coreos's netns), own hostname. Prints its path.
build_nested_image() {
  local out
  out="$LAB_CACHE/nested-$LAB_SUITE-$(cache_key base).tar.gz"
  if [[ ! -s "$out" ]]; then
    lock_cache
    build_base_cache
    local tmp="$LAB_CACHE/build-nested"
    remove_build_dir "$tmp"
    unpack_into "$(cache_tarball base)" "$tmp"
    systemctl --root="$tmp" disable systemd-networkd.service ssh.service >/dev/null 2>&1 || true
    systemctl --root="$tmp" mask ssh.service systemd-networkd.service systemd-networkd.socket >/dev/null 2>&1 || true
    echo frr >"$tmp/etc/hostname"
    : >"$tmp/etc/machine-id"
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$tmp" -czf "$out.tmp" .
    mv -f "$out.tmp" "$out"
    remove_build_dir "$tmp"
    log "built nested test image $(du -h "$out" | cut -f1) $out"
  fi
  echo "$out"
}

# --- per-host rootfs copy ----------------------------------------------------

# Client key used for all lab SSH (generated once, kept by `down`).
ensure_client_key() {
  mkdir -p "$SSH_DIR"; chmod 700 "$SSH_DIR"
  [[ -f "$SSH_KEY" ]] || ssh-keygen -q -t ed25519 -N '' -C "frr-nspawn-lab" -f "$SSH_KEY"
}

# Per-host ed25519 host key, generated once and kept in the state dir so the
# known_hosts / hostKey stay stable across down/up.
ensure_host_key() {
  local name=$1 d="$SSH_DIR/hostkeys/$1"
  mkdir -p "$d"
  [[ -f "$d/ssh_host_ed25519_key" ]] || ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$d/ssh_host_ed25519_key"
}

write_known_hosts() {
  local name tmp="$KNOWN_HOSTS.tmp"
  : >"$tmp"
  for name in "${LAB_HOSTS[@]}"; do
    [[ -f "$(host_hostkey_pub "$name")" ]] || continue
    # known_hosts line: "<addr> <type> <base64>" (comment dropped)
    echo "$(host_ip "$name") $(cut -d' ' -f1,2 "$(host_hostkey_pub "$name")")" >>"$tmp"
  done
  mv -f "$tmp" "$KNOWN_HOSTS"
}

# Unpack the cached image for <name> (unless a copy already exists: it is
# persistent across `reboot`) and apply the per-host customisation.
prepare_rootfs() {
  local name=$1 root; root="$(host_root "$name")"
  if [[ ! -x "$root/sbin/init" && ! -L "$root/sbin/init" ]]; then
    log "$name: unpacking $(cache_tarball "$(host_flavor "$name")") -> $root"
    rm -rf --one-file-system "$root"
    unpack_into "$(cache_tarball "$(host_flavor "$name")")" "$root"
  fi
  customise_rootfs "$name" "$root"
}

customise_rootfs() {
  local name=$1 root=$2 user; user="$(host_user "$name")"
  # Identity: unique hostname + deterministic machine-id.
  echo "$name" >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$name" >"$root/etc/hosts"
  printf '%s' "frr-nspawn-lab-$name" | md5sum | cut -c1-32 >"$root/etc/machine-id"

  # Management address on host0 (container side of --network-veth).
  mkdir -p "$root/etc/systemd/network"
  cat >"$root/etc/systemd/network/10-lab-host0.network" <<NET
# frr-nspawn lab: static management address (root netns side: $(host_gw_ip "$name")/30 on $(host_veth "$name"))
[Match]
Name=host0

[Network]
Address=$(host_ip "$name")/30
DHCP=no
LinkLocalAddressing=ipv6
NET

  # Login user with passwordless sudo, key-only SSH (root key login too).
  if ! chroot "$root" id "$user" >/dev/null 2>&1; then
    chroot "$root" useradd -m -s /bin/bash -G sudo "$user" || die "$name: useradd $user failed"
  fi
  echo "$user ALL=(ALL) NOPASSWD:ALL" >"$root/etc/sudoers.d/90-lab-$user"
  chmod 440 "$root/etc/sudoers.d/90-lab-$user"
  local home uid gid
  home="$(chroot "$root" getent passwd "$user" | cut -d: -f6)"
  uid="$(chroot "$root" id -u "$user")"; gid="$(chroot "$root" id -g "$user")"
  install -d -m 700 -o "$uid" -g "$gid" "$root$home/.ssh"
  install -m 600 -o "$uid" -g "$gid" "$SSH_KEY.pub" "$root$home/.ssh/authorized_keys"
  install -d -m 700 "$root/root/.ssh"
  install -m 600 "$SSH_KEY.pub" "$root/root/.ssh/authorized_keys"

  # sshd: only our pinned ed25519 host key, keys only.
  install -m 600 "$SSH_DIR/hostkeys/$name/ssh_host_ed25519_key" "$root/etc/ssh/ssh_host_ed25519_key"
  install -m 644 "$SSH_DIR/hostkeys/$name/ssh_host_ed25519_key.pub" "$root/etc/ssh/ssh_host_ed25519_key.pub"
  mkdir -p "$root/etc/ssh/sshd_config.d"
  cat >"$root/etc/ssh/sshd_config.d/10-lab.conf" <<'SSHD'
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
SSHD
  if [[ $(host_flavor "$name") == tor ]]; then customise_tor "$name" "$root"; fi
}

# The tor stands in for a Cumulus switch: `net` and `nv` test doubles (lab/standins,
# installed on every boot so that a changed double takes effect), and config of its own
# that no TorCumulus may touch (a spine neighbour and its route-map), written once.
# FRR runs with Cumulus's `datacenter` defaults, as on a Cumulus switch.
customise_tor() {
  local name=$1 root=$2
  install -D -m 755 "$LAB_DIR/standins/cumulus-standin" "$root/usr/local/lib/frr-nspawn-lab/cumulus-standin"
  ln -sfn ../lib/frr-nspawn-lab/cumulus-standin "$root/usr/local/bin/net"
  ln -sfn ../lib/frr-nspawn-lab/cumulus-standin "$root/usr/local/bin/nv"
  mkdir -p "$root/etc/frr-nspawn-lab"
  [[ -f "$root/etc/frr-nspawn-lab/cumulus-version" ]] || echo 5.9 >"$root/etc/frr-nspawn-lab/cumulus-version"
  # A switch routes between its ports (the rack's hosts reach each other through it).
  printf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n' >"$root/etc/sysctl.d/90-lab-switch.conf"
  [[ ! -f "$root/etc/frr-nspawn-lab/own-config" ]] || return 0
  sed -i 's/^bgpd=no$/bgpd=yes/' "$root/etc/frr/daemons"
  # BFD is the platform's on Cumulus Linux up to 5.9 (ptmd runs it; `neighbor swp1 bfd` is
  # all the cumulus-linux-44 and -59 BFD pages ask for): FRR's bfdd stands in for ptmd.
  sed -i 's/^bfdd=no$/bfdd=yes/' "$root/etc/frr/daemons"
  # Cumulus's defaults (frr.conf's `frr defaults` line below says so too; this is -F).
  if grep -q '^#\?frr_profile=' "$root/etc/frr/daemons"; then
    sed -i '0,/^#\?frr_profile=.*/s//frr_profile="datacenter"/' "$root/etc/frr/daemons"
  else
    echo 'frr_profile="datacenter"' >>"$root/etc/frr/daemons"
  fi
  cat >"$root/etc/frr/frr.conf" <<FRR
frr defaults datacenter
hostname $name
log syslog informational
service integrated-vtysh-config
!
router bgp 65000
 bgp router-id ${TOR_ROUTER_ID[$name]}
 neighbor 192.0.2.254 remote-as 65100
 neighbor 192.0.2.254 description spine01
 !
 address-family ipv4 unicast
  neighbor 192.0.2.254 route-map SPINE-IN in
 exit-address-family
exit
!
route-map SPINE-IN permit 10
 set local-preference 200
exit
!
FRR
  chroot "$root" chown frr:frr /etc/frr/frr.conf
  touch "$root/etc/frr-nspawn-lab/own-config"
}
