import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";

import {
  command,
  commentText,
  forLoginShell,
  heredocDelimiter,
  hostLock,
  indentBody,
  quote,
  script,
  ScriptOptions,
  warn,
  writeFile,
} from "../../components/shell";
import { renderHostLibrary } from "../../components/render/scripts/library";
import { HOST_LIBRARY_FILE } from "../../components/steps";

const SHELLS = ["/bin/sh", "/bin/bash"];

/** The host library, where a script that sources it finds it. */
const LIBRARY_FILE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-lib-")), "lib.sh");
fs.writeFileSync(LIBRARY_FILE, renderHostLibrary());
after(() => fs.rmSync(path.dirname(LIBRARY_FILE), { recursive: true, force: true }));

/** The two ways a script gets its failure reporting and lock: each behaves the same. */
const FRAMES: [string, Partial<ScriptOptions>][] = [
  ["a script that carries its frame", {}],
  [
    "a script that sources the host library",
    { library: { path: LIBRARY_FILE, installedBy: "h1-lib" } },
  ],
];

/** Strings that stress a shell: quotes, expansions, newlines, UTF-8, leading dashes. */
const nasty = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  {
    weight: 5,
    arbitrary: fc
      .array(
        fc.constantFrom(
          "'",
          '"',
          "\\",
          "$",
          "$(id)",
          "`id`",
          "${HOME}",
          "\n",
          "\r",
          "\t",
          " ",
          "-",
          "--",
          "*",
          "?",
          "[a]",
          "~",
          "!",
          "#",
          ";",
          "&",
          "|",
          "<",
          ">",
          "(",
          ")",
          "{",
          "}",
          "é",
          "日本",
          "🙂",
          "FRR_NSPAWN_EOF",
          "FRR_NSPAWN_SCRIPT",
          "EOF",
          "a",
          "0",
          "%s",
          "\\n",
        ),
        { maxLength: 12 },
      )
      .map((parts) => parts.join("")),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: "binary", maxLength: 20 }).map((s) => s.replace(/\0/g, "")),
  },
);

