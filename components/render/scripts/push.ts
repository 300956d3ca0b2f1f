/**
 * The image copy for an FrrImage built on the machine that runs Pulumi: a local script that
 * pushes the tarball and the build's checksum file to the host with the runner's OpenSSH
 * client. (A CopyToRemote cannot: pulumi-command 1.2.1's Check fails on a source that is
 * unknown at preview, and the engine hashes a FileAsset when it registers, before the build
 * has made the file.)
 *
 * The script text holds paths only. The connection arrives in environment variables
 * ({@link PUSH_ENV}); keys are written to 0600 files in a private temporary folder that is
 * removed on exit, so no secret is ever in the script or in a command's arguments. Pure:
 * no Pulumi.
 */
import { createHash } from "node:crypto";
import {
  command,
  contentInto,
  frameFunctions,
  indentBody,
  quote,
  script,
  sourcesLibrary,
  StepId,
  stepOf,
} from "../../shell";

/** The environment variables the push script reads (the target's, and the jump host's). */
export const PUSH_ENV = {
  host: "FRR_NSPAWN_SSH_HOST",
  port: "FRR_NSPAWN_SSH_PORT",
  user: "FRR_NSPAWN_SSH_USER",
  key: "FRR_NSPAWN_SSH_KEY",
  keyPassphrase: "FRR_NSPAWN_SSH_KEY_PASSPHRASE",
  agentSocket: "FRR_NSPAWN_SSH_AGENT_SOCKET",
  hostKey: "FRR_NSPAWN_SSH_HOST_KEY",
  proxyHost: "FRR_NSPAWN_SSH_PROXY_HOST",
  proxyPort: "FRR_NSPAWN_SSH_PROXY_PORT",
  proxyUser: "FRR_NSPAWN_SSH_PROXY_USER",
  proxyKey: "FRR_NSPAWN_SSH_PROXY_KEY",
  proxyKeyPassphrase: "FRR_NSPAWN_SSH_PROXY_KEY_PASSPHRASE",
  proxyHostKey: "FRR_NSPAWN_SSH_PROXY_HOST_KEY",
} as const;

/** One end of the SSH path, as the provider's connection gives it (plain values). */
export interface PushHop {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  agentSocketPath?: string;
  hostKey?: string;
  password?: string;
}

/** The connection for the push: the host, and the jump host when there is one. */
export interface PushConnection extends PushHop {
  proxy?: PushHop;
}

/**
 * Why a connection cannot be used by the push (empty when it can): OpenSSH takes no
 * password non-interactively, so a password-only hop is refused with what to do instead.
 */
export function pushConnectionProblems(c: PushConnection): { path: string; message: string }[] {
  const hops: [string, PushHop | undefined][] = [
    ["connection", c],
    ["connection.proxy", c.proxy],
  ];
  return hops.flatMap(([path, hop]) =>
    hop !== undefined &&
    hop.password !== undefined &&
    hop.privateKey === undefined &&
    hop.agentSocketPath === undefined
      ? [
          {
            path: `${path}.password`,
            message:
              "cannot copy an FrrImage: the image is pushed with this machine's OpenSSH client, " +
              `which takes no password; give ${path}.privateKey (or ${path}.agentSocketPath), ` +
              "or serve the image over http(s) and give image: { url, sha256 }",
          },
        ]
      : [],
  );
}

/**
 * The environment of the push: every connection field it uses, by {@link PUSH_ENV} name.
 * The user and port default as the provider's do (root, 22).
 */
