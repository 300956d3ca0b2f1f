/**
 * The verify step: waits until every BGP session the resource owns is Established and
 * advertises what it should, then prints each session's state on one line for the
 * component's `sessions` output; on timeout it fails naming each session, its state
 * and FRR's last error for it. Read-only: it changes nothing on the host or switch.
 *
 * The check is a small Python program run where FRR runs (the FRR image has python3,
 * which frr-pythontools needs; Cumulus and plain-FRR switches have it too; written for
 * Python 3.4 on, no `subprocess.run`): it reads `show bgp neighbors json` and each
 * neighbour's `advertised-routes json`. Interface (unnumbered) neighbours are keyed by
 * their interface name on both sides: a host's `ens3`, a switch's `swp1`. The field
 * names (bgpState, lastNotificationReason, lastResetDueTo, advertisedRoutes) were read
 * from real FRR 8.4 daemons, and tests/frr/verify.test.ts runs it against 8.4's and 10.3's.
 */
import { createHash } from "node:crypto";
import { command, quote, script, sourcesLibrary, StepId, stepOf } from "../../shell";
import { FrrTarget, imageNote, inFrrFunctions } from "./lib";

/** A verify step's own limit: above any `verifyTimeoutSeconds` allowed (5..1800). */
export const VERIFY_STEP_LIMIT_SECONDS = 1900;

/** The prefix of the line carrying the sessions' states, as JSON. */
export const SESSIONS_PREFIX = "FRR_NSPAWN_SESSIONS ";

/** One BGP session's state at the end of a run. */
export interface SessionState {
  /** FRR's `bgpState`, e.g. `Established`, `Active`, `Idle`; `not configured` if absent. */
  state: string;
  /** True when every prefix the resource announces is in the session's advertised routes. */
  advertised: boolean;
  /** FRR's last notification reason or reset cause, for a session not Established ("" else). */
  lastError: string;
}

/** What one verify step checks. */
export interface VerifyConfig {
  /** Interface (unnumbered) neighbours, by name: a host's uplinks or a switch's downlinks. */
  neighbors: readonly string[];
  /** Prefixes each session must advertise, e.g. the loopback `/32`. */
  advertise: readonly string[];
  /** How long to wait for every session. */
  timeoutSeconds: number;
  /**
   * The config the sessions come from (a host's frr.conf, a switch's own lines): its hash
   * goes into the script, so a changed config is verified again.
   */
  frrConf: string;
}

/** Python (no single quotes, no interpolation: its inputs arrive as argv). */
const CHECK_PY = [
  "import json, subprocess, sys",
  "advertise = sys.argv[1].split()",
  "neighbors = sys.argv[2:]",
  "def show(cmd):",
  '    proc = subprocess.Popen(["vtysh", "-c", cmd], stdout=subprocess.PIPE, universal_newlines=True)',
  "    out = proc.communicate()[0]",
  "    try:",
  '        return json.loads(out or "{}")',
  "    except ValueError:",
  "        return {}",
  'peers = show("show bgp neighbors json")',
  "sessions, problems = {}, []",
  "for name in neighbors:",
  "    peer = peers.get(name, {})",
  '    state = peer.get("bgpState", "not configured")',
  '    error = ""',
  '    if state != "Established":',
  '        error = peer.get("lastNotificationReason") or peer.get("lastResetDueTo") or ""',
  "    routes = {}",
  '    if state == "Established":',
  '        routes = show("show bgp ipv4 unicast neighbors " + name + " advertised-routes json")',
  '        routes = routes.get("advertisedRoutes", {})',
  "    missing = [p for p in advertise if p not in routes]",
  '    sessions[name] = {"state": state, "advertised": not missing, "lastError": error}',
  '    if state != "Established":',
  '        problems.append("neighbor " + name + " is " + state + (" (last error: " + error + ")" if error else ""))',
  "    elif missing:",
  '        problems.append("neighbor " + name + " is Established but does not advertise " + ", ".join(missing))',
  `print(${JSON.stringify(SESSIONS_PREFIX)} + json.dumps(sessions, sort_keys=True))`,
  "for p in problems:",
  "    print(p)",
  "sys.exit(1 if problems else 0)",
].join("\n");

/**
 * Lines defining `verify_check_py` (the check's Python) and `verify_sessions SECONDS
 * ADVERTISE NEIGHBOR…`, the verify step's body: runs the check where FRR runs every 2 s
 * until it passes (printing the sessions line) or SECONDS have passed (failing with one
 * line naming every session's problem). ADVERTISE is the prefixes, space-separated.
 */
export function verifySessionsFunction(): string[] {
  const prefix = quote(`^${SESSIONS_PREFIX}`);
  return [
    `verify_check_py=${quote(CHECK_PY)}`,
    "verify_sessions() {",
    "    local limit=$1 advertise=$2 deadline=$((SECONDS + $1)) out problems line",
    "    shift 2",
    "    while :; do",
    // The program's own argument is the variable, expanded by bash here, not quoted text.
    '        if out=$(in_frr python3 -c "$verify_check_py" "$advertise" "$@" 2>&1); then',
    `            grep ${prefix} <<<"$out"`,
    "            exit 0",
    "        fi",
    '        if [ "$SECONDS" -ge "$deadline" ]; then',
    `            grep ${prefix} <<<"$out" || true`,
    // One line, so that the step's failure summary (the last line) names every session.
    '            problems=""',
    "            while IFS= read -r line; do",
    '                problems+="${problems:+; }$line"',
    `            done < <(grep -v ${prefix} <<<"$out" || true)`,
    '            echo "frr-nspawn: BGP sessions not up after ${limit}s: $problems" >&2',
    "            exit 1",
    "        fi",
    "        sleep 2",
    "    done",
    "}",
  ];
}

/** Create/update of the verify step: {@link verifySessionsFunction} with its sessions. */
export function renderVerify(step: StepId, target: FrrTarget, c: VerifyConfig): string {
  const confHash = createHash("sha256").update(c.frrConf).digest("hex").slice(0, 16);
  return script(
    {
      ...stepOf(step),
      description: `wait until every BGP session is Established and advertises its prefixes`,
    },
    [
      `# Verifies the sessions of frr.conf ${confHash}; a changed frr.conf verifies again.`,
      ...imageNote(target),
      ...inFrrFunctions(target, step),
      ...(sourcesLibrary(step) ? [] : verifySessionsFunction()),
      command(
        "verify_sessions",
        String(Math.floor(c.timeoutSeconds)),
        c.advertise.join(" "),
        ...c.neighbors,
      ),
    ],
  );
}

/** The sessions' states from the verify step's stdout ({} when it has none). */
export function parseSessions(stdout: string): Record<string, SessionState> {
  const line = stdout.split("\n").find((l) => l.startsWith(SESSIONS_PREFIX));
  return line === undefined
    ? {}
    : (JSON.parse(line.slice(SESSIONS_PREFIX.length)) as Record<string, SessionState>);
}
