/**
 * The apply flow every dialect shares, as bash: one writer at a time on the switch,
 * someone else's pending work refused before anything is staged, switch-wide settings
 * checked then set when absent, stale lines of an earlier apply removed, the resource's
 * own lines added, one commit, then a check of the switch's configuration listing
 * (a dialect can report success and still not have applied a line). Delete removes only
 * this resource's own lines that are still there. Each dialect supplies the pieces that
 * differ (how to run a command, list the config, commit, discard) as a {@link Flow}.
 */
import { command, quote, say, script, warn, writeFile } from "../../shell";
import {
  OwnedLine,
  SWITCH_LOCK,
  SWITCH_STATE_DIR,
  SwitchConfig,
  Words,
  switchStatePath,
} from "./model";

/** What differs between dialects in the shared flow. */
export interface Flow {
  /** Bash functions the other pieces call (defined first). */
  functions: string[];
  /** A command printing the switch's configuration, one {@link Flow.key} per line. */
  listing: string;
  /** A `sed -n` script printing the ASN found in the listing (nothing when there is none). */
  asnSed: string;
  /** A `sed -n` script printing the router-id found in the listing. */
  routerIdSed: string;
  /**
   * Lines run before the configuration is read: fail, naming the work, when someone
   * else's changes are pending; make sure the routing daemon can take the lines.
   */
  before: string[];
  /** A command discarding what this run staged (run when the script fails). */
  discard: string;
  /** A shell line that stages (or runs) one command. */
  run(words: Words): string;
  /** How a line appears in the listing. */
  key(words: Words): string;
  /** Lines that apply what was staged, doing nothing when nothing changed. */
  commit(message: string): string[];
  /**
   * bash patterns of keys an earlier release of this package owned and this one no longer
   * sets: on update they leave the state file without their removal running.
   */
  disowned?: string[];
}

/**
 * A bash function `name` that reads a configuration listing on stdin and prints it with
 * every line `<lead><list> <rest>` written once per interface of `<list>`. Cumulus's
 * listings group ports: `net add interface swp1-4 mtu 9202`, `net add interface
 * ipmr-lo,lo,swp1-4 pim`, `net add vxlan vx-1000-1009,4001-4003 …` (a bare number takes
 * the last name's prefix), as printed by `net show configuration commands` on
 * cumulus-linux-42 …/EVPN-Multihoming.md, and `nv set interface swp51-54 link state up`
 * in `nv config show -o commands`. With `bare`, each interface of a line with settings is
 * also printed alone (`net add interface swp1`): that listing shows a configured port
 * that has settings only with them (it has no bare `net add interface swp1-4`), so a port
 * with settings counts as configured.
 */
export function expandInterfacesFunction(
  name: string,
  lead: string,
  bare: boolean,
  /** awk rules run first on every line (one awk in all: one process per listing). */
  rules: string[] = [],
): string[] {
  const program = [
    ...rules,
    "index($0, lead) != 1 { print; next }",
    "{",
    '    rest = substr($0, length(lead) + 1); sp = index(rest, " ")',
    '    if (sp) { list = substr(rest, 1, sp - 1); tail = substr(rest, sp) } else { list = rest; tail = "" }',
    '    n = split(list, items, ","); prefix = ""',
    "    for (i = 1; i <= n; i++) {",
    '        if (!match(items[i], /[0-9]+(-[0-9]+)?$/)) { print lead items[i] tail; if (bare && tail != "") print lead items[i]; continue }',
    "        p = substr(items[i], 1, RSTART - 1); span = substr(items[i], RSTART)",
    '        if (p == "") p = prefix; else prefix = p',
    '        dash = index(span, "-"); first = (dash ? substr(span, 1, dash - 1) : span) + 0; last = (dash ? substr(span, dash + 1) : span) + 0',
    '        for (j = first; j <= last; j++) { print lead p j tail; if (bare && tail != "") print lead p j }',
    "    }",
    "}",
  ].join("\n");
  return [
    `${name}() {`,
    `    awk -v lead=${quote(lead)} -v bare=${bare ? 1 : 0} ${quote(program)}`,
    "}",
  ];
}

/** The script frame: the switch-wide lock, and a failure discards this run's staged work only. */
function frame(flow: Flow, step: string, description: string, lines: string[]): string {
  return script(
    {
      step,
      description,
      lock: { path: SWITCH_LOCK, waitSeconds: 600 },
      onFailure: [`if [ "\${staged:-0}" = 1 ]; then ${flow.discard} >/dev/null 2>&1 || true; fi`],
    },
    lines,
  );
}

function preamble(flow: Flow): string[] {
  return [
    ...flow.functions,
    // Nothing is staged before this point; after it, a failure discards this run's work only.
    "staged=0",
    ...flow.before,
    `config=$(${flow.listing})`,
    'has() { grep -Fxq -- "$1" <<<"$config"; }',
  ];
}

