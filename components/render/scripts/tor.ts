/**
 * TorCumulus's NCLU script: one writer at a time on the switch, nothing left pending on
 * failure, stale lines of an earlier apply removed, commit only when something changed.
 */
import { CumulusConfig, ncluAddLines, ncluDelLines } from "../nclu";
import { command, quote, say, script, warn, writeFile } from "../../shell";
import { STATE_DIR } from "./lib";

/** The switch-wide lock: NCLU's pending buffer is shared by every session. */
export const NCLU_LOCK = "/run/frr-nspawn-nclu.lock";

/** Where the inverse of what a resource applied is kept on the switch. */
export function ncluStatePath(id: string): string {
  return `${STATE_DIR}/nclu/${id}.undo`;
}

/** Whatever fails, leave nothing pending for the next writer (run by the exit handler). */
const ABORT_ON_FAILURE = ["command net abort >/dev/null 2>&1 || true"];

function preamble(): string[] {
  return [
    `exec 9>${quote(NCLU_LOCK)}`,
    `if ! flock --wait 600 9; then ${warn(`another NCLU writer held ${NCLU_LOCK} for 10 minutes`)}; exit 1; fi`,
    "net() {",
    "    local out",
    '    if ! out=$(command net "$@" 2>&1) || grep -q "ERROR" <<<"$out"; then',
    '        echo "frr-nspawn: net $* failed:" >&2',
    '        echo "$out" >&2',
    "        return 1",
    "    fi",
    '    printf "%s\\n" "$out"',
    "}",
    "commit() {",
    "    local pending out",
    "    pending=$(net pending)",
    '    if [ -z "$pending" ]; then',
    `        ${say(`nothing to commit`)}`,
    "        return 0",
    "    fi",
    '    out=$(net commit description "$1")',
    '    printf "%s\\n" "$out"',
    '    if grep -Eqi "ifreload.*(fail|error)|error:" <<<"$out"; then',
    `        ${warn(`the commit reported a failure; see above (net rollback last undoes it)`)}`,
    "        return 1",
    "    fi",
    "}",
    "net abort",
  ];
}

/**
 * Create/update: remove lines an earlier apply made that are no longer wanted, add the
 * wanted ones, commit with `description`, then record the inverse for the next run.
 */
export function renderNcluApply(
  step: string,
  id: string,
  c: CumulusConfig,
  description: string,
): string {
  const state = ncluStatePath(id);
  const undo = `${ncluDelLines(c).join("\n")}\n`;
  const stale = `${state}.stale`;
  return script({ step, description: "switch config with NCLU", onFailure: ABORT_ON_FAILURE }, [
    ...preamble(),
    command("mkdir", "-p", `${STATE_DIR}/nclu`),
    ...writeFile(`${state}.new`, undo),
    `if [ -e ${quote(state)} ]; then`,
    `    grep -Fxv -f ${quote(`${state}.new`)} ${quote(state)} > ${quote(stale)} || true`,
    '    while IFS= read -r line; do eval "$line"; done < ' + quote(stale),
    `    rm -f ${quote(stale)}`,
    "fi",
    ...ncluAddLines(c),
    `commit ${quote(description)}`,
    command("mv", "-f", `${state}.new`, state),
  ]);
}

/** Delete: the exact inverse of what this resource applied, then commit. */
export function renderNcluRemove(
  step: string,
  id: string,
  c: CumulusConfig,
  description: string,
): string {
  return script(
    {
      step,
      description: "remove this stack's switch config with NCLU",
      onFailure: ABORT_ON_FAILURE,
    },
    [
      ...preamble(),
      ...ncluDelLines(c),
      `commit ${quote(description)}`,
      command("rm", "-f", ncluStatePath(id)),
    ],
  );
}
