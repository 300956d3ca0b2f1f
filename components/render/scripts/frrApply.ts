/**
 * Scripts that put FRR's daemons file and frr.conf in place and apply them: checked with
 * `vtysh --dryrun` before they replace the running files; the first apply starts FRR; a
 * frr.conf change is applied by `frr-reload.py` (sessions stay up); a daemons change
 * restarts FRR. Used for FRR in a machine (BgpLoopback) and on a plain-FRR switch
 * (TorCumulus with `cli: "vtysh"`).
 */
import {
  command,
  contentInto,
  heredocDelimiter,
  quote,
  say,
  script,
  StepId,
  stepOf,
  sourcesLibrary,
  warn,
  writeFile,
} from "../../shell";
import { INTERFACE_PLAN_PY } from "./interfacePlan";
import { FRR_STOP_DROP_IN } from "../daemons";
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

/**
 * The prefix of a staged file: each run stages under its own name (`mktemp`), so two runs
 * on one host never publish each other's file.
 */
function stagedPrefix(etc: string, file: string): string {
  return `${etc}/${file}.frr-nspawn-new.`;
}

/** Removes what a failed or killed run left staged (under the host lock: no run is active). */
function removeStaged(etc: string, file: string): string {
  return `rm -f ${quote(stagedPrefix(etc, file))}*`;
}

/** Failure cleanup: the staged file, if this run made one. */
const REMOVE_STAGED = ['if [ -n "${staged:-}" ]; then rm -f "$staged"; fi'];

/**
 * Lines that write `content` to a new unique file `<etc>/<file>.frr-nspawn-new.XXXXXX`,
 * owned like /etc/frr, whose path is then in `$staged`.
 */
function stage(etc: string, file: string, content: string): string[] {
  return [
    `if [ ! -d ${quote(etc)} ]; then`,
    `    ${warn(`${etc} does not exist: is FRR installed there?`)}`,
    "    exit 1",
    "fi",
    `staged=$(mktemp ${quote(`${stagedPrefix(etc, file)}XXXXXX`)})`,
    ...contentInto('"$staged"', content),
    'chmod 0640 "$staged"',
    `chown --reference=${quote(etc)} "$staged"`,
  ];
}

function startFrr(): string[] {
  return [
    "in_frr systemctl enable --quiet frr",
    "in_frr systemctl start frr",
    "wait_until 60 'frr to be active' in_frr systemctl is-active --quiet frr",
  ];
}

/**
 * Lines that put frr.service's stop drop-in (daemons.renderFrrStopDropIn) in place, or
 * take it away when `dropIn` is undefined, and reload systemd where FRR runs if that
 * changed anything. It takes effect at FRR's next stop: nothing restarts for it.
 */
function stopDropIn(target: FrrTarget, dropIn: string | undefined): string[] {
  const file = frrRootPath(target, FRR_STOP_DROP_IN);
  const dir = file.slice(0, file.lastIndexOf("/"));
  const reload = ["    if machine_running; then in_frr systemctl daemon-reload; fi"];
  if (dropIn === undefined) {
    return [
      `if [ -e ${quote(file)} ]; then`,
      `    ${command("rm", "-f", file)}`,
      `    rmdir ${quote(dir)} 2>/dev/null || true`,
      ...reload,
      "fi",
    ];
  }
  const delimiter = heredocDelimiter(dropIn);
  return [
    `if ! cmp -s ${quote(file)} - <<'${delimiter}'`,
    ...dropIn.replace(/\n$/, "").split("\n"),
    delimiter,
    "then",
    `    ${command("mkdir", "-p", dir)}`,
    // Not indented: the heredoc's closing delimiter must start its line.
    ...writeFile(file, dropIn, { mode: "0644" }),
    ...reload,
    `    ${say(`frr.service stops zebra first (graceful restart)`)}`,
    "fi",
  ];
}

/**
 * Create/update of the daemons step: back up the original once, replace, restart if
 * changed; and frr.service's stop drop-in, when the release line needs one.
 */
export function renderDaemonsApply(
  step: StepId,
  target: FrrTarget,
  daemons: string,
  dropIn?: string,
): string {
  const etc = frrEtc(target);
  const file = `${etc}/daemons`;
  const backup = `${file}.frr-nspawn-orig`;
  const description = `FRR daemons file on ${label(target)}`;
  return script({ ...stepOf(step), description, lock: true, onFailure: REMOVE_STAGED }, [
    ...imageNote(target),
    ...inFrrFunctions(target, step),
    ...(sourcesLibrary(step) ? [] : waitUntilFunction()),
    ...stopDropIn(target, dropIn),
    ...stage(etc, "daemons", daemons),
    `if [ -e ${quote(file)} ] && [ ! -e ${quote(backup)} ]; then`,
    `    ${command("cp", "-p", file, backup)}`,
    "fi",
    `if cmp -s "$staged" ${quote(file)}; then`,
    '    rm -f "$staged"',
    `    ${say(`daemons file unchanged`)}`,
    "    exit 0",
    "fi",
    `mv -f "$staged" ${quote(file)}`,
    "if machine_running && in_frr systemctl is-active --quiet frr; then",
    `    ${say(`daemons file changed: restarting FRR`)}`,
    "    in_frr systemctl restart frr",
    "    wait_until 60 'frr to be active' in_frr systemctl is-active --quiet frr",
    "fi",
  ]);
}

