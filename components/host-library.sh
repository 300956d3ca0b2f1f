# frr-nspawn host library: sourced by the steps of NspawnMachine and BgpLoopback, which
# set strict mode first. Installed by each component's -lib step; generated from
# components/render/scripts/library.ts (do not edit).
frr_nspawn_on_err() {
    local rc=$1 line=$2 cmd=${3%%$'\n'*}
    if [ "${#cmd}" -gt 120 ]; then cmd="${cmd:0:117}..."; fi
    frr_nspawn_err="line $line: $cmd (exit $rc)"
    echo "frr-nspawn: $frr_nspawn_err" >&2
}
frr_nspawn_on_exit() {
    local rc=$? cause=
    trap - EXIT ERR TERM
    set +eu
    if [ "$rc" -ne 0 ]; then
        if declare -F frr_nspawn_on_failure >/dev/null; then frr_nspawn_on_failure; fi
        :
    fi
    if [ -n "$frr_nspawn_tee" ]; then
        exec 2>&3
        wait "$frr_nspawn_tee" 2>/dev/null
    fi
    if [ "$rc" -ne 0 ]; then
        if [ -n "$frr_nspawn_log" ]; then
            cause=$(grep -av -e '^frr-nspawn: line [0-9]*: ' -e '^[[:space:]]*$' -e '^+' "$frr_nspawn_log" | tail -n 1)
        fi
        cause=${cause#frr-nspawn: }
        if [ -z "$cause" ]; then cause=${frr_nspawn_err:-failed (exit $rc)}; fi
        echo "frr-nspawn: $0: ${cause:0:400}" >&2
    fi
    if [ -n "${frr_nspawn_log:-}" ]; then rm -f "$frr_nspawn_log"; fi
    exit "$rc"
}
frr_nspawn_frame() {
    frr_nspawn_log=$(mktemp /tmp/frr-nspawn-stderr.XXXXXX 2>/dev/null) || frr_nspawn_log=
    frr_nspawn_tee=
    frr_nspawn_err=
    exec 3>&2
    if [ -n "$frr_nspawn_log" ]; then
        exec 2> >(tee -a "$frr_nspawn_log" >&3)
        frr_nspawn_tee=$!
    fi
    set -E
    trap 'frr_nspawn_on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR
    trap frr_nspawn_on_exit EXIT
    trap 'frr_nspawn_err="stopped by SIGTERM (did the step time out?)"; exit 143' TERM
}
frr_nspawn_lock() {
    local path=${1:-/run/frr-nspawn.lock} wait=${2:-600}
    exec 8>>"$path"
    if ! flock --wait "$wait" 8; then
        echo "frr-nspawn: waited ${wait}s for ${path//[^A-Za-z0-9_.\/-]/_}, held by $(head -c 300 "$path" 2>/dev/null | tr -d '\n' || true)" >&2
        exit 1
    fi
    printf '%s\n' "$0 (pid $$, since $(date -u +%Y-%m-%dT%H:%M:%SZ))" > "$path"
}
wait_until() {
    local limit=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "frr-nspawn: timed out after ${limit}s waiting for ${what}" >&2
            return 1
        fi
        sleep 1
    done
}
machine_running() {
    [ "$(machinectl show "$frr_nspawn_machine" --property=State --value 2>/dev/null)" = running ]
}
in_frr() {
    local leader
    leader=$(machinectl show "$frr_nspawn_machine" --property=Leader --value 2>/dev/null || true)
    if [ -z "$leader" ] || [ "$leader" = 0 ]; then
        echo "frr-nspawn: machine $frr_nspawn_machine is not running; start it (machinectl start $frr_nspawn_machine) and run again" >&2
        return 1
    fi
    nsenter --target "$leader" --mount --uts --ipc --net --pid -- "$@"
}
mgmtd_retry() {
    local out rc tries=0
    while :; do
        rc=0
        out=$("$@" 2>&1) || rc=$?
        if ! grep -Eq 'could not lock|Must condition' <<<"$out" || [ "$tries" -ge 50 ]; then break; fi
        tries=$((tries + 1))
        sleep 0.2
    done
    printf '%s
' "$out"
    return "$rc"
}
interface_plan_py='
import sys

RA_I = "ipv6 nd ra-interval"
RA_L = "ipv6 nd ra-lifetime"
DEFAULT_INTERVAL_MS = 600000


def stanzas(text):
    """interface stanza line -> its one-space-indented lines (deeper blocks are left out)."""
    found, current = {}, None
    for raw in text.splitlines():
        line = raw.rstrip()
        if current is None:
            if line.startswith("interface "):
                current = line
                found.setdefault(current, [])
            continue
        if not line.startswith(" "):
            current = None
        elif not line.startswith("  "):
            found[current].append(line.strip())
    return found


def key(line):
    for k in (RA_I, RA_L):
        if line.startswith(k + " "):
            return k
    return line


def negate(line):
    return line[3:] if line.startswith("no ") else "no " + line


def interval_ms(line):
    words = line[len(RA_I) + 1:].split()
    return int(words[1]) if words[0] == "msec" else int(words[0]) * 1000


def accepted(interval, lifetime):
    return lifetime in (None, 0) or lifetime * 1000 >= (
        DEFAULT_INTERVAL_MS if interval is None else interval
    )


def plan(running, wanted):
    out = []
    for name in list(running) + [n for n in wanted if n not in running]:
        old = {key(l): l for l in running.get(name, [])}
        new = {key(l): l for l in wanted.get(name, [])}
        drops = [negate(l) for k, l in old.items() if k not in new and k not in (RA_I, RA_L)]
        adds = [l for k, l in new.items() if old.get(k) != l and k not in (RA_I, RA_L)]
        state = {
            k: (interval_ms(old[k]) if k == RA_I else int(old[k].split()[-1])) if k in old else None
            for k in (RA_I, RA_L)
        }
        timing = []
        for k in (RA_I, RA_L):
            if old.get(k) == new.get(k):
                continue
            if k in new:
                value = interval_ms(new[k]) if k == RA_I else int(new[k].split()[-1])
                timing.append((k, new[k], value))
            else:
                timing.append((k, negate(old[k]), None))
        if len(timing) == 2:
            first = dict(state)
            first[timing[0][0]] = timing[0][2]
            if not accepted(first[RA_I], first[RA_L]):
                timing.reverse()
        out += [(name, c) for c in drops + [t[1] for t in timing] + adds]
    return out


running = stanzas(sys.stdin.read())
with open(sys.argv[1]) as f:
    wanted = stanzas(f.read())
for name, command in plan(running, wanted):
    print(name + "\t" + command)
'
apply_conf() {
    local failure=$1 plan iface cmd out check
    plan=$(in_frr vtysh -c 'show running-config' | in_frr python3 -c "$interface_plan_py" /etc/frr/frr.conf)
    while IFS=$'\t' read -r iface cmd; do
        [ -n "$iface" ] || continue
        echo "frr-nspawn: $iface: $cmd"
        if ! out=$(mgmtd_retry in_frr vtysh -c 'configure terminal' -c "$iface" -c "$cmd") || grep -q '^%' <<<"$out"; then
            echo "frr-nspawn: $failure: FRR refused "$cmd" on $iface:" >&2
            echo "$out" >&2
            return 1
        fi
    done <<<"$plan"
    if out=$(in_frr /usr/lib/frr/frr-reload.py --reload /etc/frr/frr.conf 2>&1); then
        return 0
    fi
    if ! check=$(in_frr /usr/lib/frr/frr-reload.py --test /etc/frr/frr.conf 2>/dev/null); then
        check="(frr-reload.py --test failed too)"
    fi
    if [ -z "${check//[[:space:]]/}" ]; then
        echo 'frr-nspawn: warning: frr-reload.py exited non-zero, but the running config matches frr.conf (frr-reload.py --test is empty). What FRR refused:' >&2
        grep -Ev ' (INFO|DEBUG): ' <<<"$out" | grep -Ei '^%|error|fail|refused|not satisfied' >&2 || echo "$out" | tail -n 20 >&2
        return 0
    fi
    echo "frr-nspawn: $failure. frr-reload.py said:" >&2
    echo "$out" >&2
    echo 'frr-nspawn: frr-reload.py --test still finds these differences:' >&2
    echo "$check" >&2
    return 1
}
machine_gone() {
    ! machinectl show "$frr_nspawn_machine" >/dev/null 2>&1
}
stop_machine() {
    local deadline=$((SECONDS + 90))
    if machine_gone; then return 0; fi
    machinectl poweroff "$frr_nspawn_machine" || true
    until machine_gone; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "frr-nspawn: timed out after 90s waiting for machine $frr_nspawn_machine to power off: terminating it" >&2
            machinectl terminate "$frr_nspawn_machine" || true
            wait_until 30 "machine $frr_nspawn_machine to terminate" machine_gone
            return
        fi
        sleep 0.2
    done
}
wait_booted() {
    local deadline=$((SECONDS + $1)) state unit
    while :; do
        state=$(in_frr systemctl is-system-running 2>/dev/null || true)
        if [ "$state" = running ] || [ "$state" = degraded ]; then return 0; fi
        unit=$(systemctl show --property=ActiveState --value "systemd-nspawn@$frr_nspawn_machine.service" 2>/dev/null || true)
        if [ "$unit" = failed ] || [ "$unit" = inactive ]; then
            echo "frr-nspawn: machine $frr_nspawn_machine stopped while booting (unit $unit)" >&2
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "frr-nspawn: timed out after $1s waiting for machine $frr_nspawn_machine to boot" >&2
            return 1
        fi
        sleep 0.2
    done
}
carry_frr_config() {
    local from=$1/etc/frr to=$2/etc/frr file
    [ -d "$from" ] && [ -d "$to" ] || return 0
    if [ -e "$from/daemons.frr-nspawn-orig" ] && [ -e "$to/daemons" ] && [ ! -e "$to/daemons.frr-nspawn-orig" ]; then
        cp -p "$to/daemons" "$to/daemons.frr-nspawn-orig"
    fi
    for file in frr.conf daemons; do
        [ -e "$from/$file" ] || continue
        if [ "$file" = daemons ] && [ ! -e "$from/daemons.frr-nspawn-orig" ]; then continue; fi
        if [ ! -e "$to/$file" ]; then
            install -m 0640 /dev/null "$to/$file"
            chown --reference="$to" "$to/$file"
        fi
        cat "$from/$file" > "$to/$file"
    done
}
frr_active() {
    in_frr systemctl is-active --quiet frr 2>/dev/null
}
switch_off() {
    local deadline=$((SECONDS + 30))
    if machine_gone; then return 0; fi
    if frr_active; then in_frr timeout 60 systemctl stop frr || true; fi
    machinectl terminate "$frr_nspawn_machine" || true
    until machine_gone; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "frr-nspawn: machine $frr_nspawn_machine did not end within 30s of machinectl terminate" >&2
            return 1
        fi
        sleep 0.1
    done
}
fetch_image() {
    if [ -e "$2" ] && echo "$3  $2" | sha256sum --check --status -; then
        echo 'frr-nspawn: image already downloaded'
        exit 0
    fi
    if command -v curl >/dev/null; then
        curl --fail --silent --show-error --location --retry 3 --output "$2.part" "$1"
    elif command -v wget >/dev/null; then
        wget --quiet --tries=3 --output-document "$2.part" "$1"
    else
        echo 'frr-nspawn: neither curl nor wget is on this host; copy the image with image: { path, sha256 } instead' >&2
        exit 1
    fi
    mv -f "$2.part" "$2"
}
verify_tar() {
    if ! printf '%s  %s\n' "$2" "$1" | sha256sum --check --status -; then
        echo "frr-nspawn: $1 is missing or does not match sha256 $2; nothing was imported. Remove the file and run pulumi up again to copy it anew." >&2
        exit 1
    fi
    echo 'frr-nspawn: checksum verified'
}
verify_tar_file() {
    local expected
    if ! read -r expected _ < "$2"; then
        echo "frr-nspawn: the build's checksum file $2 is missing or empty; nothing was imported. Remove the file and run pulumi up again to copy it anew." >&2
        exit 1
    fi
    if ! [[ $expected =~ ^[0-9a-f]{64}$ ]]; then
        echo "frr-nspawn: $2 holds no SHA-256; nothing was imported. Remove the file and run pulumi up again to copy it anew." >&2
        exit 1
    fi
    verify_tar "$1" "$expected"
}
remove_tar() {
    rm -f "$1" "$1.part" "$1.sha256" "$1.sha256.part"
}
adopt_legacy_state() {
    local s=/var/lib/frr-nspawn/$frr_nspawn_machine legacy
    if [ -e "$s/image.sha256" ] && [ ! -e "$s/active" ]; then
        legacy=$(cut -c1-16 "$s/image.sha256")
        mkdir -p "$s/images"
        : > "$s/images/$legacy"
        printf '%s\n' "$legacy" > "$s/active"
        rm -f "$s/image.sha256"
    fi
}
import_image() {
    local id=$1 tar=$2 m=$frr_nspawn_machine s=/var/lib/frr-nspawn/$frr_nspawn_machine
    local image=$m-$id
    adopt_legacy_state
    if [ "$(cat "$s/active" 2>/dev/null)" = "$id" ]; then
        echo "frr-nspawn: image $id already runs machine $m"
        exit 0
    fi
    if [ -e "/var/lib/machines/$image" ]; then
        if [ -e "$s/images/$id" ]; then
            echo "frr-nspawn: image $image is already imported"
            exit 0
        fi
        echo "frr-nspawn: an image named $image exists that frr-nspawn did not import; remove it (machinectl remove $image) and run again" >&2
        exit 1
    fi
    mkdir -p "$s/images"
    if command -v importctl >/dev/null 2>&1; then
        importctl -m import-tar "$tar" "$image"
    else
        machinectl import-tar "$tar" "$image"
    fi
    : > "$s/images/$id"
    echo "frr-nspawn: imported $image; the start step switches machine $m to it"
}
remove_image() {
    local id=$1 m=$frr_nspawn_machine s=/var/lib/frr-nspawn/$frr_nspawn_machine
    adopt_legacy_state
    if [ ! -e "$s/images/$id" ]; then
        echo "frr-nspawn: frr-nspawn has no image $id of machine $m; nothing to remove"
        exit 0
    fi
    if [ "$(cat "$s/active" 2>/dev/null)" = "$id" ]; then
        echo "frr-nspawn: image $id runs machine $m: the start step's delete removes it"
        exit 0
    fi
    if [ "$(cat "$s/previous" 2>/dev/null)" = "$id" ]; then
        echo "frr-nspawn: image $m-$id is kept for a rollback"
        exit 0
    fi
    if [ -e "/var/lib/machines/$m-$id" ]; then
        machinectl remove "$m-$id"
    fi
    rm -f "$s/images/$id"
}
start_image() {
    local id=$1 boot=$2 m=$frr_nspawn_machine s=/var/lib/frr-nspawn/$frr_nspawn_machine root=/var/lib/machines/$frr_nspawn_machine
    local side=/var/lib/machines/$frr_nspawn_machine-$1 active kept frr_was_active=no moved_new=no saved_err_trap
    adopt_legacy_state
    active=$(cat "$s/active" 2>/dev/null || true)
    if [ "$active" = "$id" ]; then
        machinectl enable "$m" >/dev/null
        if ! machine_running; then
            machinectl start "$m"
        fi
        if ! wait_booted "$boot"; then
            journalctl --no-pager -n 30 -u "systemd-nspawn@$m.service" >&2 || true
            exit 1
        fi
        echo "frr-nspawn: machine $m runs image $id"
        exit 0
    fi
    if [ -z "$active" ] && [ -e "$root" ]; then
        echo "frr-nspawn: an image named $m exists that frr-nspawn did not import; remove it (machinectl remove $m) or choose another machineName" >&2
        exit 1
    fi
    if [ ! -e "$side" ] || [ ! -e "$s/images/$id" ]; then
        echo "frr-nspawn: image $m-$id is not imported (the import step does that); run pulumi up again" >&2
        exit 1
    fi
    if [ -n "$active" ] && [ -e "$root-$active" ]; then
        echo "frr-nspawn: $root-$active is in the way of keeping the running image; remove it and run again" >&2
        exit 1
    fi
    echo "frr-nspawn: preparing image $id beside the running machine"
    carry_frr_config "$root" "$side"
    if machine_running && frr_active; then frr_was_active=yes; fi
    put_back() {
        trap - ERR
        set +e
        journalctl --no-pager -n 30 -u "systemd-nspawn@$m.service" >&2 || true
        stop_machine
        if [ "$moved_new" = yes ]; then mv -T "$root" "$side"; fi
        if [ -n "$active" ]; then
            [ -e "$root" ] || mv -T "$root-$active" "$root"
            printf '%s\n' "$active" > "$s/active"
            rm -f "$s/previous"
            if machinectl start "$m" && wait_booted "$boot"; then
                echo "frr-nspawn: image $id did not come up: putting the previous image back; it runs again" >&2
            else
                echo "frr-nspawn: image $id did not come up: putting the previous image back; it did not boot either" >&2
            fi
        else
            rm -f "$s/active"
            echo "frr-nspawn: image $id did not come up" >&2
        fi
        exit 1
    }
    echo "frr-nspawn: switching machine $m from image ${active:-none} to $id"
    switch_off
    saved_err_trap=$(trap -p ERR)
    trap put_back ERR
    if [ -n "$active" ]; then
        mv -T "$root" "$root-$active"
        printf '%s\n' "$active" > "$s/previous"
    fi
    mv -T "$side" "$root"
    moved_new=yes
    printf '%s\n' "$id" > "$s/active"
    machinectl enable "$m" >/dev/null
    machinectl start "$m"
    wait_booted "$boot"
    if [ "$frr_was_active" = yes ]; then
        wait_until 60 'FRR in the new image to start' frr_active
    fi
    eval "$saved_err_trap"
    echo "frr-nspawn: machine $m runs image $id; the previous image is kept for a rollback"
    for kept in "$s/images"/*; do
        [ -e "$kept" ] || continue
        kept=${kept##*/}
        if [ "$kept" = "$id" ] || [ "$kept" = "$active" ]; then continue; fi
        if [ -e "$root-$kept" ]; then
            machinectl remove "$m-$kept" || { echo "frr-nspawn: could not remove the old image $m-$kept" >&2; continue; }
        fi
        rm -f "$s/images/$kept"
    done
}
remove_machine() {
    local m=$frr_nspawn_machine s=/var/lib/frr-nspawn/$frr_nspawn_machine kept
    adopt_legacy_state
    machinectl disable "$m" 2>/dev/null || true
    stop_machine
    if [ -e "$s/active" ] && machinectl image-status "$m" >/dev/null 2>&1; then
        machinectl remove "$m"
    fi
    for kept in "$s/images"/*; do
        [ -e "$kept" ] || continue
        kept=${kept##*/}
        if [ -e "/var/lib/machines/$m-$kept" ]; then
            machinectl remove "$m-$kept"
        fi
        rm -f "$s/images/$kept"
    done
    rmdir "$s/images" 2>/dev/null || true
    rm -f "$s/active" "$s/previous"
    rmdir "$s" 2>/dev/null || true
    rmdir /var/lib/frr-nspawn 2>/dev/null || true
}
install_stdin() {
    cat > "$1.frr-nspawn-tmp"
    chmod "$2" "$1.frr-nspawn-tmp"
    mv -f "$1.frr-nspawn-tmp" "$1"
}
settings_apply() {
    local before after
    mkdir -p /etc/systemd/nspawn "/etc/systemd/system/systemd-nspawn@$frr_nspawn_machine.service.d"
    before=$(cat "$1" "$2" 2>/dev/null | sha256sum || true)
    install_stdin "$1" 0644
    rm -f "$2"
    rmdir --ignore-fail-on-non-empty "/etc/systemd/system/systemd-nspawn@$frr_nspawn_machine.service.d"
    systemctl daemon-reload
    after=$(sha256sum < "$1")
    if [ "$before" != "$after" ] && [ "$(machinectl show "$frr_nspawn_machine" --property=State --value 2>/dev/null)" = running ]; then
        echo "frr-nspawn: settings changed: restarting machine $frr_nspawn_machine"
        systemctl restart "systemd-nspawn@$frr_nspawn_machine.service"
    fi
}
settings_remove() {
    rm -f "$1" "$2"
    rmdir "/etc/systemd/system/systemd-nspawn@$frr_nspawn_machine.service.d" 2>/dev/null || true
    rmdir /etc/systemd/nspawn 2>/dev/null || true
    systemctl daemon-reload
}
sysctl_apply() {
    local file=$1 s=/var/lib/frr-nspawn/$frr_nspawn_machine p
    shift
    mkdir -p "$s"
    if [ ! -d "${file%/*}" ]; then
        mkdir -p "${file%/*}"
        : > "$s/sysctl.d.created"
    fi
    if [ ! -e "$s/sysctl.before" ]; then
        for p in "$@"; do
            if [ -r "$p" ]; then echo "$p $(cat "$p")"; fi
        done > "$s/sysctl.before.tmp"
        mv -f "$s/sysctl.before.tmp" "$s/sysctl.before"
    fi
    install_stdin "$file" 0644
    for p in "$@"; do
        if [ -e "$p" ]; then
            echo 0 > "$p"
        else
            echo "frr-nspawn: $p does not exist (yet); the file sets it at the next boot" >&2
        fi
    done
}
sysctl_remove() {
    local file=$1 s=/var/lib/frr-nspawn/$frr_nspawn_machine a b c p v
    rm -f "$file"
    if [ -e "$s/sysctl.d.created" ]; then
        rmdir "${file%/*}" 2>/dev/null || true
        rm -f "$s/sysctl.d.created"
    fi
    if [ -e "$s/sysctl.before" ]; then
        while read -r a b c; do
            if [ "$b" = "=" ]; then p=/proc/sys/${a//.//}; v=$c; else p=$a; v=$b; fi
            [ -n "$p" ] || continue
            echo "$v" > "$p" || echo "frr-nspawn: could not restore $p to $v" >&2
        done < "$s/sysctl.before"
        rm -f "$s/sysctl.before"
    fi
    rmdir "$s" 2>/dev/null || true
    rmdir /var/lib/frr-nspawn 2>/dev/null || true
}
host_unit_apply() {
    local path=$1 unit=${1##*/} staged=$1.frr-nspawn-new
    install_stdin "$staged" 0644
    if cmp -s "$staged" "$path" && systemctl is-active --quiet "$unit"; then
        rm -f "$staged"
        echo 'frr-nspawn: host unit unchanged and active'
        exit 0
    fi
    if [ -e "$path" ]; then
        systemctl stop "$unit" || true
    fi
    mv -f "$staged" "$path"
    systemctl daemon-reload
    systemctl enable --now "$unit"
}
host_unit_remove() {
    if [ -e "$1" ]; then
        systemctl disable --now "${1##*/}" || true
    fi
    rm -f "$1" "$1.frr-nspawn-new"
    systemctl daemon-reload
}
drop_in_apply() {
    mkdir -p "${1%/*}"
    install_stdin "$1.frr-nspawn-new" 0644
    if cmp -s "$1.frr-nspawn-new" "$1"; then
        rm -f "$1.frr-nspawn-new"
        return 0
    fi
    mv -f "$1.frr-nspawn-new" "$1"
    if machine_running; then in_frr systemctl daemon-reload; fi
    echo 'frr-nspawn: frr.service stops zebra first (graceful restart)'
}
drop_in_remove() {
    if [ -e "$1" ]; then
        rm -f "$1"
        rmdir "${1%/*}" 2>/dev/null || true
        if machine_running; then in_frr systemctl daemon-reload; fi
    fi
}
stage_file() {
    if [ ! -d "$1" ]; then
        echo "frr-nspawn: $1 does not exist: is FRR installed there?" >&2
        exit 1
    fi
    staged=$(mktemp "$1/$2.frr-nspawn-new.XXXXXX")
    cat > "$staged"
    chmod 0640 "$staged"
    chown --reference="$1" "$staged"
}
daemons_apply() {
    local file=$1/daemons
    if [ -e "$file" ] && [ ! -e "$file.frr-nspawn-orig" ]; then
        cp -p "$file" "$file.frr-nspawn-orig"
    fi
    if cmp -s "$staged" "$file"; then
        rm -f "$staged"
        echo 'frr-nspawn: daemons file unchanged'
        exit 0
    fi
    mv -f "$staged" "$file"
    if machine_running && in_frr systemctl is-active --quiet frr; then
        echo 'frr-nspawn: daemons file changed: restarting FRR'
        in_frr systemctl restart frr
        wait_until 60 'frr to be active' in_frr systemctl is-active --quiet frr
    fi
}
daemons_remove() {
    local file=$1/daemons
    rm -f "$file".frr-nspawn-new.*
    if [ ! -e "$file.frr-nspawn-orig" ]; then
        echo 'frr-nspawn: no saved daemons file to restore; leaving it as it is'
        exit 0
    fi
    mv -f "$file.frr-nspawn-orig" "$file"
    if machine_running && in_frr systemctl is-active --quiet frr; then
        in_frr systemctl restart frr
    fi
}
mirror_forwarding() {
    local value line put= lines=() off=()
    if value=$(in_frr cat /proc/net/snmp 2>/dev/null); then
        value=$(sed -n '2p' <<<"$value")
        if [ "${value:0:5}" != "Ip: 1" ]; then off+=('no ip forwarding'); fi
    fi
    if value=$(in_frr cat /proc/sys/net/ipv6/conf/all/forwarding 2>/dev/null); then
        case ${value:0:1} in [1-9]) ;; *) off+=('no ipv6 forwarding') ;; esac
    fi
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
        'ip forwarding' | 'no ip forwarding' | 'ipv6 forwarding' | 'no ipv6 forwarding') continue ;;
        'frr version '* | 'frr defaults '* | 'hostname '*) ;;
        *) if [ -z "$put" ]; then lines+=("${off[@]}"); put=1; fi ;;
        esac
        lines+=("$line")
    done <"$1"
    if [ -z "$put" ]; then lines+=("${off[@]}"); fi
    if [ "${#lines[@]}" -gt 0 ]; then printf '%s\n' "${lines[@]}"; fi >"$1"
}
frr_conf_apply() {
    local check
    mirror_forwarding "$staged"
    if ! check=$(in_frr vtysh --dryrun -f "/etc/frr/${staged##*/}" 2>&1) || grep -Eq '^line [0-9]+: %' <<<"$check"; then
        rm -f "$staged"
        echo 'frr-nspawn: vtysh --dryrun rejected the new frr.conf, so it was not put in place or applied:' >&2
        echo "$check" >&2
        exit 1
    fi
    mv -f "$staged" "$1/frr.conf"
    if ! in_frr systemctl is-active --quiet frr; then
        echo 'frr-nspawn: starting FRR with the new frr.conf'
        in_frr systemctl enable --quiet frr
        in_frr systemctl start frr
        wait_until 60 'frr to be active' in_frr systemctl is-active --quiet frr
        exit 0
    fi
    apply_conf "frr.conf is in place but not fully applied" || exit 1
    echo 'frr-nspawn: frr.conf applied with frr-reload.py'
}
frr_conf_remove() {
    rm -f "$1/frr.conf".frr-nspawn-new.*
    if ! { machine_running && in_frr systemctl is-active --quiet frr; }; then
        rm -f "$1/frr.conf"
        echo 'frr-nspawn: FRR is not running; frr.conf removed'
        exit 0
    fi
    install_stdin "$1/frr.conf" 0640
    chown --reference="$1" "$1/frr.conf"
    mirror_forwarding "$1/frr.conf"
    apply_conf "the config could not be removed from the running FRR" || exit 1
    rm -f "$1/frr.conf"
    echo 'frr-nspawn: BGP config removed from the running FRR and frr.conf deleted'
}
verify_check_py='import json, subprocess, sys
advertise = sys.argv[1].split()
neighbors = sys.argv[2:]
def show(cmd):
    proc = subprocess.Popen(["vtysh", "-c", cmd], stdout=subprocess.PIPE, universal_newlines=True)
    out = proc.communicate()[0]
    try:
        return json.loads(out or "{}")
    except ValueError:
        return {}