/** Runs `text` as a script file (large scripts exceed one argument's size limit). */
function run(shell: string, text: string): Buffer {
  const file = path.join(os.tmpdir(), `frr-nspawn-shell-test-${process.pid}.sh`);
  fs.writeFileSync(file, text);
  try {
    const result = spawnSync(shell, [file], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(result.status, 0, `${shell} failed: ${result.error ?? result.stderr.toString()}`);
    return result.stdout;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

describe("shell.quote", () => {
  const table: [string, string][] = [
    ["ens3", "ens3"],
    ["2.2.2.2/32", "2.2.2.2/32"],
    ["", "''"],
    ["it's", "'it'\\''s'"],
    ["a b", "'a b'"],
    ["$(id)", "'$(id)'"],
    ["-rf", "-rf"],
  ];
  for (const [input, expected] of table) {
    it(`quotes ${JSON.stringify(input)} as ${expected}`, () =>
      assert.equal(quote(input), expected));
  }

  it("rejects NUL with a clear error", () => {
    assert.throws(() => quote("a\0b"), /contains a NUL byte/);
  });

  it("command() quotes every word", () => {
    assert.equal(
      command("ip", "addr", "add", "2.2.2.2/32", "dev", "lo"),
      "ip addr add 2.2.2.2/32 dev lo",
    );
    assert.equal(command("echo", "a b"), "echo 'a b'");
  });

  for (const shell of SHELLS) {
    it(`round-trips 2,000 generated strings byte for byte through ${shell}`, () => {
      const samples = fc.sample(nasty, { numRuns: 2000, seed: 42 });
      samples.push("", "'", "''", "\\'", "-n", "-e", "\n", "日本語 テスト");
      const text = samples.map((s) => `printf '%s\\0' ${quote(s)}`).join("\n");
      const out = run(shell, text).toString("utf8").split("\0");
      assert.equal(out.pop(), "");
      assert.equal(out.length, samples.length);
      for (let i = 0; i < samples.length; i++) {
        assert.equal(out[i], samples[i], `sample ${i}: ${JSON.stringify(samples[i])}`);
      }
    });
  }

  it("property: quote(s) through bash is s (fast-check shrinking on failure)", () => {
    fc.assert(
      fc.property(fc.array(nasty, { minLength: 1, maxLength: 50 }), (values) => {
        const out = run("/bin/bash", values.map((s) => `printf '%s\\0' ${quote(s)}`).join("\n"))
          .toString("utf8")
          .split("\0");
        out.pop();
        assert.deepEqual(out, values);
      }),
      { numRuns: 40, seed: 7 },
    );
  });
});

describe("shell.writeFile", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-shell-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes the exact expected lines for a small file", () => {
    assert.deepEqual(
      writeFile("/etc/frr/daemons", "bgpd=yes\n", { mode: "0640", owner: "frr:frr" }),
      [
        "cat > /etc/frr/daemons.frr-nspawn-tmp <<'FRR_NSPAWN_EOF'",
        "bgpd=yes",
        "FRR_NSPAWN_EOF",
        "chmod 0640 /etc/frr/daemons.frr-nspawn-tmp",
        "chown frr:frr /etc/frr/daemons.frr-nspawn-tmp",
        "mv -f /etc/frr/daemons.frr-nspawn-tmp /etc/frr/daemons",
      ],
    );
  });

  it("picks a delimiter that does not occur as a line", () => {
    const table: [string, string][] = [
      ["plain\ntext", "FRR_NSPAWN_EOF"],
      ["a\nFRR_NSPAWN_EOF\nb", "ZFRR_NSPAWN_EOF"],
      ["x FRR_NSPAWN_EOF", "ZFRR_NSPAWN_EOF"],
      ["Fé", "ZFRR_NSPAWN_EOF"],
      ["Fa\nZb\nx QFRR_NSPAWN_EOF", "XFRR_NSPAWN_EOF"],
    ];
    for (const [content, expected] of table) {
      assert.equal(heredocDelimiter(content), expected, JSON.stringify(content));
    }
  });

  for (const shell of SHELLS) {
    it(`files written by ${shell} come back byte-identical (2,000 generated contents)`, () => {
      const contents = fc.sample(
        fc
          .array(fc.oneof(nasty, fc.constant("FRR_NSPAWN_EOF"), fc.constant("")), { maxLength: 6 })
          .map((l) => l.join("\n")),
        { numRuns: 2000, seed: 11 },
      );
      contents.push("", "\n", "no newline", "trailing\n\n", "FRR_NSPAWN_EOF\n", "x\r\n");
      const name = path.basename(shell);
      const text = contents
        .flatMap((c, i) => writeFile(path.join(dir, `${name}-${i}`), c))
        .join("\n");
      run(shell, text);
      contents.forEach((c, i) => {
        assert.equal(
          fs.readFileSync(path.join(dir, `${name}-${i}`), "utf8"),
          c,
          `content ${i}: ${JSON.stringify(c)}`,
        );
      });
    });
  }

  it("rejects NUL in content", () => {
    assert.throws(
      () => writeFile("/tmp/x", "a\0b"),
      /the content for \/tmp\/x contains a NUL byte/,
    );
  });
});

