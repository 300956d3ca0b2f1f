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
  rejectNul(content, `the content for ${path}`);
  rejectNul(path, "a file path");
  const tmp = `${path}.frr-nspawn-tmp`;
  const delimiter = heredocDelimiter(content);
  // A heredoc always ends its last line with a newline; `head -c` trims the one we add
  // when the content has none of its own, so the file is exactly `content`.
  const sink =
    content.endsWith("\n") || content === ""
      ? `cat > ${quote(tmp)}`
      : `head -c ${Buffer.byteLength(content, "utf8")} > ${quote(tmp)}`;
  const body =
    content === ""
      ? [`: > ${quote(tmp)}`]
      : [`${sink} <<'${delimiter}'`, ...content.replace(/\n$/, "").split("\n"), delimiter];
  const lines = [...body];
  if (options.mode !== undefined) {
    lines.push(command("chmod", options.mode, tmp));
  }
  if (options.owner !== undefined) {
    lines.push(command("chown", options.owner, tmp));
  }
  lines.push(command("mv", "-f", tmp, path));
  return lines;
}

/** What a script is for: shown in its header and in its failure message. */
export interface ScriptOptions {
  /** A short name for the step, e.g. `bgp-frr-conf`; appears in failure messages. */
  step: string;
  /** One line saying what the script does. */
  description: string;
}

/**
 * Frames script lines: bash strict mode and a trap that names the step, the line and the
 * command that failed, so a failed `pulumi up` says where it stopped.
 */
export function script(options: ScriptOptions, lines: readonly string[]): string {
  rejectNul(options.step, "a step name");
  return [
    `# frr-nspawn: ${options.step}: ${options.description.replace(/\n/g, " ")}`,
    "set -euo pipefail",
    `trap 'echo "frr-nspawn: step ${options.step.replace(/[^A-Za-z0-9_.-]/g, "_")} failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR`,
    ...lines,
    "",
  ].join("\n");
}

/**
 * Wraps a bash script so that any POSIX login shell (what SSH runs a remote command in)
 * hands it to bash as one argument, optionally through `sudo -n` (no password prompt:
 * fails at once when sudo would ask). The script travels in a quoted heredoc, so it is
 * readable as-is in a preview diff and its stdin stays free for the commands it runs.
 */
export function forLoginShell(
  bashScript: string,
  options: { sudo?: boolean; name?: string; timeoutSeconds?: number } = {},
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
  const argv0 = quote(options.name ?? "frr-nspawn");
  // $(cat <<'X' … X) drops trailing newlines only, which a script does not need.
  return `${runner} "$(cat <<'${delimiter}'\n${bashScript.replace(/\n+$/, "")}\n${delimiter}\n)" ${argv0}\n`;
}
