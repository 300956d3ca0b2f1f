/**
 * Scripts that put FRR's daemons file and frr.conf in place and apply them: checked with
 * `vtysh --dryrun` before they replace the running files; the first apply starts FRR; a
 * frr.conf change is applied by `frr-reload.py` (sessions stay up); a daemons change
 * restarts FRR. Used for FRR in a machine (BgpLoopback) and on a plain-FRR switch
 * (TorCumulus with `cli: "vtysh"`).
 */
import {
  command,
  installStdinFunction,
  quote,
  say,
  script,
  StepId,
  stepOf,
  sourcesLibrary,
  warn,
  withStdin,
} from "../../shell";
import { INTERFACE_PLAN_PY } from "./interfacePlan";
import { FRR_STOP_DROP_IN } from "../daemons";
import { FORWARDING_OFF_LINES } from "../frrConf";
import {
  FrrTarget,
  frrEtc,
  frrRootPath,
  imageNote,
  inFrrFunctions,
  mgmtdRetryFunction,
  waitUntilFunction,
} from "./lib";

const RELOAD = "/usr/lib/frr/frr-reload.py";

/**
 * How `vtysh --dryrun` reports a line it rejects. Its exit status alone is not enough:
 * FRR 8.4 exits 0 when the file's last commands parse, even after rejected lines
 * (found by tests/frr/dryrun.test.ts), so the output is checked too.
 */
export const DRYRUN_REJECTED_LINE = /^line [0-9]+: %/m;

function label(target: FrrTarget): string {
  return target.kind === "machine" ? `machine ${target.machine}` : "this host";
}

/**
 * Lines defining `apply_conf FAILURE`, which applies /etc/frr/frr.conf to the running FRR
 * on every release line: the interface part first, by hand (interfacePlan.ts), then
 * `frr-reload.py --reload` for the rest. A reload that exits non-zero counts as applied
 * only when a following `frr-reload.py --test` finds nothing left to do, and then with
 * a warning that quotes what FRR refused; otherwise it fails saying FAILURE.
 */
export function applyConfFunction(): string[] {
  return [
    ...mgmtdRetryFunction(),
    `interface_plan_py=${quote(INTERFACE_PLAN_PY)}`,
    "apply_conf() {",
    "    local failure=$1 plan iface cmd out check",
    `    plan=$(in_frr vtysh -c 'show running-config' | in_frr python3 -c "$interface_plan_py" /etc/frr/frr.conf)`,
    "    while IFS=$'\\t' read -r iface cmd; do",
    '        [ -n "$iface" ] || continue',
    '        echo "frr-nspawn: $iface: $cmd"',
    `        if ! out=$(mgmtd_retry in_frr vtysh -c 'configure terminal' -c "$iface" -c "$cmd") || grep -q '^%' <<<"$out"; then`,
    '            echo "frr-nspawn: $failure: FRR refused \"$cmd\" on $iface:" >&2',
    '            echo "$out" >&2',
    "            return 1",
    "        fi",
    '    done <<<"$plan"',
    `    if out=$(in_frr ${RELOAD} --reload /etc/frr/frr.conf 2>&1); then`,
    "        return 0",
    "    fi",
    `    if ! check=$(in_frr ${RELOAD} --test /etc/frr/frr.conf 2>/dev/null); then`,
    '        check="(frr-reload.py --test failed too)"',
    "    fi",
    '    if [ -z "${check//[[:space:]]/}" ]; then',
    `        ${warn("warning: frr-reload.py exited non-zero, but the running config matches frr.conf (frr-reload.py --test is empty). What FRR refused:")}`,
    `        grep -Ev ' (INFO|DEBUG): ' <<<"$out" | grep -Ei '^%|error|fail|refused|not satisfied' >&2 || echo "$out" | tail -n 20 >&2`,
    "        return 0",
    "    fi",
    '    echo "frr-nspawn: $failure. frr-reload.py said:" >&2',
    '    echo "$out" >&2',
    `    ${warn("frr-reload.py --test still finds these differences:")}`,
    '    echo "$check" >&2',
    "    return 1",
    "}",
  ];
}

/** Failure cleanup: the staged file, if this run made one. */
const REMOVE_STAGED = ['if [ -n "${staged:-}" ]; then rm -f "$staged"; fi'];

