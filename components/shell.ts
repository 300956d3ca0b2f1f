/**
 * The one place where values become shell text.
 *
 * Every value that reaches a shell goes through {@link quote}; every file written by a
 * script goes through {@link writeFile}; every script is framed by {@link script} and,
 * for SSH, wrapped by {@link forLoginShell}. Nothing here imports Pulumi.
 */

/** Characters that need no quoting in POSIX sh (kept bare so previews stay readable). */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Thrown for a value that no shell can carry (a NUL byte). */
export class ShellValueError extends Error {
  constructor(what: string) {
    super(
      `${what} contains a NUL byte, which no shell argument or file written by a script can carry`,
    );
    this.name = "ShellValueError";
  }
}

function rejectNul(value: string, what: string): void {
  if (value.includes("\0")) {
    throw new ShellValueError(what);
  }
}

/**
 * Quotes one value as a single POSIX shell word that the shell turns back into exactly
 * the same bytes. Plain words (`ens3`, `2.2.2.2/32`) stay bare; anything else is put in
 * single quotes with each `'` written as `'\''`.
 *
 * Quoting keeps a value from being *parsed* by the shell; it does not stop a command from
 * reading a leading `-` as an option: validators reject those where it matters.
 *
 * @example quote("it's") === "'it'\\''s'"
 */
