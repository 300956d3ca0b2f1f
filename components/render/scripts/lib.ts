/**
 * Bash functions shared by the step scripts. Each returns lines to put at the top of a
 * script; every value in them is quoted by the one quoting helper.
 */
import { quote, sourcesLibrary, StepId } from "../../shell";

/** Where frr-nspawn keeps its markers on a host (which image it imported, saved sysctls). */
export const STATE_DIR = "/var/lib/frr-nspawn";

/** Where FRR's files are, seen from the host, and how to run a command next to FRR. */
export type FrrTarget =
  /**
   * FRR inside an nspawn machine: files under /var/lib/machines/<machine>, commands by
   * nsenter. `imageId` names the image it runs (NspawnMachine.imageId), when known: a new
   * image is a fresh rootfs, so the steps that write into it run again.
   */
  | { kind: "machine"; machine: string; imageId?: string }
  /** FRR on the host itself (a plain-FRR switch): files under /, commands run directly. */
  | { kind: "host" };

/** A comment that ties a step's script to the machine's image, so a new image re-runs it. */
export function imageNote(target: FrrTarget): string[] {
  return target.kind === "machine" && target.imageId !== undefined
    ? [`# Written into the rootfs of image ${target.imageId}; a new image runs this again.`]
    : [];
}

/** The host path of FRR's /etc/frr for a target. */
export function frrEtc(target: FrrTarget): string {
  switch (target.kind) {
    case "machine":
      return `/var/lib/machines/${target.machine}/etc/frr`;
    case "host":
      return "/etc/frr";
    default: {
      const never: never = target;
      throw new Error(`unknown FRR target ${JSON.stringify(never)}`);
    }
  }
}

/** The host path of a file of FRR's root (`/etc/…` inside the machine), for a target. */
export function frrRootPath(target: FrrTarget, path: string): string {
  return target.kind === "machine" ? `/var/lib/machines/${target.machine}${path}` : path;
}

/** The shell variable naming the machine, which the machine helpers read. */
export const MACHINE_VARIABLE = "frr_nspawn_machine";

/**
 * `machine_running` tells whether the machine named by {@link MACHINE_VARIABLE} is up;
 * `in_frr CMD…` runs a command inside its namespaces (entered through its leader PID, so
 * no D-Bus is needed in the machine). The same text inline and in the host library.
 */
export function machineFrrFunctions(): string[] {
  return [
    "machine_running() {",
    `    [ "$(machinectl show "$${MACHINE_VARIABLE}" --property=State --value 2>/dev/null)" = running ]`,
    "}",
    "in_frr() {",
    "    local leader",
    `    leader=$(machinectl show "$${MACHINE_VARIABLE}" --property=Leader --value 2>/dev/null || true)`,
    '    if [ -z "$leader" ] || [ "$leader" = 0 ]; then',
    `        echo "frr-nspawn: machine $${MACHINE_VARIABLE} is not running; start it (machinectl start $${MACHINE_VARIABLE}) and run again" >&2`,
    "        return 1",
    "    fi",
    '    nsenter --target "$leader" --mount --uts --ipc --net --pid -- "$@"',
    "}",
  ];
}

/**
 * frr-nspawn's state folder of the machine named by {@link MACHINE_VARIABLE}, as shell
 * text (an assignment's value, or inside double quotes): the library's step bodies keep
 * their records there (the images a machine has, the sysctls it replaced).
 */
export const MACHINE_STATE = `${STATE_DIR}/$${MACHINE_VARIABLE}`;

/**
 * Lines (a step body's, indented once) removing the machine's state folder, held in the
 * body's `$s` (set to {@link MACHINE_STATE}), and frr-nspawn's, once they are empty.
 */
export function removeStateDirs(): string[] {
  return [
    '    rmdir "$s" 2>/dev/null || true',
    `    rmdir ${quote(STATE_DIR)} 2>/dev/null || true`,
  ];
}

/** The line that names the machine for the machine helpers (see {@link MACHINE_VARIABLE}). */
export function machineVariable(machine: string): string {
  return `${MACHINE_VARIABLE}=${quote(machine)}`;
}

/**
 * `in_frr CMD…` runs a command where FRR runs: inside the machine's namespaces or on the
 * host; `machine_running` tells whether the machine is up. For a machine, the variable
 * naming it, then (unless `step` sources the host library, which defines them) the two
 * functions of {@link machineFrrFunctions}.
 */
export function inFrrFunctions(target: FrrTarget, step?: StepId): string[] {
  switch (target.kind) {
    case "machine":
      return [
        machineVariable(target.machine),
        ...(step !== undefined && sourcesLibrary(step) ? [] : machineFrrFunctions()),
      ];
    case "host":
      return ["machine_running() {", "    true", "}", "in_frr() {", '    "$@"', "}"];
    default: {
      const never: never = target;
      throw new Error(`unknown FRR target ${JSON.stringify(never)}`);
    }
  }
}

/**
 * `wait_until SECONDS WHAT CMD…` retries CMD every second until it succeeds, or fails
 * after SECONDS saying what it waited for.
 */
/**
 * `mgmtd_retry CMD…`: runs CMD (a vtysh call) and prints its output (stderr merged),
 * running it again, every 0.2 s for up to 10 s, while the output says the running
 * datastore is locked: FRR 10's mgmtd can still hold the lock of the previous vtysh
 * session after that vtysh has exited ("% command failed, could not lock running DS",
 * seen between two one-line vtysh calls on 10.3 in tests/frr/reload.test.ts); or while
 * FRR 10 refuses it on a YANG must-condition that the previous call's commit satisfies
 * once that commit has landed (seen twice in the full suite on 10.3, never alone:
 * `ipv6 nd ra-lifetime 15` right after `ipv6 nd ra-interval 5` on a new interface, "Must
 * condition ". = 0 or . * 1000 >= ../max-rtr-adv-interval" not satisfied"). A refused
 * command changed nothing, so running it again is safe; a must-condition that never
 * holds fails after the 10 s. Returns CMD's exit status.
 */
export function mgmtdRetryFunction(): string[] {
  return [
    "mgmtd_retry() {",
    "    local out rc tries=0",
    "    while :; do",
    "        rc=0",
    '        out=$("$@" 2>&1) || rc=$?',
    `        if ! grep -Eq 'could not lock|Must condition' <<<"$out" || [ "$tries" -ge 50 ]; then break; fi`,
    "        tries=$((tries + 1))",
    "        sleep 0.2",
    "    done",
    `    printf '%s\n' "$out"`,
    '    return "$rc"',
    "}",
  ];
}

export function waitUntilFunction(): string[] {
  return [
    "wait_until() {",
    "    local limit=$1 what=$2 deadline=$((SECONDS + $1))",
    "    shift 2",
    '    until "$@"; do',
    '        if [ "$SECONDS" -ge "$deadline" ]; then',
    // $limit and $what are the function's own arguments, expanded by bash at run time.
    '            echo "frr-nspawn: timed out after ${limit}s waiting for ${what}" >&2',
    "            return 1",
    "        fi",
    "        sleep 1",
    "    done",
    "}",
  ];
}
