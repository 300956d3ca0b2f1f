import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";

import {
  command,
  forLoginShell,
  heredocDelimiter,
  quote,
  script,
  writeFile,
} from "../../components/shell";

const SHELLS = ["/bin/sh", "/bin/bash"];

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

describe("shell.script and forLoginShell", () => {
  it("frames a script with strict mode and a named failure trap", () => {
    assert.equal(
      script({ step: "demo", description: "says hello" }, ["echo hello"]),
      [
        "# frr-nspawn: demo: says hello",
        "set -euo pipefail",
        `trap 'echo "frr-nspawn: step demo failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR`,
        "echo hello",
        "",
      ].join("\n"),
    );
  });

  it("a failing script names its step and the failed command", () => {
    const text = script({ step: "demo", description: "fails" }, ["true", "false", "echo never"]);
    const result = spawnSync("/bin/bash", ["-c", text]);
    assert.equal(result.status, 1);
    assert.equal(result.stdout.toString(), "");
    assert.match(
      result.stderr.toString(),
      /frr-nspawn: step demo failed \(exit 1\) at line 5: false/,
    );
  });

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
