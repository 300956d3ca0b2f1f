/**
 * Constant bash text for the image scripts (no recipe values: those are quoted in
 * image.ts): messages, the failure hint, cleanup of the temporary build directory and
 * the search of the build host's apt sources for a mirror.
 */
import { quote, REMOVE_FRAME_LOG } from "../shell";

/**
 * Helpers every image script starts with. stdout is moved to fd 3 so that whatever the
 * tools print (debootstrap and apt-get talk on stdout) lands on stderr and the script's
 * stdout carries only the result line. `step` remembers what is being done and what to do
 * if it fails; the EXIT trap says both, unmounts what the build mounted and removes the
 * temporary build directory.
 */
export const PRELUDE: readonly string[] = [
  "exec 3>&1 1>&2",
  'export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"',
  "export LC_ALL=C DEBIAN_FRONTEND=noninteractive",
  "umask 022",
  'frr_nspawn_step="starting"',
  'frr_nspawn_hint=""',
  "# Set once this script holds the image's lock: only then may it remove the build directory.",
  "frr_nspawn_locked=0",
  "say() { printf 'frr-nspawn image: %s\\n' \"$*\" >&2; }",
  'step() { frr_nspawn_step=$1; frr_nspawn_hint=$2; say "$1"; }',
  "die() { printf 'frr-nspawn image: ERROR: %s\\n' \"$*\" >&2; exit 1; }",
  "# Unmounts everything mounted under the build's rootfs (by this script or a debootstrap",
  "# that was killed), deepest first. Mount points with spaces are escaped in mountinfo and",
  "# are not matched here; `rm --one-file-system` below still never crosses into them.",
  "frr_nspawn_unmount() {",
  "    local m",
  "    [[ -n ${rootfs:-} ]] || return 0",
  "    while read -r m; do",
  '        umount "$m" 2>/dev/null || umount -l "$m" || return 1',
  '    done < <(FRR_NSPAWN_ROOT=$rootfs awk \'$5 == ENVIRON["FRR_NSPAWN_ROOT"] || index($5, ENVIRON["FRR_NSPAWN_ROOT"] "/") == 1 { print $5 }\' /proc/self/mountinfo | sort -r)',
  "}",
  "# Removes the temporary build directory; never crosses into a mount that is still there.",
  "frr_nspawn_release() {",
  "    [[ -e $build_dir ]] || return 0",
  '    frr_nspawn_unmount || { say "cannot unmount the filesystems under $rootfs: unmount them by hand (findmnt -R $rootfs), then run again"; return 1; }',
  '    rm -rf --one-file-system "$build_dir" || { say "cannot remove $build_dir: remove it by hand, then run again"; return 1; }',
  "}",
  "frr_nspawn_on_exit() {",
  "    local status=$?",
  "    trap - EXIT",
  "    if (( status == 130 || status == 143 )); then",
  '        say "INTERRUPTED while: $frr_nspawn_step (nothing is kept; the next run starts this build again)"',
  "    elif (( status != 0 )); then",
  '        say "FAILED while: $frr_nspawn_step"',
  '        [[ -z $frr_nspawn_hint ]] || say "what to do: $frr_nspawn_hint"',
  "    fi",
  "    if (( frr_nspawn_locked )); then",
  "        if (( status != 0 )) && [[ -n ${rootfs:-} && -f $rootfs/debootstrap/debootstrap.log ]]; then",
  '            cp -f "$rootfs/debootstrap/debootstrap.log" "$build_dir.debootstrap.log" && say "debootstrap\'s log is kept in $build_dir.debootstrap.log"',
  "        fi",
  "        frr_nspawn_release || status=1",
  "    fi",
  // This handler replaces the frame's (shell.ts): without this line every run would
  // leave the frame's copy of stderr in /tmp.
  `    ${REMOVE_FRAME_LOG}`,
  '    exit "$status"',
  "}",
  "# Upstream version: no epoch, no Debian revision, no repack suffix (1:8.4.4+ds1-1~deb12u1 -> 8.4.4).",
  "frr_nspawn_upstream_version() {",
  "    local v=$1",
  "    [[ $v != *:* ]] || v=${v#*:}",
  "    [[ $v != *-* ]] || v=${v%-*}",
  "    printf '%s\\n' \"${v%%+*}\"",
  "}",
  "trap frr_nspawn_on_exit EXIT",
  "trap 'exit 130' INT",
  "trap 'exit 143' TERM HUP",
];