/**
 * Lines defining `drop_in_apply FILE` (its content on stdin) and `drop_in_remove FILE`:
 * put frr.service's stop drop-in (daemons.renderFrrStopDropIn) in place, or take it
 * away, and reload systemd where FRR runs if that changed anything. It takes effect at
 * FRR's next stop: nothing restarts for it.
 */
export function dropInFunctions(): string[] {
  return [
    "drop_in_apply() {",
    '    mkdir -p "${1%/*}"',
    '    install_stdin "$1.frr-nspawn-new" 0644',
    '    if cmp -s "$1.frr-nspawn-new" "$1"; then',
    '        rm -f "$1.frr-nspawn-new"',
    "        return 0",
    "    fi",
    '    mv -f "$1.frr-nspawn-new" "$1"',
    "    if machine_running; then in_frr systemctl daemon-reload; fi",
    `    ${say(`frr.service stops zebra first (graceful restart)`)}`,
    "}",
    "drop_in_remove() {",
    '    if [ -e "$1" ]; then',
    '        rm -f "$1"',
    '        rmdir "${1%/*}" 2>/dev/null || true',
    "        if machine_running; then in_frr systemctl daemon-reload; fi",
    "    fi",
    "}",
  ];
}

/** The drop-in's lines of a daemons step: in place with `dropIn`, else taken away. */
function stopDropIn(target: FrrTarget, dropIn: string | undefined): string[] {
  const file = frrRootPath(target, FRR_STOP_DROP_IN);
  return dropIn === undefined
    ? [command("drop_in_remove", file)]
    : withStdin(command("drop_in_apply", file), dropIn, "frr.service's stop drop-in");
}

/**
 * Lines defining `stage_file ETC FILE` (the content on stdin): writes it to a new unique
 * file `ETC/FILE.frr-nspawn-new.XXXXXX`, owned like ETC, whose path is then in `$staged`
 * (global: the step's failure cleanup removes it).
 */
export function stageFileFunction(): string[] {
  return [
    "stage_file() {",
    '    if [ ! -d "$1" ]; then',
    '        echo "frr-nspawn: $1 does not exist: is FRR installed there?" >&2',
    "        exit 1",
    "    fi",
    '    staged=$(mktemp "$1/$2.frr-nspawn-new.XXXXXX")',
    '    cat > "$staged"',
    '    chmod 0640 "$staged"',
    '    chown --reference="$1" "$staged"',
    "}",
  ];
}

/** Lines staging `content` as `<etc>/<file>.frr-nspawn-new.XXXXXX` in `$staged`. */
function stage(etc: string, file: string, content: string): string[] {
  return withStdin(command("stage_file", etc, file), content, `the content for ${etc}/${file}`);
}

/**
 * Lines defining `daemons_apply ETC` and `daemons_remove ETC`, the daemons step's body
 * and delete. Apply (after `stage_file ETC daemons`): back up the original once, replace
 * it, restart FRR if it changed and runs; ends the script when nothing changed. Remove:
 * put the original file back (restarting FRR if it runs).
 */
export function daemonsFunctions(): string[] {
  return [
    "daemons_apply() {",
    "    local file=$1/daemons",
    '    if [ -e "$file" ] && [ ! -e "$file.frr-nspawn-orig" ]; then',
    '        cp -p "$file" "$file.frr-nspawn-orig"',
    "    fi",
    '    if cmp -s "$staged" "$file"; then',
    '        rm -f "$staged"',
    `        ${say(`daemons file unchanged`)}`,
    "        exit 0",
    "    fi",
    '    mv -f "$staged" "$file"',
    "    if machine_running && in_frr systemctl is-active --quiet frr; then",
    `        ${say(`daemons file changed: restarting FRR`)}`,
    "        in_frr systemctl restart frr",
    "        wait_until 60 'frr to be active' in_frr systemctl is-active --quiet frr",
    "    fi",
    "}",
    "daemons_remove() {",
    "    local file=$1/daemons",
    '    rm -f "$file".frr-nspawn-new.*',
    '    if [ ! -e "$file.frr-nspawn-orig" ]; then',
    `        ${say(`no saved daemons file to restore; leaving it as it is`)}`,
    "        exit 0",
    "    fi",
    '    mv -f "$file.frr-nspawn-orig" "$file"',
    "    if machine_running && in_frr systemctl is-active --quiet frr; then",
    "        in_frr systemctl restart frr",
    "    fi",
    "}",
  ];
}

