/**
 * The FrrImage push (a local script using OpenSSH), run against a stand-in `ssh` that
 * records its arguments, its config and key files, and what it was sent.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  PUSH_ENV,
  pushConnectionProblems,
  pushEnvironment,
  pushLibrary,
  pushLibraryPath,
  renderPush,
  renderPushLibrary,
} from "../../components/render/scripts/push";

const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRET-KEY-MATERIAL\n-----END OPENSSH PRIVATE KEY-----";
const PROXY_KEY = "PROXY-SECRET-KEY";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheTarget";
const REMOTE = "/var/tmp/frr-nspawn-frr-0123456789abcdef.tar.gz";

/** A stand-in ssh: logs argv, copies its config and key modes, saves stdin; the check fails. */
const FAKE_SSH = `#!/bin/bash
log=$FAKE_LOG
printf 'ARGV %s\\n' "$*" >> "$log"
cfg=$2
cp "$cfg" "$log.config"
cp "$(dirname "$cfg")/known_hosts" "$log.known_hosts"
for f in "$(dirname "$cfg")"/*key; do [ -e "$f" ] && printf 'MODE %s %s\\n' "\${f##*/}" "$(stat -c %a "$f")" >> "$log"; done
printf 'DIR %s\\n' "$(dirname "$cfg")" >> "$log"
printf 'AGENT %s\\n' "\${SSH_AUTH_SOCK:-}" >> "$log"
if [ -n "\${SSH_ASKPASS:-}" ]; then
  printf 'ASKPASS %s %s\\n' "$("$SSH_ASKPASS" "Enter passphrase for key '$(dirname "$cfg")/key':")" "$("$SSH_ASKPASS" "Enter passphrase for key '$(dirname "$cfg")/proxy_key':")" >> "$log"
fi
case "$*" in
  *"sha256sum --check"*) exit 1 ;;
esac
cat > "$log.stdin.$(grep -c ARGV "$log")"
`;

interface Run {
  status: number | null;
  stderr: string;
  log: string;
  config: string;
  knownHosts: string;
  dir: string;
  /** The push's private folder was still there when it ended. */
  keysLeft: boolean;
}

/** How the push runs: its functions in the script, or sourced from the push library. */
type Mode = "inline" | "library";

function run(env: Record<string, string>, mode: Mode): Run {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "push-test-"));
  const bin = path.join(work, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "ssh"), FAKE_SSH, { mode: 0o755 });
  const tar = path.join(work, "frr-image.tar.gz");
  fs.writeFileSync(tar, "TARBALL");
  fs.writeFileSync(`${tar}.sha256`, `${"e".repeat(64)}  frr-image.tar.gz\n`);
  const log = path.join(work, "log");
  fs.writeFileSync(log, "");
  // As the build leaves it: the library beside the tarball.
  fs.writeFileSync(pushLibraryPath(tar), pushLibrary().text);
  const step =
    mode === "inline"
      ? "push"
      : { name: "push", library: { path: pushLibraryPath(tar), installedBy: "img-build" } };
  const r = spawnSync("bash", ["-c", renderPush(step, tar, REMOTE)], {
    encoding: "utf8",
    env: { PATH: `${bin}:/usr/bin:/bin`, FAKE_LOG: log, TMPDIR: work, ...env },
  });
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
  const text = read(log);
  const result = {
    status: r.status,
    stderr: r.stderr,
    log: text,
    config: read(`${log}.config`),
    knownHosts: read(`${log}.known_hosts`),
    dir: /^DIR (.*)$/m.exec(text)?.[1] ?? "",
  };
  // Whether the push left its folder with the keys (inside work, removed next).
  const keysLeft = result.dir !== "" && fs.existsSync(result.dir);
  fs.rmSync(work, { recursive: true, force: true });
  return { ...result, keysLeft };
}

