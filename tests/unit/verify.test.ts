import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

import { parseSessions, renderVerify } from "../../components/render/scripts/verify";
import { waves } from "../../components/waves";

describe("waves", () => {
  const cases: [string, string[], number, string[][]][] = [
    ["none", [], 3, []],
    ["one short wave", ["a", "b"], 3, [["a", "b"]]],
    [
      "exact",
      ["a", "b", "c", "d"],
      2,
      [
        ["a", "b"],
        ["c", "d"],
      ],
    ],
    ["remainder", ["a", "b", "c", "d", "e"], 2, [["a", "b"], ["c", "d"], ["e"]]],
    ["one at a time", ["a", "b"], 1, [["a"], ["b"]]],
  ];
  for (const [title, items, size, expected] of cases) {
    it(`${title}: ${JSON.stringify(items)} by ${size}`, () => {
      assert.deepEqual(waves(items, size), expected);
    });
  }
  for (const size of [0, -1, 1.5, Number.NaN]) {
    it(`refuses size ${size}`, () => {
      assert.throws(() => waves(["a"], size), {
        name: "RangeError",
        message: `waves: size ${size} is not a whole number of at least 1`,
      });
    });
  }
});

describe("verify step script", () => {
  const config = {
    neighbors: ["ens3", "ens4"],
    advertise: ["2.2.2.2/32"],
    timeoutSeconds: 90,
    frrConf: "frr version 8.4.4\n",
  };

  it("runs the check where FRR runs, with every value quoted, and parses under bash", () => {
    const text = renderVerify("h1-bgp-verify", { kind: "machine", machine: "frr" }, config);
    assert.match(
      text,
      /^# Verifies the sessions of frr\.conf [0-9a-f]{16}; a changed frr\.conf verifies again\.$/m,
    );
    // verify_sessions runs the check with the prefixes as one word and each neighbour.
    assert.ok(text.endsWith("\nverify_sessions 90 2.2.2.2/32 ens3 ens4\n"), text.slice(-80));
    assert.match(
      text,
      /^ {8}if out=\$\(in_frr python3 -c "\$verify_check_py" "\$advertise" "\$@" 2>&1\); then$/m,
    );
    assert.equal(spawnSync("bash", ["-n", "-c", text]).status, 0);
  });

  it("a changed frr.conf changes the script, so the step runs again", () => {
    const a = renderVerify("s", { kind: "host" }, config);
    const b = renderVerify("s", { kind: "host" }, { ...config, frrConf: "frr version 10.3\n" });
    assert.notEqual(a, b);
  });

  it("the check program parses under python3 and carries no interpolated value", () => {
    const text = renderVerify("s", { kind: "host" }, config);
    const program = /^verify_check_py='([^']*)'$/ms.exec(text)?.[1];
    assert.ok(program !== undefined, "the program is one single-quoted word");
    const compile = spawnSync(
      "python3",
      ["-c", "import sys; compile(sys.stdin.read(), 'check', 'exec')"],
      {
        input: program,
        encoding: "utf8",
      },
    );
    assert.equal(compile.status, 0, compile.stderr);
    assert.ok(!program.includes("ens3") && !program.includes("2.2.2.2"));
    // Python 3.4 on (a Cumulus 3.7 switch runs it too): no subprocess.run (3.5), no
    // capture_output/text (3.7), no f-strings (3.6).
    assert.doesNotMatch(program, /subprocess\.run|capture_output|text=True|\bf"/);
  });

  const parses: [string, string, Record<string, unknown>][] = [
    ["no sessions line", "ok\n", {}],
    [
      "the sessions line among others",
      'x\nFRR_NSPAWN_SESSIONS {"ens3":{"advertised":true,"lastError":"","state":"Established"}}\n',
      { ens3: { advertised: true, lastError: "", state: "Established" } },
    ],
  ];
  for (const [title, stdout, expected] of parses) {
    it(`parseSessions: ${title}`, () => {
      assert.deepEqual(parseSessions(stdout), expected);
    });
  }
});