/** What a daemons step defines inline (the host library holds it otherwise). */
function daemonsInline(): string[] {
  return [
    ...waitUntilFunction(),
    ...installStdinFunction(),
    ...dropInFunctions(),
    ...stageFileFunction(),
    ...daemonsFunctions(),
  ];
}

/**
 * Create/update of the daemons step: frr.service's stop drop-in when the release line
 * needs one, then the daemons file (see {@link daemonsFunctions}).
 */
export function renderDaemonsApply(
  step: StepId,
  target: FrrTarget,
  daemons: string,
  dropIn?: string,
): string {
  const etc = frrEtc(target);
  const description = `FRR daemons file on ${label(target)}`;
  return script({ ...stepOf(step), description, lock: true, onFailure: REMOVE_STAGED }, [
    ...imageNote(target),
    ...inFrrFunctions(target, step),
    ...(sourcesLibrary(step) ? [] : daemonsInline()),
    ...stopDropIn(target, dropIn),
    ...stage(etc, "daemons", daemons),
    command("daemons_apply", etc),
  ]);
}

/** Delete of the daemons step: the drop-in goes, the original daemons file comes back. */
export function renderDaemonsRemove(step: StepId, target: FrrTarget): string {
  const description = `restore FRR's original daemons file on ${label(target)}`;
  return script({ ...stepOf(step), description, lock: true }, [
    ...inFrrFunctions(target, step),
    ...(sourcesLibrary(step) ? [] : daemonsInline()),
    ...stopDropIn(target, undefined),
    command("daemons_remove", frrEtc(target)),
  ]);
}

/**
 * Lines defining `mirror_forwarding FILE`, which rewrites an frr.conf in place as
 * frrConf.ts {@link withKernelForwarding} describes: no forwarding line but `no ip
 * forwarding` / `no ipv6 forwarding` after the leading `frr version`, `frr defaults` and
 * `hostname` lines for each kind the kernel has off. The kernel's state is read where
 * FRR runs, from the files zebra reads, the way it reads them (frr-8.4.4 and frr-10.3
 * zebra/ipforward_proc.c): ipforward() takes IPv4 as on only when the second line of
 * /proc/net/snmp starts `Ip: 1`, ipforward_ipv6() takes IPv6 as off when the first
 * character of /proc/sys/net/ipv6/conf/all/forwarding is not a non-zero number; an
 * unreadable file gives -1, which config_write_forwarding() (zebra/zebra_vty.c) does
 * not list as off.
 */
export function mirrorForwardingFunction(): string[] {
  return [
    "mirror_forwarding() {",
    // The lines zebra lists for the kernel's state, put in once, before the first line
    // that is not `frr version`, `frr defaults` or `hostname` (or at the end).
    "    local value line put= lines=() off=()",
    "    if value=$(in_frr cat /proc/net/snmp 2>/dev/null); then",
    "        value=$(sed -n '2p' <<<\"$value\")",
    `        if [ "\${value:0:5}" != "Ip: 1" ]; then off+=(${quote(FORWARDING_OFF_LINES.ipv4)}); fi`,
    "    fi",
    "    if value=$(in_frr cat /proc/sys/net/ipv6/conf/all/forwarding 2>/dev/null); then",
    `        case \${value:0:1} in [1-9]) ;; *) off+=(${quote(FORWARDING_OFF_LINES.ipv6)}) ;; esac`,
    "    fi",
    '    while IFS= read -r line || [ -n "$line" ]; do',
    "        case $line in",
    `        ${quote("ip forwarding")} | ${quote(FORWARDING_OFF_LINES.ipv4)} | ${quote("ipv6 forwarding")} | ${quote(FORWARDING_OFF_LINES.ipv6)}) continue ;;`,
    "        'frr version '* | 'frr defaults '* | 'hostname '*) ;;",
    '        *) if [ -z "$put" ]; then lines+=("${off[@]}"); put=1; fi ;;',
    "        esac",
    '        lines+=("$line")',
    '    done <"$1"',
    '    if [ -z "$put" ]; then lines+=("${off[@]}"); fi',
    '    if [ "${#lines[@]}" -gt 0 ]; then printf \'%s\\n\' "${lines[@]}"; fi >"$1"',
    "}",
  ];
}

