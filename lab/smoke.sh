#!/usr/bin/env bash
# Smoke test of the running lab (start it with `lab/hosts.sh up` first):
#  1. key-only SSH as core / cumulus with pinned host keys, sudo -n, vtysh
#  2. the link: fe80:: on ens3/swp1 and ping6 coreos -> tor over it
#  3. nested nspawn machine "frr" inside coreos via machinectl, sharing
#     coreos's netns; then stop/disable/remove
#  4. `hosts.sh reboot coreos`: SSH, ens3, persisted files and the link are back
# Ends with "N passed, N failed"; exit code 1 if anything failed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HOSTS="$HERE/hosts.sh"
LAB_STATE="${LAB_STATE:-/var/tmp/frr-nspawn-lab}"
KEY="$LAB_STATE/ssh/id_ed25519"
KH="$LAB_STATE/ssh/known_hosts"
COREOS=10.254.1.2
TOR=10.254.2.2
SSH_OPTS=(-i "$KEY" -o IdentitiesOnly=yes -o UserKnownHostsFile="$KH" -o StrictHostKeyChecking=yes
          -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR)
pass=0 fail=0

lssh() { local dest=$1; shift; ssh "${SSH_OPTS[@]}" "$dest" "$@"; }
# check "<description>" cmd...: run, print output on failure, count.
check() {
  local desc=$1; shift
  local out
  if out="$("$@" 2>&1)"; then
    pass=$((pass + 1)); printf 'ok   %s\n' "$desc"
    [[ -n "${VERBOSE:-}" && -n "$out" ]] && sed 's/^/     | /' <<<"$out"
  else
    fail=$((fail + 1)); printf 'FAIL %s\n' "$desc"; sed 's/^/     | /' <<<"$out"
  fi
  return 0
}

# --- 1. SSH, sudo, vtysh -----------------------------------------------------
check "ssh core@coreos sudo -n true" lssh "core@$COREOS" sudo -n true
check "ssh cumulus@tor sudo -n true" lssh "cumulus@$TOR" sudo -n true
check "password auth refused (key-only)" bash -c "! ssh -o PreferredAuthentications=password -o PubkeyAuthentication=no -o BatchMode=yes -o UserKnownHostsFile=$KH -o StrictHostKeyChecking=yes core@$COREOS true"
check "tor: frr active (systemctl start frr if not)" lssh "cumulus@$TOR" 'systemctl is-active -q frr || sudo -n systemctl start frr; systemctl is-active frr'
check "tor: sudo -n vtysh -c 'show version'" bash -c "ssh ${SSH_OPTS[*]} cumulus@$TOR \"sudo -n vtysh -c 'show version'\" | grep -q FRRouting"

# --- 2. the link ---------------------------------------------------------------
# A veth only gets carrier (and so an IPv6 link-local) once BOTH ends are up.
link_up() { lssh "$1" "sudo -n ip link set $2 up"; }
link_ll() { # <user@ip> <ifname>: wait for a non-tentative fe80::, print it
  lssh "$1" "for i in \$(seq 40); do a=\$(ip -6 -o addr show dev $2 scope link -tentative | awk '{print \$4}' | cut -d/ -f1); [ -n \"\$a\" ] && { echo \$a; exit 0; }; sleep 0.25; done; exit 1"
}
check_link() {
  local c_ll t_ll
  link_up "core@$COREOS" ens3 && link_up "cumulus@$TOR" swp1
  c_ll="$(link_ll "core@$COREOS" ens3)" || { echo "no fe80:: on coreos ens3"; return 1; }
  t_ll="$(link_ll "cumulus@$TOR" swp1)" || { echo "no fe80:: on tor swp1"; return 1; }
  echo "coreos ens3 $c_ll / tor swp1 $t_ll"
  lssh "core@$COREOS" "ping -6 -c2 -W2 $t_ll%ens3" && lssh "cumulus@$TOR" "ping -6 -c2 -W2 $c_ll%swp1"
}
check "link: fe80:: on ens3/swp1 and ping6 both ways" check_link