/**
 * awk over apt source files: prints `URI SUITE COMPONENTS SIGNED-BY` separated by \037 (not whitespace, so empty fields survive `read`) for
 * every suite of every enabled `deb` entry, in file order. Reads both the one-line
 * format (`deb [opts] URI suite comp…`, in sources.list and *.list) and deb822 stanzas
 * (*.sources: `Types:`, `URIs:`, `Suites:`, `Components:`, `Signed-By:`, `Enabled:`,
 * with folded continuation lines).
 */
const SOURCES_AWK = `
function trim(s) { gsub(/^[ \\t]+|[ \\t]+$/, "", s); return s }
function emit(types, uris, suites, comps, signed,    nu, u, ns, s, i, j) {
    if ((" " types " ") !~ /[ \\t]deb[ \\t]/) return
    nu = split(uris, u, /[ \\t]+/); ns = split(suites, s, /[ \\t]+/)
    for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) if (u[i] != "" && s[j] != "") print u[i] "\\037" s[j] "\\037" trim(comps) "\\037" trim(signed)
}
function flush() {
    if (instanza && tolower(trim(f["enabled"])) != "no") emit(f["types"], f["uris"], f["suites"], f["components"], f["signed-by"])
    instanza = 0; key = ""; delete f
}
FNR == 1 { flush() }
FILENAME ~ /\\.sources$/ {
    if ($0 ~ /^#/) next
    if ($0 ~ /^[ \\t]*$/) { flush(); next }
    if ($0 ~ /^[ \\t]/) { if (key != "") f[key] = f[key] " " trim($0); next }
    i = index($0, ":"); if (i == 0) next
    key = tolower(trim(substr($0, 1, i - 1))); f[key] = trim(substr($0, i + 1)); instanza = 1
    next
}
{
    line = $0; sub(/#.*/, "", line); signed = ""
    if (match(line, /\\[[^]]*\\]/)) {
        opts = substr(line, RSTART + 1, RLENGTH - 2)
        line = substr(line, 1, RSTART - 1) " " substr(line, RSTART + RLENGTH)
        if (match(opts, /signed-by=[^ \\t]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
    }
    n = split(trim(line), w, /[ \\t]+/)
    if (n < 3 || w[1] != "deb") next
    comps = ""; for (k = 4; k <= n; k++) comps = comps " " w[k]
    emit("deb", w[2], w[3], comps, signed)
}
END { flush() }
`.trim();

/**
 * Bash that sets `$mirror` from the build host's apt sources for `distribution`, or
 * fails saying to set `mirror`. An entry qualifies when it is an http(s) `deb` entry with
 * the `main` component, its Signed-By (if any) is a keyring named after the distribution,
 * and either the build host runs that distribution and the entry carries the host's own
 * release suite (e.g. `bookworm`, not `bookworm-security`), or the URI names the
 * distribution (e.g. `…/ubuntu`) and the suite is a plain release name. The first
 * qualifying entry wins: sources.list, then sources.list.d in name order.
 */
export function findMirrorLines(distribution: string, suite: string): string[] {
  return [
    `frr_nspawn_find_mirror() {`,
    `    local dist=${quote(distribution)} want=${quote(suite)} host_id="" host_codename="" f uri s comps signed`,
    `    local -a files=()`,
    `    if [[ -r /etc/os-release ]]; then`,
    `        host_id=$(sed -n 's/^ID=//p' /etc/os-release | tr -d '"'"'"' ')`,
    `        host_codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"'"'"' ')`,
    `    fi`,
    `    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do`,
    `        if [[ -f $f && -r $f ]]; then files+=("$f"); fi`,
    `    done`,
    `    (( \${#files[@]} > 0 )) || return 1`,
    `    while IFS=$'\\037' read -r uri s comps signed; do`,
    `        case $uri in http://*|https://*) ;; *) continue ;; esac`,
    `        [[ " $comps " == *" main "* ]] || continue`,
    `        if [[ -n $signed && \${signed##*/} != *"$dist"* ]]; then continue; fi`,
    `        if [[ $host_id == "$dist" ]]; then`,
    `            [[ $s == "$host_codename" || $s == "$want" ]] || continue`,
    `        else`,
    `            [[ $uri == *"$dist"* && $s != *[-/]* ]] || continue`,
    `        fi`,
    `        mirror=\${uri%/}`,
    `        return 0`,
    `    done < <(awk ${quote(SOURCES_AWK)} "\${files[@]}")`,
    `    return 1`,
    `}`,
  ];
}
