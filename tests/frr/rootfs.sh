#!/usr/bin/env bash
# Builds (once) and prints the path of a cached FRR rootfs tarball for the tests in
# tests/frr: `debootstrap --variant=minbase SUITE`, then frr and frr-pythontools from apt, packed as
# /var/cache/frr-nspawn/frr/frr-SUITE-<key>.tar.zst ($FRR_ROOTFS_CACHE), outside the checkout so
# that every clone on this machine (CI's too) reuses it. The mirror is the
# one this machine's apt sources use (lab/lib/common.sh detect_mirror). Needs root.
# Usage: tests/frr/rootfs.sh SUITE
set -euo pipefail
SUITE=${1:?usage: tests/frr/rootfs.sh SUITE}
LAB_SUITE=$SUITE
# shellcheck source=../../lab/lib/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../lab/lib" && pwd)/common.sh"
PACKAGES=(frr frr-pythontools iproute2)
CACHE="${FRR_ROOTFS_CACHE:-/var/cache/frr-nspawn/frr}"
key=$(echo "$SUITE|${PACKAGES[*]}" | md5sum | cut -c1-8)
out="$CACHE/frr-$SUITE-$key.tar.zst"
if [[ -s "$out" ]]; then
  echo "$out"
  exit 0
fi
require_root
require_cmds debootstrap zstd tar
mkdir -p "$CACHE"
exec 8>"$CACHE/.build-$SUITE.lock"
flock 8
if [[ -s "$out" ]]; then
  echo "$out"
  exit 0
fi
tmp="$CACHE/build-$SUITE"
rm -rf "$tmp"
log "cold build: debootstrap $SUITE (minbase), then apt-get install ${PACKAGES[*]} -> $out (log: $CACHE/build-$SUITE.log)"
# debootstrap's --include cannot order systemd's pre-dependencies on trixie: apt-get does.
if ! debootstrap --variant=minbase "$SUITE" "$tmp" "$(detect_mirror)" >"$CACHE/build-$SUITE.log" 2>&1; then
  tail -n 30 "$CACHE/build-$SUITE.log" >&2
  die "debootstrap $SUITE failed (full log: $CACHE/build-$SUITE.log)"
fi
cp /etc/resolv.conf "$tmp/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod +x "$tmp/usr/sbin/policy-rc.d"
if ! chroot "$tmp" env DEBIAN_FRONTEND=noninteractive sh -c \
  "apt-get -o Dpkg::Use-Pty=0 update && apt-get -o Dpkg::Use-Pty=0 install -y --no-install-recommends ${PACKAGES[*]} && apt-get clean" \
  >>"$CACHE/build-$SUITE.log" 2>&1; then
  tail -n 30 "$CACHE/build-$SUITE.log" >&2
  die "installing ${PACKAGES[*]} into $SUITE failed (full log: $CACHE/build-$SUITE.log)"
fi
rm -f "$tmp/usr/sbin/policy-rc.d"
rm -f "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages 2>/dev/null || true
tar --numeric-owner -C "$tmp" -cf - . | zstd -q -T0 -3 -o "$out.tmp" -f
mv -f "$out.tmp" "$out"
rm -rf "$tmp"
log "cached $(du -h "$out" | cut -f1) $out"
echo "$out"