export function quote(value: string): string {
  rejectNul(value, "a value to quote");
  if (SAFE_WORD.test(value)) {
    return value;
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each value and joins them with spaces: one shell command line. */
export function command(...words: string[]): string {
  return words.map(quote).join(" ");
}

/** A line that prints `frr-nspawn: <message>`, the message quoted like any value. */
export function say(message: string): string {
  return `echo ${quote(`frr-nspawn: ${message}`)}`;
}

/** {@link say} to stderr: what failed and what to do. */
export function warn(message: string): string {
  return `${say(message)} >&2`;
}

const DELIMITER_LEADS = "ZQXJKVWYFGHMPB_0123456789";

/**
 * A heredoc delimiter for `content`. bash only needs it not to occur as a whole line,
 * but dash (Debian's /bin/sh, and so the login shell of many hosts) drops a byte from a
 * line that begins with part of the delimiter and goes on with a non-ASCII character
 * (found by the property test: `EOé` inside `<<'EOF'` comes out as `EO\xa9`). So the
 * delimiter occurs nowhere in the content and no line of the content starts with its
 * first character.
 */
export function heredocDelimiter(content: string, base = "FRR_NSPAWN_EOF"): string {
  const leads = new Set(content.split("\n").map((line) => line.charAt(0)));
  const candidates = [base, ...[...DELIMITER_LEADS].map((lead) => `${lead}${base}`)];
  for (const candidate of candidates) {
    if (!leads.has(candidate.charAt(0)) && !content.includes(candidate)) {
      return candidate;
    }
  }
  throw new ShellValueError(
    "content whose lines start with every candidate delimiter character; it",
  );
}

/** Options for {@link writeFile}. */
export interface WriteFileOptions {
  /** Octal mode applied after writing, e.g. `"0644"`. */
  mode?: string;
  /** `user:group` applied after writing. */
  owner?: string;
}

/**
 * Shell lines that write `content` to `path` byte for byte, through a quoted heredoc
 * (no expansion) whose delimiter cannot occur in the content. The file is written to a
 * temporary name beside the target and renamed, so a reader never sees half a file.
 */
export function writeFile(path: string, content: string, options: WriteFileOptions = {}): string[] {
  rejectNul(path, "a file path");
  const tmp = `${path}.frr-nspawn-tmp`;
  const lines = contentInto(quote(tmp), content, `the content for ${path}`);
  if (options.mode !== undefined) {
    lines.push(command("chmod", options.mode, tmp));
  }
  if (options.owner !== undefined) {
    lines.push(command("chown", options.owner, tmp));
  }
  lines.push(command("mv", "-f", tmp, path));
  return lines;
}

/**
 * Shell lines that write `content` byte for byte to `target`, which is shell text naming
 * the file: a {@link quote}d path, or a variable like `"$staged"` holding a name the
 * script chose (a unique staging file). A quoted heredoc (no expansion) whose delimiter
 * cannot occur in the content.
 */
export function contentInto(target: string, content: string, what = "a file's content"): string[] {
  rejectNul(content, what);
  const delimiter = heredocDelimiter(content);
  // A heredoc always ends its last line with a newline; `head -c` trims the one we add
  // when the content has none of its own, so the file is exactly `content`.
  const sink =
    content.endsWith("\n") || content === ""
      ? `cat > ${target}`
      : `head -c ${Buffer.byteLength(content, "utf8")} > ${target}`;
  return content === ""
    ? [`: > ${target}`]
    : [`${sink} <<'${delimiter}'`, ...content.replace(/\n$/, "").split("\n"), delimiter];
}

/**
 * `lines` indented one level, as a function's body, except each quoted heredoc's body
 * and delimiter (from {@link contentInto}, {@link writeFile} or {@link withStdin}): they
 * stay as they are, since the content is byte for byte and the delimiter must start its
 * line.
 */
export function indentBody(lines: readonly string[]): string[] {
  let delimiter: string | undefined;
  return lines.map((line) => {
    if (delimiter !== undefined) {
      if (line === delimiter) {
        delimiter = undefined;
      }
      return line;
    }
    delimiter = /<<'([A-Za-z0-9_]+)'$/.exec(line)?.[1];
    return line === "" ? line : `    ${line}`;
  });
}

/**
 * Shell lines running `commandLine` with `content` byte for byte on its stdin, through a
 * quoted heredoc (no expansion) whose delimiter cannot occur in the content. A heredoc
 * always ends with a newline, so `content` must end with one.
 */
export function withStdin(
  commandLine: string,
  content: string,
  what = "a command's input",
): string[] {
  rejectNul(content, what);
  if (!content.endsWith("\n")) {
    throw new Error(`${what} must end with a newline to be sent through a heredoc`);
  }
  const delimiter = heredocDelimiter(content);
  return [`${commandLine} <<'${delimiter}'`, ...content.slice(0, -1).split("\n"), delimiter];
}

/**
 * Lines defining `install_stdin PATH MODE`: writes its stdin to PATH with MODE, through a
 * temporary name beside it that is renamed, so a reader never sees half a file (what
 * {@link writeFile} does inline).
 */
export function installStdinFunction(): string[] {
  return [
    "install_stdin() {",
    '    cat > "$1.frr-nspawn-tmp"',
    '    chmod "$2" "$1.frr-nspawn-tmp"',
    '    mv -f "$1.frr-nspawn-tmp" "$1"',
    "}",
  ];
}

/** The host-wide lock that serialises every step changing FRR or machines on one host. */
export const HOST_LOCK = "/run/frr-nspawn.lock";

/** How long a step waits for {@link HOST_LOCK} before it gives up (below the step timeout). */
export const HOST_LOCK_WAIT_SECONDS = 600;

/** What a script is for: shown in its header and in its failure message. */
export interface ScriptOptions {
  /** A short name for the step, e.g. `bgp-frr-conf`; appears in its header. */
  step: string;
  /** One line saying what the script does. */
  description: string;
  /**
   * Take the host-wide lock before anything else, so that two runs (two stacks, two
   * people) never change FRR or machines on one host at once. `true` is {@link HOST_LOCK};
   * a path is for tests.
   * @default false
   */
  lock?: boolean | { path: string; waitSeconds?: number };
  /** Lines the exit handler runs when the script fails, before the summary line. */
  onFailure?: readonly string[];
  /**
   * Source the failure reporting and the lock from the host library at this place
   * instead of carrying them (see render/scripts/library.ts): for steps on hosts where a
   * component's `-lib` step installed it.
   * @default undefined (the script carries its frame)
   */
  library?: HostLibraryRef;
}

/**
 * Where a script finds the library it sources (the host library on a host; the push
 * library on the machine that runs Pulumi), and which step installs it (for the message).
 */
export interface HostLibraryRef {
  /** The library's path where the script runs, e.g. `/var/lib/frr-nspawn/lib/frr-nspawn-<hash>.sh`. */
  path: string;
  /** The step that installs it, named when it is missing. */
  installedBy: string;
}

/**
 * Text for a comment line: printable ASCII kept, everything else (newlines, CR, unicode
 * line separators, escapes) written as `\uXXXX`, so no value can end the comment.
 */
export function commentText(value: string): string {
  return value.replace(/[^\x20-\x7e]/gu, (c) =>
    [...c].map((u) => `\\u${u.codePointAt(0)!.toString(16).padStart(4, "0")}`).join(""),
  );
}

/** Longest failing command the ERR trap prints. */
export const TRAP_COMMAND_CHARS = 120;

/** The exit handler's hook in the host library: the step's own `onFailure` lines. */
const ON_FAILURE_HOOK = "frr_nspawn_on_failure";

/**
 * Error reporting every script shares. The script's stderr is copied to a temporary log
 * as it streams (a `tee`), so that when the script fails, its exit handler can end the
 * output with ONE line: `frr-nspawn: <$0>: <cause>`, where `$0` is what
 * {@link forLoginShell} names the run (`<step> on <host>`) and the cause is the last line
 * the failing command (or the script's own message) wrote. The ERR trap prints the line
 * number and the failing command's first line, cut to {@link TRAP_COMMAND_CHARS}
 * characters: never a heredoc body.
 *
 * In three parts, so that a script can carry them (see {@link failureReporting}) or source
 * them from the host library (see render/scripts/library.ts): the setup (log and tee),
 * the two handlers, and the traps.
 */
const FRAME_SETUP: readonly string[] = [
  "frr_nspawn_log=$(mktemp /tmp/frr-nspawn-stderr.XXXXXX 2>/dev/null) || frr_nspawn_log=",
  "frr_nspawn_tee=",
  "frr_nspawn_err=",
  "exec 3>&2",
  'if [ -n "$frr_nspawn_log" ]; then',
  '    exec 2> >(tee -a "$frr_nspawn_log" >&3)',
  "    frr_nspawn_tee=$!",
  "fi",
];

/**
 * Removes the frame's copy of stderr. The frame's EXIT handler runs it; a script that
 * replaces that handler with its own (the image scripts, image-bash.ts) must run it too.
 */
export const REMOVE_FRAME_LOG = 'if [ -n "${frr_nspawn_log:-}" ]; then rm -f "$frr_nspawn_log"; fi';

const FRAME_TRAPS: readonly string[] = [
  // errtrace: a command failing inside a function (a step body in the host library) is
  // reported by the ERR trap too, not only when the function returns.
  "set -E",
  `trap 'frr_nspawn_on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR`,
  "trap frr_nspawn_on_exit EXIT",
  `trap 'frr_nspawn_err="stopped by SIGTERM (did the step time out?)"; exit 143' TERM`,
];

function frameHandlers(onFailure: readonly string[]): string[] {
  return [
    "frr_nspawn_on_err() {",
    "    local rc=$1 line=$2 cmd=${3%%$'\\n'*}",
    `    if [ "\${#cmd}" -gt ${TRAP_COMMAND_CHARS} ]; then cmd="\${cmd:0:${TRAP_COMMAND_CHARS - 3}}..."; fi`,
    '    frr_nspawn_err="line $line: $cmd (exit $rc)"',
    '    echo "frr-nspawn: $frr_nspawn_err" >&2',
    "}",
    "frr_nspawn_on_exit() {",
    "    local rc=$? cause=",
    "    trap - EXIT ERR TERM",
    "    set +eu",
    '    if [ "$rc" -ne 0 ]; then',
    ...onFailure.map((line) => `        ${line}`),
    "        :",
    "    fi",
    '    if [ -n "$frr_nspawn_tee" ]; then',
    "        exec 2>&3",
    '        wait "$frr_nspawn_tee" 2>/dev/null',
    "    fi",
    '    if [ "$rc" -ne 0 ]; then',
    '        if [ -n "$frr_nspawn_log" ]; then',
    `            cause=$(grep -av -e '^frr-nspawn: line [0-9]*: ' -e '^[[:space:]]*$' -e '^+' "$frr_nspawn_log" | tail -n 1)`,
    "        fi",
    "        cause=${cause#frr-nspawn: }",
    '        if [ -z "$cause" ]; then cause=${frr_nspawn_err:-failed (exit $rc)}; fi',
    '        echo "frr-nspawn: $0: ${cause:0:400}" >&2',
    "    fi",
    `    ${REMOVE_FRAME_LOG}`,
    '    exit "$rc"',
    "}",
  ];
}

/** The whole failure reporting, written into a script (see {@link FRAME_SETUP}). */
function failureReporting(onFailure: readonly string[]): string[] {
  return [...FRAME_SETUP, ...frameHandlers(onFailure), ...FRAME_TRAPS];
}

/**
 * Lines taking the host-wide lock on fd 8: wait at most `waitSeconds`, then fail naming
 * who holds it (each holder writes `$0`, its pid and since when into the lock file).
 */
export function hostLock(path = HOST_LOCK, waitSeconds = HOST_LOCK_WAIT_SECONDS): string[] {
  const p = quote(path);
  return [
    `exec 8>>${p}`,
    `if ! flock --wait ${Math.floor(waitSeconds)} 8; then`,
    `    echo "frr-nspawn: waited ${Math.floor(waitSeconds)}s for ${path.replace(/[^A-Za-z0-9_./-]/g, "_")}, held by $(head -c 300 ${p} 2>/dev/null | tr -d '\n' || true)" >&2`,
    "    exit 1",
    "fi",
    `printf '%s\n' "$0 (pid $$, since $(date -u +%Y-%m-%dT%H:%M:%SZ))" > ${p}`,
  ];
}

/**
 * A step as a renderer is told it: its name, or its name and the host library its script
 * sources (steps on hosts where a component installed it; see render/scripts/library.ts).
 */
export type StepId = string | { name: string; library: HostLibraryRef };

/** The `step` and `library` of {@link ScriptOptions} for a {@link StepId}. */
export function stepOf(id: StepId): { step: string; library?: HostLibraryRef } {
  return typeof id === "string" ? { step: id } : { step: id.name, library: id.library };
}

/** The lock and its wait, or nothing, from {@link ScriptOptions.lock}. */
function lockOf(options: ScriptOptions): { path: string; waitSeconds: number } | undefined {
  if (options.lock === undefined || options.lock === false) {
    return undefined;
  }
  return options.lock === true
    ? { path: HOST_LOCK, waitSeconds: HOST_LOCK_WAIT_SECONDS }
    : { path: options.lock.path, waitSeconds: options.lock.waitSeconds ?? HOST_LOCK_WAIT_SECONDS };
}

/**
 * Frames script lines: a header whose text cannot end the comment, bash strict mode,
 * failure reporting (see {@link failureReporting}) and, for steps that change FRR or
 * machines, the host-wide lock. With {@link ScriptOptions.library}, the failure reporting
 * and the lock are the host library's functions, called here; a missing library stops
 * the script before anything else, naming the step that installs it.
 */
export function script(options: ScriptOptions, lines: readonly string[]): string {
  rejectNul(options.step, "a step name");
  rejectNul(options.description, "a step description");
  const lock = lockOf(options);
  const header = [
    `# frr-nspawn: ${commentText(options.step)}: ${commentText(options.description)}`,
    "set -euo pipefail",
  ];
  if (options.library === undefined) {
    return [
      ...header,
      ...failureReporting(options.onFailure ?? []),
      ...(lock === undefined ? [] : hostLock(lock.path, lock.waitSeconds)),
      ...lines,
      "",
    ].join("\n");
  }
  const lib = quote(options.library.path);
  const onFailure = options.onFailure ?? [];
  // One line: a missing file fails `.` (bash reports it; that report is dropped for ours).
  return [
    ...header,
    `. ${lib} 2>/dev/null || { echo "frr-nspawn: $0: "${quote(`its library is missing: replace the step ${options.library.installedBy}`)} >&2; exit 1; }`,
    ...(onFailure.length === 0
      ? []
      : [`${ON_FAILURE_HOOK}() {`, ...onFailure.map((line) => `    ${line}`), "}"]),
    "frr_nspawn_frame",
    ...(lock === undefined
      ? []
      : lock.path === HOST_LOCK && lock.waitSeconds === HOST_LOCK_WAIT_SECONDS
        ? ["frr_nspawn_lock"]
        : [command("frr_nspawn_lock", lock.path, String(Math.floor(lock.waitSeconds)))]),
    ...lines,
    "",
  ].join("\n");
}

/**
 * The host library's frame (render/scripts/library.ts `renderHostLibrary` puts it first):
 * what every framed step would otherwise carry, as functions a step sources
 * (`frr_nspawn_frame`: {@link failureReporting}, with the step's `onFailure` lines as its
 * `frr_nspawn_on_failure` function; `frr_nspawn_lock [PATH SECONDS]`: {@link hostLock},
 * by default {@link HOST_LOCK} for {@link HOST_LOCK_WAIT_SECONDS}).
 */
export function frameFunctions(): string[] {
  const indent = (l: string) => (l === "" ? l : `    ${l}`);
  return [
    ...frameHandlers([`if declare -F ${ON_FAILURE_HOOK} >/dev/null; then ${ON_FAILURE_HOOK}; fi`]),
    "frr_nspawn_frame() {",
    ...[...FRAME_SETUP, ...FRAME_TRAPS].map(indent),
    "}",
    "frr_nspawn_lock() {",
    `    local path=\${1:-${HOST_LOCK}} wait=\${2:-${HOST_LOCK_WAIT_SECONDS}}`,
    '    exec 8>>"$path"',
    '    if ! flock --wait "$wait" 8; then',
    `        echo "frr-nspawn: waited \${wait}s for \${path//[^A-Za-z0-9_.\\/-]/_}, held by $(head -c 300 "$path" 2>/dev/null | tr -d '\\n' || true)" >&2`,
    "        exit 1",
    "    fi",
    `    printf '%s\\n' "$0 (pid $$, since $(date -u +%Y-%m-%dT%H:%M:%SZ))" > "$path"`,
    "}",
  ];
}

/** True when a step's script sources the host library (its helpers need not be written). */
export function sourcesLibrary(step: StepId): boolean {
  return typeof step !== "string";
}

/**
 * Wraps a bash script so that any POSIX login shell (what SSH runs a remote command in)
 * hands it to bash as one argument, optionally through `sudo -n` (no password prompt:
 * fails at once when sudo would ask). The script travels in a quoted heredoc, so it is
 * readable as-is in a preview diff and its stdin stays free for the commands it runs.
 */
export function forLoginShell(
  bashScript: string,
  options: { sudo?: boolean; name?: string; host?: string; timeoutSeconds?: number } = {},
): string {
  rejectNul(bashScript, "a script");
  const delimiter = heredocDelimiter(bashScript, "FRR_NSPAWN_SCRIPT");
  // The provider cannot stop a remote command (customTimeouts does not), so `timeout`
  // does: TERM at the limit, KILL 30 s later.
  const limit =
    options.timeoutSeconds === undefined
      ? ""
      : `timeout --kill-after=30 ${Math.floor(options.timeoutSeconds)} `;
  const runner = `${options.sudo ? "sudo -n " : ""}${limit}bash -c`;
  // The script's $0, which its failure line names: `<step> on <host>`.
  const argv0 = quote(
    `${options.name ?? "frr-nspawn"}${options.host === undefined ? "" : ` on ${options.host}`}`,
  );
  // $(cat <<'X' … X) drops trailing newlines only, which a script does not need.
  return `${runner} "$(cat <<'${delimiter}'\n${bashScript.replace(/\n+$/, "")}\n${delimiter}\n)" ${argv0}\n`;
}