describe("the push library", () => {
  it("is the frame and the push's functions; bash parses it; the push sourcing it is short", () => {
    assert.equal(pushLibrary().text, renderPushLibrary());
    assert.match(pushLibrary().fileName, /^push-[0-9a-f]{16}\.sh$/);
    assert.equal(
      pushLibraryPath("/var/lib/frr-nspawn/images/0123/frr-image.tar.gz"),
      `/var/lib/frr-nspawn/images/0123/${pushLibrary().fileName}`,
    );
    const r = spawnSync("bash", ["-n"], { input: renderPushLibrary(), encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const lib = { path: "/x/push.sh", installedBy: "img-build" };
    const sourcing = renderPush({ name: "p", library: lib }, "/x/frr-image.tar.gz", REMOTE);
    assert.ok(!sourcing.includes("push_image() {"));
    assert.ok(sourcing.endsWith(`\npush_image /x/frr-image.tar.gz ${REMOTE}\n`));
    assert.ok(sourcing.length < 1000, String(sourcing.length));
  });

  it("missing, the push stops at once naming the step that writes it", () => {
    const lib = { path: "/nonexistent/push.sh", installedBy: "img-build" };
    const r = spawnSync(
      "bash",
      [
        "-c",
        renderPush({ name: "p", library: lib }, "/x/frr-image.tar.gz", REMOTE),
        "p on this machine",
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      "frr-nspawn: p on this machine: its library is missing: replace the step img-build\n",
    );
  });
});

for (const mode of ["inline", "library"] as const)
  describe(`FrrImage push with OpenSSH (${mode})`, () => {
    const env = pushEnvironment({
      host: "192.0.2.10",
      port: 2222,
      user: "core",
      privateKey: KEY,
      hostKey: HOST_KEY,
      proxy: { host: "198.51.100.1", user: "jump", privateKey: PROXY_KEY },
    });

    it("honours host, port, user, key, pinned host key and jump host; keys only in 0600 files", () => {
      const r = run(env, mode);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(
        r.config,
        [
          "Host frr-nspawn-proxy",
          "  HostName 198.51.100.1",
          "  Port 22",
          "  User jump",
          "  HostKeyAlias frr-nspawn-proxy",
          `  UserKnownHostsFile ${r.dir}/known_hosts`,
          "  GlobalKnownHostsFile /dev/null",
          "  ConnectTimeout 15",
          "  ServerAliveInterval 15",
          "  PasswordAuthentication no",
          "  KbdInteractiveAuthentication no",
          `  IdentityFile ${r.dir}/proxy_key`,
          "  IdentitiesOnly yes",
          "  StrictHostKeyChecking no",
          "Host frr-nspawn-target",
          "  HostName 192.0.2.10",
          "  Port 2222",
          "  User core",
          "  HostKeyAlias frr-nspawn-target",
          `  UserKnownHostsFile ${r.dir}/known_hosts`,
          "  GlobalKnownHostsFile /dev/null",
          "  ConnectTimeout 15",
          "  ServerAliveInterval 15",
          "  PasswordAuthentication no",
          "  KbdInteractiveAuthentication no",
          `  IdentityFile ${r.dir}/key`,
          "  IdentitiesOnly yes",
          "  StrictHostKeyChecking yes",
          "  ProxyJump frr-nspawn-proxy",
          "",
        ].join("\n"),
      );
      assert.equal(r.knownHosts, `frr-nspawn-target ${HOST_KEY}\n`);
      assert.match(r.log, /^MODE key 600$/m);
      assert.match(r.log, /^MODE proxy_key 600$/m);
      for (const secret of ["SECRET-KEY-MATERIAL", PROXY_KEY]) {
        assert.ok(!r.log.includes(secret), "a key reached ssh's arguments");
        assert.ok(!renderPush("p", "/x/frr-image.tar.gz", REMOTE).includes(secret));
      }
      assert.ok(r.dir !== "" && !r.keysLeft, "the temporary folder with the keys was left behind");
    });

    it("checks the host's copy first, then sends the checksum file and the tarball", () => {
      const r = run(env, mode);
      const argv = r.log.split("\n").filter((l) => l.startsWith("ARGV "));
      assert.deepEqual(
        argv.map((l) => l.replace(r.dir, "DIR")),
        [
          `ARGV -F DIR/config frr-nspawn-target test -s ${REMOTE}.sha256 && echo '${"e".repeat(64)}  ${REMOTE}' | sha256sum --check --status -`,
          `ARGV -F DIR/config frr-nspawn-target cat > ${REMOTE}.sha256.part && mv -f ${REMOTE}.sha256.part ${REMOTE}.sha256`,
          `ARGV -F DIR/config frr-nspawn-target cat > ${REMOTE}.part && mv -f ${REMOTE}.part ${REMOTE}`,
        ],
      );
    });

    it("a key with a passphrase: ssh's askpass helper gives each key's own", () => {
      const r = run(
        pushEnvironment({
          host: "192.0.2.10",
          privateKey: KEY,
          privateKeyPassword: "target-pass",
          proxy: { host: "198.51.100.1", privateKey: PROXY_KEY, privateKeyPassword: "jump-pass" },
        }),
        mode,
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.log, /^ASKPASS target-pass jump-pass$/m);
      assert.ok(!r.keysLeft);
    });

    it("with an agent and no key: ssh gets the agent's socket, and no key file is written", () => {
      const r = run(
        pushEnvironment({ host: "192.0.2.10", agentSocketPath: "/run/user/1000/agent.sock" }),
        mode,
      );
      assert.equal(r.status, 0, r.stderr);
      const agents = r.log.split("\n").filter((l) => l.startsWith("AGENT "));
      assert.ok(agents.length >= 2, r.log);
      assert.ok(
        agents.every((l) => l === "AGENT /run/user/1000/agent.sock"),
        r.log,
      );
      assert.doesNotMatch(r.log, /^MODE /m);
      assert.doesNotMatch(r.config, /IdentityFile/);
      assert.ok(!r.keysLeft);
    });

    it("without a key or an agent it fails saying what to give", () => {
      const { [PUSH_ENV.key]: _key, ...noKey } = env;
      const r = run(noKey, mode);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /no privateKey and there is no SSH agent: give connection.privateKey/);
    });

    it("a password-only connection (or jump host) is refused, naming connection.password", () => {
      assert.deepEqual(
        pushConnectionProblems({ host: "h", password: "pw" }).map((p) => p.path),
        ["connection.password"],
      );
      assert.match(
        pushConnectionProblems({ host: "h", password: "pw" })[0].message,
        /give connection.privateKey \(or connection.agentSocketPath\), or serve the image over http\(s\) and give image: \{ url, sha256 \}/,
      );
      assert.deepEqual(
        pushConnectionProblems({
          host: "h",
          privateKey: "k",
          proxy: { host: "j", password: "pw" },
        }).map((p) => p.path),
        ["connection.proxy.password"],
      );
      assert.deepEqual(pushConnectionProblems({ host: "h", password: "pw", privateKey: "k" }), []);
      assert.ok(
        !Object.values(pushEnvironment({ host: "h", password: "pw", privateKey: "k" })).includes(
          "pw",
        ),
      );
    });
  });