/** Delete of the daemons step: put the original file back (restarting FRR if it runs). */
export function renderDaemonsRemove(step: StepId, target: FrrTarget): string {
  const etc = frrEtc(target);
  const file = `${etc}/daemons`;
  const backup = `${file}.frr-nspawn-orig`;
  const description = `restore FRR's original daemons file on ${label(target)}`;
  return script({ ...stepOf(step), description, lock: true }, [
    ...inFrrFunctions(target, step),
    ...(sourcesLibrary(step) ? [] : waitUntilFunction()),
    ...stopDropIn(target, undefined),
    removeStaged(etc, "daemons"),
    `if [ ! -e ${quote(backup)} ]; then`,
    `    ${say(`no saved daemons file to restore; leaving it as it is`)}`,
    "    exit 0",
    "fi",
    command("mv", "-f", backup, file),
    "if machine_running && in_frr systemctl is-active --quiet frr; then",
    "    in_frr systemctl restart frr",
    "fi",
  ]);
}

/**
 * Create/update of the frr.conf step: stage, check with `vtysh --dryrun` where FRR runs,
 * then start FRR (first apply) or replace the file and apply it (`apply_conf`).
 */
export function renderFrrConfApply(step: StepId, target: FrrTarget, frrConf: string): string {
  const etc = frrEtc(target);
  const file = `${etc}/frr.conf`;
  const description = `frr.conf on ${label(target)}, checked, then applied`;
  return script({ ...stepOf(step), description, lock: true, onFailure: REMOVE_STAGED }, [
    ...imageNote(target),
    ...inFrrFunctions(target, step),
    ...(sourcesLibrary(step) ? [] : [...waitUntilFunction(), ...applyConfFunction()]),
    "if ! machine_running; then",
    `    ${warn(`${label(target)} is not running; start it and run again`)}`,
    "    exit 1",
    "fi",
    ...stage(etc, "frr.conf", frrConf),
    // The same file seen from where FRR runs: /etc/frr/<its unique name>.
    `if ! check=$(in_frr vtysh --dryrun -f "/etc/frr/\${staged##*/}" 2>&1) || grep -Eq ${quote(DRYRUN_REJECTED_LINE.source)} <<<"$check"; then`,
    '    rm -f "$staged"',
    // Only what this run did is claimed: its file was not published or applied.
    `    ${warn(`vtysh --dryrun rejected the new frr.conf, so it was not put in place or applied:`)}`,
    '    echo "$check" >&2',
    "    exit 1",
    "fi",
    `mv -f "$staged" ${quote(file)}`,
    "if ! in_frr systemctl is-active --quiet frr; then",
    `    ${say(`starting FRR with the new frr.conf`)}`,
    ...startFrr(),
    "    exit 0",
    "fi",
    'apply_conf "frr.conf is in place but not fully applied" || exit 1',
    `${say(`frr.conf applied with frr-reload.py`)}`,
  ]);
}

/**
 * Delete of the frr.conf step: apply a header-only config (removing every interface, BGP
 * and policy line) while FRR runs, then remove the file.
 */
export function renderFrrConfRemove(step: StepId, target: FrrTarget, emptyConf: string): string {
  const etc = frrEtc(target);
  const file = `${etc}/frr.conf`;
  const description = `remove this stack's frr.conf from ${label(target)}`;
  return script({ ...stepOf(step), description, lock: true }, [
    ...inFrrFunctions(target, step),
    ...(sourcesLibrary(step) ? [] : applyConfFunction()),
    removeStaged(etc, "frr.conf"),
    "if ! { machine_running && in_frr systemctl is-active --quiet frr; }; then",
    `    rm -f ${quote(file)}`,
    `    ${say(`FRR is not running; frr.conf removed`)}`,
    "    exit 0",
    "fi",
    // Written unindented: the heredoc body is the file's content.
    ...writeFile(file, emptyConf, { mode: "0640" }),
    `chown --reference=${quote(etc)} ${quote(file)}`,
    'apply_conf "the config could not be removed from the running FRR" || exit 1',
    `rm -f ${quote(file)}`,
    `${say(`BGP config removed from the running FRR and frr.conf deleted`)}`,
  ]);
}