/** Lines failing with both values when the switch already has another ASN or router-id. */
function checkShared(flow: Flow, c: SwitchConfig): string[] {
  const check = (what: string, sed: string, want: string, fix: string) => [
    `current=$(sed -n ${quote(sed)} <<<"$config" | head -n 1)`,
    `if [ -n "$current" ] && [ "$current" != ${quote(want)} ]; then`,
    `    echo "frr-nspawn: the switch's ${what} is $current, this resource's is "${quote(want)}"; ${fix}" >&2`,
    "    exit 1",
    "fi",
  ];
  return [
    ...check(
      "BGP AS number",
      flow.asnSed,
      String(c.asn),
      "set asn to the switch's (a switch has one BGP AS; frr-nspawn never changes it)",
    ),
    ...check(
      "BGP router-id",
      flow.routerIdSed,
      c.routerId,
      "set routerId to the switch's (frr-nspawn never changes it)",
    ),
  ];
}

/** `key<TAB>remove` per owned line: what the state file holds. */
function stateLines(flow: Flow, owned: OwnedLine[]): string {
  return owned.map((o) => `${flow.key(o.add)}\t${flow.run(o.remove)}\n`).join("");
}

function addIfAbsent(flow: Flow, words: Words): string {
  return `if ! has ${quote(flow.key(words))}; then staged=1; ${flow.run(words)}; fi`;
}

function removeIfPresent(flow: Flow, o: OwnedLine): string {
  return `if has ${quote(flow.key(o.add))}; then staged=1; ${flow.run(o.remove)}; fi`;
}

function verify(flow: Flow, present: Words[], absent: Words[]): string[] {
  const lines = [`config=$(${flow.listing})`, "missing=()"];
  for (const words of present) {
    lines.push(
      `has ${quote(flow.key(words))} || missing+=(${quote(`missing: ${flow.key(words)}`)})`,
    );
  }
  for (const words of absent) {
    lines.push(
      `! has ${quote(flow.key(words))} || missing+=(${quote(`still there: ${flow.key(words)}`)})`,
    );
  }
  return [
    ...lines,
    'if [ "${#missing[@]}" -gt 0 ]; then',
    `    ${warn("the switch's configuration does not show what was applied:")}`,
    '    printf "  %s\\n" "${missing[@]}" >&2',
    "    exit 1",
    "fi",
  ];
}

/**
 * Create/update: refuse foreign pending work, check the switch-wide settings, remove what
 * an earlier apply owned and no longer wants (only where still there), add what is
 * missing, commit once, verify, then record what this resource owns.
 */
export function renderApply(
  flow: Flow,
  step: string,
  describes: string,
  c: SwitchConfig,
  shared: Words[],
  owned: OwnedLine[],
): string {
  const state = switchStatePath(c.id);
  const wanted = `${state}.new`;
  return frame(flow, step, describes, [
    ...preamble(flow),
    ...checkShared(flow, c),
    command("mkdir", "-p", SWITCH_STATE_DIR),
    ...writeFile(wanted, stateLines(flow, owned)),
    // Lines an earlier apply owned whose removal is no longer among the wanted ones,
    // last added first (as destroy does).
    `if [ -e ${quote(state)} ]; then`,
    "    while IFS=$'\\t' read -r key remove; do",
    ...(flow.disowned ?? []).map(
      (pattern) => `        case "$key" in ${pattern}) continue ;; esac`,
    ),
    `        if awk -F'\\t' -v r="$remove" '$2 == r { found = 1 } END { exit !found }' ${quote(wanted)}; then continue; fi`,
    '        if has "$key"; then staged=1; eval "$remove"; fi',
    `    done < <(tac ${quote(state)})`,
    "fi",
    ...shared.map((w) => addIfAbsent(flow, w)),
    ...owned.map((o) => addIfAbsent(flow, o.add)),
    ...flow.commit(c.description),
    "staged=0",
    ...verify(flow, [...shared, ...owned.map((o) => o.add)], []),
    command("mv", "-f", wanted, state),
    say(`switch configured (${owned.length} own lines, ${shared.length} switch-wide)`),
  ]);
}

/** Delete: remove this resource's own lines that are still there (last added first). */
export function renderRemove(
  flow: Flow,
  step: string,
  describes: string,
  c: SwitchConfig,
  owned: OwnedLine[],
): string {
  const reversed = [...owned].reverse();
  return frame(flow, step, `${describes}: remove this resource's own lines`, [
    ...preamble(flow),
    ...reversed.map((o) => removeIfPresent(flow, o)),
    ...flow.commit(`${c.description} (destroy)`),
    "staged=0",
    ...verify(
      flow,
      [],
      reversed.map((o) => o.add),
    ),
    command("rm", "-f", switchStatePath(c.id)),
    say("this resource's switch lines are gone; switch-wide settings stay"),
  ]);
}
