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
import { quote, say, script } from "../../shell";

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

/** The local script that pushes `localTar` and `localTar.sha256` to `remoteTar` (and `.sha256`). */
export function renderPush(step: string, localTar: string, remoteTar: string): string {
  if (!PLAIN_PATH.test(remoteTar)) {
    throw new Error(`the remote image path ${JSON.stringify(remoteTar)} has unexpected characters`);
  }
  const e = PUSH_ENV;
  const sumFile = `${localTar}.sha256`;
  const ssh = 'ssh -F "$dir/config" frr-nspawn-target';
  const put = (from: string, to: string) =>
    `${ssh} ${quote(`cat > ${to}.part && mv -f ${to}.part ${to}`)} < ${quote(from)}`;
  const cleanup = 'if [ -n "${dir:-}" ]; then rm -rf "$dir"; fi';
  return script(
    {
      step,
      description: `copy ${localTar} to the host as ${remoteTar}`,
      // The folder with the keys goes whatever happens (here on failure, below on success).
      onFailure: [cleanup],
    },
    [
      "die() {",
      '    echo "frr-nspawn: $*" >&2',
      "    exit 1",
      "}",
      "command -v ssh >/dev/null || die 'the OpenSSH client (ssh) is needed on the machine that runs pulumi to copy an FrrImage: install openssh-client, or give image: { url, sha256 }'",
      `[ -r ${quote(localTar)} ] || die ${quote(`${localTar} is missing: the build step makes it; run pulumi up again`)}`,
      `read -r sum _ < ${quote(sumFile)} || die ${quote(`${sumFile} is missing: the build step makes it; run pulumi up again`)}`,
      `[[ $sum =~ ^[0-9a-f]{64}$ ]] || die ${quote(`${sumFile} holds no SHA-256`)}`,
      "check_value() {",
      '    [[ $2 =~ $3 ]] || die "the connection\'s $1 is missing or has characters ssh cannot take here"',
      "}",
      // A private folder for the keys and the config, removed however the script ends.
      "umask 077",
      "dir=",
      'dir=$(mktemp -d "${TMPDIR:-/tmp}/frr-nspawn-push.XXXXXX")',
      '[[ $dir =~ ^[A-Za-z0-9_./-]+$ ]] || die "the temporary folder $dir has characters ssh cannot take in its config"',
      "write_secret() {",
      // printf is a bash builtin: the key is never in a command's arguments.
      '    printf \'%s\\n\' "$2" > "$dir/$1"',
      "}",
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
      // A key with a passphrase: ssh asks this helper, which prints it from the environment.
      `if [ -n "\${${e.keyPassphrase}:-}\${${e.proxyKeyPassphrase}:-}" ]; then`,
      "    cat > \"$dir/askpass\" <<'FRR_NSPAWN_ASKPASS'",
      "#!/bin/sh",
      'case "$1" in',
      `*proxy_key*) printf '%s\\n' "$${e.proxyKeyPassphrase}" ;;`,
      `*) printf '%s\\n' "$${e.keyPassphrase}" ;;`,
      "esac",
      "FRR_NSPAWN_ASKPASS",
      '    chmod 0700 "$dir/askpass"',
      '    export SSH_ASKPASS="$dir/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY="${DISPLAY:-:0}"',
      "fi",
      `if ${ssh} "test -s ${remoteTar}.sha256 && echo '$sum  ${remoteTar}' | sha256sum --check --status -" </dev/null 2>/dev/null; then`,
      `    ${cleanup}`,
      `    ${say(`the host has this image already (${remoteTar})`)}`,
      "    exit 0",
      "fi",
      put(sumFile, `${remoteTar}.sha256`),
      put(localTar, remoteTar),
      cleanup,
      say(`copied ${localTar} to the host as ${remoteTar}`),
    ],
  );
}

/** Delete of the push: nothing here (the verify step's delete removes the copy on the host). */
export function renderPushRemove(step: string, remoteTar: string): string {
  return script({ step, description: `nothing to remove here` }, [
    say(`the verify step's delete removes ${remoteTar} from the host`),
  ]);
}