peers = show("show bgp neighbors json")
sessions, problems = {}, []
for name in neighbors:
    peer = peers.get(name, {})
    state = peer.get("bgpState", "not configured")
    error = ""
    if state != "Established":
        error = peer.get("lastNotificationReason") or peer.get("lastResetDueTo") or ""
    routes = {}
    if state == "Established":
        routes = show("show bgp ipv4 unicast neighbors " + name + " advertised-routes json")
        routes = routes.get("advertisedRoutes", {})
    missing = [p for p in advertise if p not in routes]
    sessions[name] = {"state": state, "advertised": not missing, "lastError": error}
    if state != "Established":
        problems.append("neighbor " + name + " is " + state + (" (last error: " + error + ")" if error else ""))
    elif missing:
        problems.append("neighbor " + name + " is Established but does not advertise " + ", ".join(missing))
print("FRR_NSPAWN_SESSIONS " + json.dumps(sessions, sort_keys=True))
for p in problems:
    print(p)
sys.exit(1 if problems else 0)'
verify_sessions() {
    local limit=$1 advertise=$2 deadline=$((SECONDS + $1)) out problems line
    shift 2
    while :; do
        if out=$(in_frr python3 -c "$verify_check_py" "$advertise" "$@" 2>&1); then
            grep '^FRR_NSPAWN_SESSIONS ' <<<"$out"
            exit 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            grep '^FRR_NSPAWN_SESSIONS ' <<<"$out" || true
            problems=""
            while IFS= read -r line; do
                problems+="${problems:+; }$line"
            done < <(grep -v '^FRR_NSPAWN_SESSIONS ' <<<"$out" || true)
            echo "frr-nspawn: BGP sessions not up after ${limit}s: $problems" >&2
            exit 1
        fi
        sleep 2
    done
}