# --- 3. nested machine in coreos --------------------------------------------------
nested() {
  local img; img="$("$HOSTS" nested-image)"
  scp -q "${SSH_OPTS[@]}" "$img" "core@$COREOS:/tmp/frr.tar.gz"
  lssh "core@$COREOS" 'set -e
    # leftovers of an earlier run (an enabled machine even comes back after a reboot)
    sudo -n machinectl disable frr 2>/dev/null || true
    if sudo -n machinectl show frr >/dev/null 2>&1; then
      sudo -n machinectl stop frr
      for i in $(seq 60); do sudo -n machinectl show frr >/dev/null 2>&1 || break; sleep 0.5; done
    fi
    sudo -n machinectl remove frr 2>/dev/null || true
    sudo -n machinectl import-tar /tmp/frr.tar.gz frr
    sudo -n mkdir -p /etc/systemd/nspawn
    printf "[Exec]\nBoot=yes\nPrivateUsers=no\nCapability=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE\n\n[Network]\nVirtualEthernet=no\n" | sudo -n tee /etc/systemd/nspawn/frr.nspawn >/dev/null
    sudo -n machinectl enable frr
    sudo -n machinectl start frr
    for i in $(seq 60); do [ "$(sudo -n machinectl show frr -p State --value 2>/dev/null)" = running ] && break; sleep 0.5; done
    sudo -n machinectl list --no-legend
    L=$(sudo -n machinectl show frr -p Leader --value)
    a=$(sudo -n readlink /proc/1/ns/net); b=$(sudo -n readlink /proc/$L/ns/net)
    echo "netns coreos-pid1=$a frr-leader=$b"; [ "$a" = "$b" ]
    # PrivateUsers=no from the trusted .nspawn file beats the unit'"'"'s -U
    echo "uid_map: $(sudo -n cat /proc/$L/uid_map)"; sudo -n cat /proc/$L/uid_map | grep -Eq "^ *0 +0 +4294967295"
    # "running" comes before the inner dbus is up; wait until we can talk to it
    for i in $(seq 60); do sudo -n systemd-run -M frr --wait -q -P true 2>/dev/null && break; sleep 0.5; done
    sudo -n systemd-run -M frr --wait -q -P /bin/sh -c "hostname; ip -br link" | tee /tmp/inner.txt
    grep -q "^ens3" /tmp/inner.txt
    sudo -n machinectl stop frr
    for i in $(seq 60); do sudo -n machinectl show frr >/dev/null 2>&1 || break; sleep 0.5; done
    sudo -n machinectl disable frr
    sudo -n machinectl remove frr
    [ -z "$(sudo -n machinectl list-images --no-legend)" ]
    [ ! -e /etc/systemd/nspawn/frr.nspawn ] && echo "frr.nspawn removed by machinectl remove"
    ! systemctl is-enabled -q systemd-nspawn@frr
    rm -f /tmp/frr.tar.gz /tmp/inner.txt'
}
check "coreos: nested machine frr (import-tar, enable, start, shared netns, stop/disable/remove)" nested

# --- 4. reboot coreos ------------------------------------------------------------
check "coreos: write marker before reboot" lssh "core@$COREOS" 'echo lab-marker | sudo -n tee /etc/lab-marker'
check "hosts.sh reboot coreos" "$HOSTS" reboot coreos
check "coreos after reboot: ssh + marker persisted" lssh "core@$COREOS" 'grep -q lab-marker /etc/lab-marker && sudo -n rm /etc/lab-marker'
check "coreos after reboot: ens3 present" lssh "core@$COREOS" 'ip link show dev ens3'
check "link after reboot: ping6 both ways" check_link

echo "smoke: $pass passed, $fail failed"
((fail == 0))