describe("shell.indentBody", () => {
  const cases: [string, string[], string[]][] = [
    ["plain lines; an empty one stays empty", ["a", "", "b"], ["    a", "", "    b"]],
    [
      "a heredoc's body and delimiter stay; the lines after it are indented",
      ["if x; then", "    cat > f <<'EOF'", "  two spaces", "EOF", "fi", "echo done"],
      [
        "    if x; then",
        "        cat > f <<'EOF'",
        "  two spaces",
        "EOF",
        "    fi",
        "    echo done",
      ],
    ],
    [
      "a line that merely names the delimiter inside the body does not end it early",
      ["cat <<'X_1'", "X_1 but not alone", "X_1", "y"],
      ["    cat <<'X_1'", "X_1 but not alone", "X_1", "    y"],
    ],
  ];
  for (const [what, lines, expected] of cases) {
    it(what, () => assert.deepEqual(indentBody(lines), expected));
  }

  it("indents writeFile's lines, and the indented function writes the same bytes", () => {
    const content = "line one\n  indented\nEOF\n";
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "indent-test-"));
    try {
      const file = path.join(dir, "out");
      const body = indentBody(writeFile(file, content, { mode: "0600" }));
      assert.equal(body[0].startsWith("    cat > "), true, body[0]);
      const r = spawnSync("bash", ["-c", ["f() {", ...body, "}", "f"].join("\n")], {
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(file, "utf8"), content);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("shell.script and forLoginShell", () => {
  it("frames a script: an escaped header, strict mode, then the failure handlers", () => {
    const text = script({ step: "demo", description: "says hello" }, ["echo hello"]);
    const lines = text.split("\n");
    assert.deepEqual(lines.slice(0, 2), ["# frr-nspawn: demo: says hello", "set -euo pipefail"]);
    assert.deepEqual(lines.slice(-2), ["echo hello", ""]);
    assert.ok(lines.includes(`trap 'frr_nspawn_on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR`));
    assert.ok(lines.includes("trap frr_nspawn_on_exit EXIT"));
  });

  // A name or description with a line break used to end the header comment: the next
  // line ran as a command, before strict mode, as root.
  for (const [what, value] of [
    ["LF", "x\nreboot"],
    ["CR LF", "x\r\nreboot"],
    ["CR", "x\rreboot"],
    ["VT/FF", "x\u000b\u000creboot"],
    ["NEL", "x\u0085reboot"],
    ["LS/PS", "x\u2028reboot\u2029"],
    ["ESC", "x\u001b[2Jreboot"],
  ] as const) {
    it(`a ${what} in the step or description stays inside the header comment`, () => {
      const text = script({ step: value, description: value }, ["true"]);
      const header = text.split("\n")[0];
      assert.match(header, /^# frr-nspawn: [\x20-\x7e]+$/);
      assert.equal(text.split("\n")[1], "set -euo pipefail");
      assert.equal(commentText(value).includes("reboot"), true);
      const result = spawnSync("/bin/bash", ["-c", text.replace(/^true$/m, "echo ran")]);
      assert.equal(result.stdout.toString(), "ran\n");
      assert.equal(result.status, 0);
    });
  }

  /** Runs `text` as forLoginShell would name it and returns status and stderr lines. */
  /** The 1-based line of `text` that is exactly `line`. */
  function lineOf(text: string, line: string): number {
    return text.split("\n").indexOf(line) + 1;
  }

  function fail(text: string): { status: number | null; stdout: string; stderr: string[] } {
    const result = spawnSync("/bin/bash", ["-c", text, "h1-bgp-frr-conf on 192.0.2.10"]);
    return {
      status: result.status,
      stdout: result.stdout.toString(),
      stderr: result.stderr.toString().trimEnd().split("\n"),
    };
  }

  for (const [how, frame] of FRAMES) {
    describe(how, () => {
      it("a failing command: the trap names its line; the last line names step, host and cause", () => {
        const text = script({ step: "demo", description: "fails", ...frame }, [
          "true",
          "false",
          "echo never",
        ]);
        const r = fail(text);
        assert.equal(r.status, 1);
        assert.equal(r.stdout, "");
        assert.deepEqual(r.stderr, [
          `frr-nspawn: line ${lineOf(text, "false")}: false (exit 1)`,
          `frr-nspawn: h1-bgp-frr-conf on 192.0.2.10: line ${lineOf(text, "false")}: false (exit 1)`,
        ]);
      });

      it("the cause is the failing command's own message (a real failure: mkdir under /proc)", () => {
        const text = script({ step: "demo", description: "fails", ...frame }, [
          "mkdir /proc/frr-nspawn-x",
        ]);
        const r = fail(text);
        assert.equal(r.status, 1);
        assert.equal(r.stderr.length, 3);
        assert.equal(
          r.stderr[1],
          `frr-nspawn: line ${lineOf(text, "mkdir /proc/frr-nspawn-x")}: mkdir /proc/frr-nspawn-x (exit 1)`,
        );
        assert.match(
          r.stderr[2],
          /^frr-nspawn: h1-bgp-frr-conf on 192\.0\.2\.10: mkdir: cannot create directory .\/proc\/frr-nspawn-x.: No such file or directory$/,
        );
      });

      it("a failing heredoc: the trap prints the command's first line only, never the body", () => {
        const body = ["SECRET-BODY-LINE", "x".repeat(300)].join("\n");
        const lines = writeFile("/proc/frr-nspawn-x/y", `${body}\n`);
        const text = script({ step: "demo", description: "fails", ...frame }, lines);
        const r = fail(text);
        assert.equal(r.status, 1);
        assert.ok(!r.stderr.join("\n").includes("SECRET-BODY-LINE"), r.stderr.join("\n"));
        assert.match(
          r.stderr.at(-2)!,
          new RegExp(
            `^frr-nspawn: line ${lineOf(text, lines[0])}: ` +
              /cat > \/proc\/frr-nspawn-x\/y\.frr-nspawn-tmp <<'FRR_NSPAWN_EOF' \(exit 1\)$/.source,
          ),
        );
        assert.match(
          r.stderr.at(-1)!,
          /^frr-nspawn: h1-bgp-frr-conf on 192\.0\.2\.10: .*No such file or directory$/,
        );
      });

      it("a long failing command is cut to 120 characters", () => {
        const long = `test ${"a".repeat(300)} = b`;
        const text = script({ step: "demo", description: "fails", ...frame }, [long]);
        const r = fail(text);
        const trap = r.stderr.at(-2)!;
        assert.equal(
          trap,
          `frr-nspawn: line ${lineOf(text, long)}: ${long.slice(0, 117)}... (exit 1)`,
        );
      });

      it("a script's own message before `exit 1` is the cause, said once", () => {
        const r = fail(
          script({ step: "demo", description: "fails", ...frame }, [
            warn("/etc/frr is read-only"),
            "exit 1",
          ]),
        );
        assert.equal(r.status, 1);
        assert.deepEqual(r.stderr, [
          "frr-nspawn: /etc/frr is read-only",
          "frr-nspawn: h1-bgp-frr-conf on 192.0.2.10: /etc/frr is read-only",
        ]);
      });

      it("success prints nothing extra and leaves no log behind", () => {
        const before = fs
          .readdirSync("/tmp")
          .filter((f) => f.startsWith("frr-nspawn-stderr.")).length;
        const r = fail(script({ step: "demo", description: "ok", ...frame }, ["echo fine >&2"]));
        assert.equal(r.status, 0);
        assert.deepEqual(r.stderr, ["fine"]);
        const after = fs
          .readdirSync("/tmp")
          .filter((f) => f.startsWith("frr-nspawn-stderr.")).length;
        assert.equal(after, before);
      });

      it("onFailure lines run only when the script fails", () => {
        const onFailure = ["echo cleaned"];
        assert.equal(
          fail(script({ step: "d", description: "ok", onFailure, ...frame }, ["true"])).stdout,
          "",
        );
        assert.equal(
          fail(script({ step: "d", description: "no", onFailure, ...frame }, ["false"])).stdout,
          "cleaned\n",
        );
      });

      it("the host lock: a second run waits, then fails naming who holds it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-lock-"));
        const lock = { path: path.join(dir, "lock"), waitSeconds: 1 };
        const holder = spawn("/bin/bash", [
          "-c",
          script({ step: "a", description: "holds", ...frame }, ["echo held", "sleep 5"]).replace(
            "set -euo pipefail",
            () => ["set -euo pipefail", ...hostLock(lock.path, 1)].join("\n"),
          ),
          "m1-start on 192.0.2.10",
        ]);
        holder.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
        return new Promise<void>((resolve, reject) => {
          holder.stdout.once("data", () => {
            try {
              const r = fail(
                script({ step: "b", description: "waits", lock, ...frame }, ["echo never"]),
              );
              assert.equal(r.status, 1);
              assert.equal(r.stdout, "");
              assert.match(
                r.stderr.at(-1)!,
                /^frr-nspawn: h1-bgp-frr-conf on 192\.0\.2\.10: waited 1s for \/tmp\/frr-nspawn-lock-\w+\/lock, held by m1-start on 192\.0\.2\.10 \(pid [0-9]+, since [0-9T:Z-]+\)$/,
              );
              holder.kill();
              resolve();
            } catch (e) {
              holder.kill();
              reject(e);
            }
          });
        });
      });
    });
  }

  for (const shell of SHELLS) {
    it(`forLoginShell runs the script unchanged under ${shell} (300 generated scripts)`, () => {
      const bodies = fc.sample(fc.array(nasty, { minLength: 1, maxLength: 5 }), {
        numRuns: 300,
        seed: 3,
      });
      for (const values of bodies) {
        const inner = values.map((v) => `printf '%s\\0' ${quote(v)}`).join("\n") + "\n";
        const out = run(shell, forLoginShell(inner)).toString("utf8").split("\0");
        out.pop();
        assert.deepEqual(out, values);
      }
    });
  }

  it("forLoginShell keeps stdin free for the script's commands", () => {
    const wrapped = forLoginShell('read -r line\necho "got:$line"\n');
    const result = spawnSync("/bin/sh", ["-c", wrapped], { input: "hello\n" });
    assert.equal(result.stdout.toString(), "got:hello\n");
  });
});

describe("shell: the host library", () => {
  it("components/host-library.sh is what the renderer makes (else: npm run host-library)", () => {
    assert.equal(fs.readFileSync(HOST_LIBRARY_FILE, "utf8"), renderHostLibrary());
  });

  it("bash parses it, and it only defines functions (and the interface planner's source)", () => {
    const r = spawnSync("bash", ["-n"], { input: renderHostLibrary(), encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const r2 = spawnSync(
      "bash",
      ["-c", `set -euo pipefail; . ${quote(LIBRARY_FILE)}; declare -F; trap -p; echo "[$-]"`],
      { encoding: "utf8" },
    );
    assert.equal(r2.status, 0, r2.stderr);
    // Every function its text defines at the top level, and nothing else: no trap set, no
    // option changed ($- as bash -c has it).
    const defined = [...renderHostLibrary().matchAll(/^([a-z_]+)\(\) \{$/gm)].map((m) => m[1]);
    assert.ok(defined.length >= 16, defined.join());
    assert.equal(
      r2.stdout,
      [...[...defined].sort().map((n) => `declare -f ${n}`), "[ehuBc]", ""].join("\n"),
    );
  });

  it("a script sourcing it: header, strict mode, the check, the source, the frame, the lock", () => {
    const text = script(
      {
        step: "demo",
        description: "locks",
        lock: true,
        onFailure: ["echo undo"],
        library: {
          path: "/var/lib/frr-nspawn/lib/frr-nspawn-0123456789abcdef.sh",
          installedBy: "h1-lib",
        },
      },
      ["echo hello"],
    );
    assert.equal(
      text,
      [
        "# frr-nspawn: demo: locks",
        "set -euo pipefail",
        `. /var/lib/frr-nspawn/lib/frr-nspawn-0123456789abcdef.sh 2>/dev/null || { echo "frr-nspawn: $0: "'its library is missing: replace the step h1-lib' >&2; exit 1; }`,
        "frr_nspawn_on_failure() {",
        "    echo undo",
        "}",
        "frr_nspawn_frame",
        "frr_nspawn_lock",
        "echo hello",
        "",
      ].join("\n"),
    );
  });

  it("a script sourcing it names a lock other than the host lock, and its wait", () => {
    const text = script(
      {
        step: "demo",
        description: "locks elsewhere",
        lock: { path: "/run/other.lock", waitSeconds: 5 },
        library: { path: "/var/lib/frr-nspawn/lib/x.sh", installedBy: "h1-lib" },
      },
      ["echo hello"],
    );
    assert.deepEqual(text.split("\n").slice(3), [
      "frr_nspawn_frame",
      "frr_nspawn_lock /run/other.lock 5",
      "echo hello",
      "",
    ]);
  });

  it("a missing library stops the script first, naming the step that installs it", () => {
    const text = script(
      {
        step: "demo",
        description: "needs it",
        library: { path: "/nonexistent/frr-nspawn-lib.sh", installedBy: "h1-lib" },
      },
      ["echo never"],
    );
    const r = spawnSync("/bin/bash", ["-c", text, "h1-bgp-sysctl on 192.0.2.10"], {
      encoding: "utf8",
    });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      "frr-nspawn: h1-bgp-sysctl on 192.0.2.10: its library is missing: replace the step h1-lib\n",
    );
  });
});

describe("shell.forLoginShell timeout", () => {
  it("puts sudo first, then timeout, then bash", () => {
    assert.match(
      forLoginShell("true\n", { sudo: true, timeoutSeconds: 60 }),
      /^sudo -n timeout --kill-after=30 60 bash -c "/,
    );
  });

  it("stops a script that runs past its limit", () => {
    const started = Date.now();
    const result = spawnSync("/bin/sh", ["-c", forLoginShell("sleep 30\n", { timeoutSeconds: 1 })]);
    assert.equal(result.status, 124);
    assert.ok(Date.now() - started < 10000);
  });
});