export function pushEnvironment(c: PushConnection): Record<string, string> {
  const env: Record<string, string | undefined> = {
    [PUSH_ENV.host]: c.host,
    [PUSH_ENV.port]: String(c.port ?? 22),
    [PUSH_ENV.user]: c.user ?? "root",
    [PUSH_ENV.key]: c.privateKey,
    [PUSH_ENV.keyPassphrase]: c.privateKeyPassword,
    [PUSH_ENV.agentSocket]: c.agentSocketPath ?? c.proxy?.agentSocketPath,
    [PUSH_ENV.hostKey]: c.hostKey,
    [PUSH_ENV.proxyHost]: c.proxy?.host,
    [PUSH_ENV.proxyPort]: c.proxy === undefined ? undefined : String(c.proxy.port ?? 22),
    [PUSH_ENV.proxyUser]: c.proxy === undefined ? undefined : (c.proxy.user ?? "root"),
    [PUSH_ENV.proxyKey]: c.proxy?.privateKey,
    [PUSH_ENV.proxyKeyPassphrase]: c.proxy?.privateKeyPassword,
    [PUSH_ENV.proxyHostKey]: c.proxy?.hostKey,
  };
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

/** Lines writing one hop's `Host` block of the private ssh config (values from the environment). */
function hopLines(alias: string, prefix: "" | "PROXY_", more: string[]): string[] {
  const v = (name: string) => `\${FRR_NSPAWN_SSH_${prefix}${name}:-}`;
  const file = prefix === "" ? "key" : "proxy_key";
  return [
    `check_value ${quote(`${alias} host`)} "${v("HOST")}" '^[A-Za-z0-9_.:%-]+$'`,
    `check_value ${quote(`${alias} port`)} "${v("PORT")}" '^[0-9]+$'`,
    `check_value ${quote(`${alias} user`)} "${v("USER")}" '^[A-Za-z0-9_.][A-Za-z0-9_.-]*$'`,
    `if [ -n "${v("KEY")}" ]; then write_secret ${file} "${v("KEY")}"; fi`,
    "{",
    `    printf 'Host %s\\n  HostName %s\\n  Port %s\\n  User %s\\n' ${quote(alias)} "${v("HOST")}" "${v("PORT")}" "${v("USER")}"`,
    `    printf '  HostKeyAlias %s\\n  UserKnownHostsFile %s/known_hosts\\n  GlobalKnownHostsFile /dev/null\\n' ${quote(alias)} "$dir"`,
    "    printf '  ConnectTimeout 15\\n  ServerAliveInterval 15\\n  PasswordAuthentication no\\n  KbdInteractiveAuthentication no\\n'",
    `    if [ -n "${v("KEY")}" ]; then printf '  IdentityFile %s/${file}\\n  IdentitiesOnly yes\\n' "$dir"; fi`,
    `    if [ -n "${v("HOST_KEY")}" ]; then`,
    "        printf '  StrictHostKeyChecking yes\\n'",
    "    else",
    // As the provider does without hostKey: the host key is not checked.
    "        printf '  StrictHostKeyChecking no\\n'",
    "    fi",
    ...more,
    `} >> "$dir/config"`,
    `if [ -n "${v("HOST_KEY")}" ]; then`,
    `    check_value ${quote(`${alias} host key`)} "${v("HOST_KEY")}" '^[a-z0-9@.-]+ [A-Za-z0-9+/=]+( [^[:cntrl:]]*)?$'`,
    `    printf '%s %s\\n' ${quote(alias)} "${v("HOST_KEY")}" >> "$dir/known_hosts"`,
    "fi",
  ];
}

/** Paths the push puts in remote command lines: plain characters only. */
const PLAIN_PATH = /^[A-Za-z0-9_./-]+$/;

/** Removes the private folder with the keys, if the push made it (also its failure cleanup). */
const REMOVE_KEYS = 'if [ -n "${dir:-}" ]; then rm -rf "$dir"; fi';

/**
 * Lines defining `push_image LOCAL REMOTE`, the push's body, with its helpers (`die`,
 * `check_value`, `write_secret`): checks LOCAL and its checksum file, writes the ssh
 * config and keys into a private folder (`$dir`, global: the failure cleanup removes
 * it), and copies `LOCAL.sha256` and LOCAL to the host as `REMOTE.sha256` and REMOTE,
 * unless the host has that image already.
 */
export function pushFunctions(): string[] {
  const e = PUSH_ENV;
  const ssh = 'ssh -F "$dir/config" frr-nspawn-target';
  // A key with a passphrase: ssh asks this helper, which prints it from the environment.
  const askpass = [
    "#!/bin/sh",
    'case "$1" in',
    `*proxy_key*) printf '%s\\n' "$${e.proxyKeyPassphrase}" ;;`,
    `*) printf '%s\\n' "$${e.keyPassphrase}" ;;`,
    "esac",
    "",
  ].join("\n");
  const body = [
    "local tar=$1 remote=$2 sum",
    "command -v ssh >/dev/null || die 'the OpenSSH client (ssh) is needed on the machine that runs pulumi to copy an FrrImage: install openssh-client, or give image: { url, sha256 }'",
    '[ -r "$tar" ] || die "$tar is missing: the build step makes it; run pulumi up again"',
    'read -r sum _ < "$tar.sha256" || die "$tar.sha256 is missing: the build step makes it; run pulumi up again"',
    '[[ $sum =~ ^[0-9a-f]{64}$ ]] || die "$tar.sha256 holds no SHA-256"',
    `[[ $remote =~ ${PLAIN_PATH.source} ]] || die "the remote image path $remote has unexpected characters"`,
    // A private folder for the keys and the config, removed however the script ends.
    "umask 077",
    "dir=",
    'dir=$(mktemp -d "${TMPDIR:-/tmp}/frr-nspawn-push.XXXXXX")',
    '[[ $dir =~ ^[A-Za-z0-9_./-]+$ ]] || die "the temporary folder $dir has characters ssh cannot take in its config"',
    ': > "$dir/config"',
    ': > "$dir/known_hosts"',
    `if [ -n "\${${e.proxyHost}:-}" ]; then`,
    ...hopLines("frr-nspawn-proxy", "PROXY_", []).map((l) => `    ${l}`),
    "fi",
    ...hopLines("frr-nspawn-target", "", [
      `    if [ -n "\${${e.proxyHost}:-}" ]; then printf '  ProxyJump frr-nspawn-proxy\\n'; fi`,
    ]),
    `if [ -n "\${${e.agentSocket}:-}" ]; then export SSH_AUTH_SOCK="$${e.agentSocket}"; fi`,
    `if [ -z "\${${e.key}:-}" ] && [ -z "\${SSH_AUTH_SOCK:-}" ]; then`,
    "    die 'the connection has no privateKey and there is no SSH agent: give connection.privateKey (or agentSocketPath), or give image: { url, sha256 }'",
    "fi",
    `if [ -n "\${${e.keyPassphrase}:-}\${${e.proxyKeyPassphrase}:-}" ]; then`,
    ...indentBody(contentInto('"$dir/askpass"', askpass, "askpass")),
    '    chmod 0700 "$dir/askpass"',
    '    export SSH_ASKPASS="$dir/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY="${DISPLAY:-:0}"',
    "fi",
    `if ${ssh} "test -s $remote.sha256 && echo '$sum  $remote' | sha256sum --check --status -" </dev/null 2>/dev/null; then`,
    `    ${REMOVE_KEYS}`,
    '    echo "frr-nspawn: the host has this image already ($remote)"',
    "    exit 0",
    "fi",
    `${ssh} "cat > $remote.sha256.part && mv -f $remote.sha256.part $remote.sha256" < "$tar.sha256"`,
    `${ssh} "cat > $remote.part && mv -f $remote.part $remote" < "$tar"`,
    REMOVE_KEYS,
    'echo "frr-nspawn: copied $tar to the host as $remote"',
  ];
  return [
    "die() {",
    '    echo "frr-nspawn: $*" >&2',
    "    exit 1",
    "}",
    "check_value() {",
    '    [[ $2 =~ $3 ]] || die "the connection\'s $1 is missing or has characters ssh cannot take here"',
    "}",
    "write_secret() {",
    // printf is a bash builtin: the key is never in a command's arguments.
    '    printf \'%s\\n\' "$2" > "$dir/$1"',
    "}",
    "push_image() {",
    ...indentBody(body),
    "}",
  ];
}

/**
 * The push library: the frame and {@link pushFunctions}, which the push step sources on
 * the machine that runs Pulumi. The FrrImage's build step writes it beside the tarball
 * ({@link pushLibraryPath}); the same text in every stack of this package version.
 */
export function renderPushLibrary(): string {
  return [
    "# frr-nspawn push library: sourced by NspawnMachine's push step, which sets strict mode",
    "# first. Written beside the image by the FrrImage's build step; generated from",
    "# components/render/scripts/push.ts (do not edit).",
    ...frameFunctions(),
    ...pushFunctions(),
    "",
  ].join("\n");
}

let pushLib: { text: string; sha256: string; fileName: string } | undefined;

/** The push library this package renders, its digest and its file name (once per process). */
export function pushLibrary(): { text: string; sha256: string; fileName: string } {
  if (pushLib === undefined) {
    const text = renderPushLibrary();
    const sha256 = createHash("sha256").update(text).digest("hex");
    pushLib = { text, sha256, fileName: `push-${sha256.slice(0, 16)}.sh` };
  }
  return pushLib;
}

/** Where the push library is, beside the tarball at `localTar` (the build writes it there). */
export function pushLibraryPath(localTar: string): string {
  return `${localTar.slice(0, localTar.lastIndexOf("/"))}/${pushLibrary().fileName}`;
}

/**
 * The local script that pushes `localTar` and `localTar.sha256` to `remoteTar` (and
 * `.sha256`): {@link pushFunctions}' `push_image`, sourced from the push library when
 * `step` names it, else written into the script.
 */
export function renderPush(step: StepId, localTar: string, remoteTar: string): string {
  if (!PLAIN_PATH.test(remoteTar)) {
    throw new Error(`the remote image path ${JSON.stringify(remoteTar)} has unexpected characters`);
  }
  return script(
    {
      ...stepOf(step),
      description: `copy ${localTar} to the host as ${remoteTar}`,
      // The folder with the keys goes whatever happens (here on failure, in push_image on success).
      onFailure: [REMOVE_KEYS],
    },
    [...(sourcesLibrary(step) ? [] : pushFunctions()), command("push_image", localTar, remoteTar)],
  );
}