/**
 * Lines defining `frr_conf_apply ETC` and `frr_conf_remove ETC`, the frr.conf step's body
 * and delete. Apply (after `stage_file ETC frr.conf`): give the staged file the kernel's
 * forwarding lines ({@link mirrorForwardingFunction}), check it with `vtysh --dryrun`
 * where FRR runs, then start FRR (first apply) or replace the file and apply it
 * (`apply_conf`). Remove (a header-only config on stdin, given the kernel's forwarding
 * lines too): apply it while FRR runs (removing every interface, BGP and policy line),
 * then remove the file.
 */
export function frrConfFunctions(): string[] {
  return [
    ...mirrorForwardingFunction(),
    "frr_conf_apply() {",
    "    local check",
    '    mirror_forwarding "$staged"',
    // The same file seen from where FRR runs: /etc/frr/<its unique name>.
    `    if ! check=$(in_frr vtysh --dryrun -f "/etc/frr/\${staged##*/}" 2>&1) || grep -Eq ${quote(DRYRUN_REJECTED_LINE.source)} <<<"$check"; then`,
    '        rm -f "$staged"',
    // Only what this run did is claimed: its file was not published or applied.
    `        ${warn(`vtysh --dryrun rejected the new frr.conf, so it was not put in place or applied:`)}`,
    '        echo "$check" >&2',
    "        exit 1",
    "    fi",
    '    mv -f "$staged" "$1/frr.conf"',
    "    if ! in_frr systemctl is-active --quiet frr; then",
    `        ${say(`starting FRR with the new frr.conf`)}`,
    "        in_frr systemctl enable --quiet frr",
    "        in_frr systemctl start frr",
    "        wait_until 60 'frr to be active' in_frr systemctl is-active --quiet frr",
    "        exit 0",
    "    fi",
    '    apply_conf "frr.conf is in place but not fully applied" || exit 1',
    `    ${say(`frr.conf applied with frr-reload.py`)}`,
    "}",
    "frr_conf_remove() {",
    '    rm -f "$1/frr.conf".frr-nspawn-new.*',
    "    if ! { machine_running && in_frr systemctl is-active --quiet frr; }; then",
    '        rm -f "$1/frr.conf"',
    `        ${say(`FRR is not running; frr.conf removed`)}`,
    "        exit 0",
    "    fi",
    '    install_stdin "$1/frr.conf" 0640',
    '    chown --reference="$1" "$1/frr.conf"',
    '    mirror_forwarding "$1/frr.conf"',
    '    apply_conf "the config could not be removed from the running FRR" || exit 1',
    '    rm -f "$1/frr.conf"',
    `    ${say(`BGP config removed from the running FRR and frr.conf deleted`)}`,
    "}",
  ];
}

/** What a frr.conf step defines inline (the host library holds it otherwise). */
function frrConfInline(): string[] {
  return [
    ...waitUntilFunction(),
    ...applyConfFunction(),
    ...installStdinFunction(),
    ...stageFileFunction(),
    ...frrConfFunctions(),
  ];
}

/** Create/update of the frr.conf step: stage, then {@link frrConfFunctions}' apply. */
export function renderFrrConfApply(step: StepId, target: FrrTarget, frrConf: string): string {
  const etc = frrEtc(target);
  const description = `frr.conf on ${label(target)}, checked, then applied`;
  return script({ ...stepOf(step), description, lock: true, onFailure: REMOVE_STAGED }, [
    ...imageNote(target),
    ...inFrrFunctions(target, step),
    ...(sourcesLibrary(step) ? [] : frrConfInline()),
    "if ! machine_running; then",
    `    ${warn(`${label(target)} is not running; start it and run again`)}`,
    "    exit 1",
    "fi",
    ...stage(etc, "frr.conf", frrConf),
    command("frr_conf_apply", etc),
  ]);
}

/** Delete of the frr.conf step: {@link frrConfFunctions}' remove with a header-only config. */
export function renderFrrConfRemove(step: StepId, target: FrrTarget, emptyConf: string): string {
  const etc = frrEtc(target);
  const description = `remove this stack's frr.conf from ${label(target)}`;
  return script({ ...stepOf(step), description, lock: true }, [
    ...inFrrFunctions(target, step),
    ...(sourcesLibrary(step) ? [] : frrConfInline()),
    ...withStdin(command("frr_conf_remove", etc), emptyConf, "the header-only frr.conf"),
  ]);
}
