// The provider's Check as the driver runs it: unit cases with exact texts, and the engine's
// report in a fresh-stack preview and in up. Each case fails without the emulation.
// Run: npx mocha lab/driver/check.test.ts
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { unknown } from "@pulumi/pulumi/output";
import { checkFailureMessages, checkInputs } from "./check";
import { runCli } from "./test-helpers";

const conn = { host: "h" };

describe("lab driver: Check of pulumi-command 1.2.1 (unit)", () => {
  const cases: [string, string, Record<string, unknown>, string[]][] = [
    ["remote.Command, valid", "command:remote:Command", { connection: conn, create: "x" }, []],
    [
      "remote.Command, create not a string",
      "command:remote:Command",
      { connection: conn, create: 42 },
      [
        "create: Field 'create' on 'remote.CommandInputs' must be a 'string'; got 'float64' instead",
      ],
    ],
    [
      "remote.Command, connection without host",
      "command:remote:Command",
      { connection: { port: 22 } },
      [
        "connection: An error occurred decoding 'CommandInputs.connection': 1 failures decoding:\n\thost: Missing required field 'host' on 'remote.Connection'",
      ],
    ],
    [
      "remote.Command, unknown connection (preview)",
      "command:remote:Command",
      { connection: unknown, create: "x" },
      [],
    ],
    [
      "local.Command, interpreter not a list",
      "command:local:Command",
      { create: "x", interpreter: "bash" },
      [
        "interpreter: Field 'interpreter' on 'local.CommandInputs' must be a '[]string'; got 'string' instead",
      ],
    ],
    [
      "local.Command, unrecognized field",
      "command:local:Command",
      { create: "x", bogus: "y" },
      ["bogus: Unrecognized field 'bogus' on 'local.CommandInputs'"],
    ],
    [
      "CopyToRemote, text asset",
      "command:remote:CopyToRemote",
      { connection: conn, source: new pulumi.asset.StringAsset("t"), remotePath: "/x" },
      [],
    ],
    [
      "CopyToRemote, unknown source (fresh-stack preview)",
      "command:remote:CopyToRemote",
      { connection: conn, source: unknown, remotePath: "/x" },
      ["asset: either asset or archive must be set"],
    ],
    [
      "CopyToRemote, remote asset",
      "command:remote:CopyToRemote",
      { connection: conn, source: new pulumi.asset.RemoteAsset("https://x/y"), remotePath: "/x" },
      ["asset: asset must be a path-based file asset or a text asset"],
    ],
    [
      "CopyToRemote, no remotePath",
      "command:remote:CopyToRemote",
      { connection: conn, source: new pulumi.asset.StringAsset("t") },
      ["remotePath: Missing required field 'remotePath' on 'remote.CopyToRemoteInputs'"],
    ],
  ];
  for (const [title, type, inputs, want] of cases) {
    it(title, () => {
      assert.deepEqual(
        checkInputs(type, inputs).map((f) => `${f.property}: ${f.reason}`),
        want,
      );
    });
  }

  it("the engine's diagnostic names the type, the resource, the property and the reason", () => {
    const raw = { connection: conn, source: unknown, remotePath: "/x" };
    assert.deepEqual(
      checkFailureMessages("command:remote:CopyToRemote", "m-copy", raw, [
        { property: "asset", reason: "either asset or archive must be set" },
      ]),
      [
        "command:remote:CopyToRemote resource 'm-copy': property asset value {<nil>} has a problem: either asset or archive must be set",
      ],
    );
  });
});

describe("lab driver: Check in preview and up (engine report)", function () {
  this.timeout(120_000);
  const program = path.join(__dirname, "fixtures", "check");
  let dir: string;
  const cfg = (c: Record<string, string>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(c).map(([k, v]) => [`labtest:${k}`, v]));
  const state = (n: string): string => path.join(dir, `${n}.json`);

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-driver-check-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a CopyToRemote whose source is another step's output fails a fresh-stack preview", () => {
    const file = path.join(dir, "image.tar");
    fs.writeFileSync(file, "image");
    const r = runCli("preview", program, state("cfo"), cfg({ case: "copyFromOutput", file }));
    assert.equal(r.code, 1);
    assert.equal(r.summary.ok, false);
    assert.equal(r.summary.ran, 0);
    const urn = "urn:pulumi:dev::labtest::command:remote:CopyToRemote::copy";
    assert.deepEqual(r.summary.diagnostics, [
      "command:remote:CopyToRemote resource 'copy': property asset value {<nil>} has a problem: either asset or archive must be set",
    ]);
    assert.equal(r.summary.error, `${r.summary.diagnostics[0]}\nresource ${urn} is invalid`);
    const checks = Object.fromEntries(r.summary.plan.map((p) => [p.name, p.check]));
    assert.equal(checks["build"], "passed");
    assert.equal(checks["copy"], "failed");
    assert.ok(!fs.existsSync(state("cfo")));
  });

  it("a FileAsset whose file does not exist yet fails at registration", () => {
    const file = path.join(dir, "not-built-yet.tar");
    const r = runCli("preview", program, state("mf"), cfg({ case: "missingFile", file }));
    assert.equal(r.code, 1);
    assert.equal(
      r.summary.error,
      `unmarshal properties: failed to compute asset hash for "source": failed to open asset file '${file}': open ${file}: no such file or directory`,
    );
  });

  it("a remote asset fails CopyToRemote's Check", () => {
    const r = runCli("preview", program, state("uri"), cfg({ case: "uriAsset" }));
    assert.equal(r.code, 1);
    assert.deepEqual(r.summary.diagnostics, [
      "command:remote:CopyToRemote resource 'copy': property asset value {<nil>} has a problem: asset must be a path-based file asset or a text asset",
    ]);
  });

  it("remote.Command's Check fails up before any step runs", () => {
    const r = runCli("up", program, state("rbt"), cfg({ case: "remoteBadType" }));
    assert.equal(r.code, 1);
    assert.equal(r.summary.ran, 0);
    assert.deepEqual(r.summary.diagnostics, [
      "command:remote:Command resource 'remote': property create value {42} has a problem: Field 'create' on 'remote.CommandInputs' must be a 'string'; got 'float64' instead",
    ]);
    assert.deepEqual(readStateNames(state("rbt")), []);
  });

  it("local.Command's Check fails up before any step runs", () => {
    const r = runCli("up", program, state("lbt"), cfg({ case: "localBadType" }));
    assert.equal(r.code, 1);
    assert.equal(r.summary.ran, 0);
    assert.deepEqual(r.summary.diagnostics, [
      "command:local:Command resource 'local': property interpreter value {bash} has a problem: Field 'interpreter' on 'local.CommandInputs' must be a '[]string'; got 'string' instead",
    ]);
  });

  it("valid inputs pass Check for every type", () => {
    const r = runCli("preview", program, state("ok"), cfg({ case: "valid" }));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.summary.plan
        .filter((p) => p.custom)
        .map((p) => `${p.name}:${p.check}`)
        .sort(),
      ["copy:passed", "local:passed", "remote:passed"],
    );
  });
});

function readStateNames(file: string): string[] {
  if (!fs.existsSync(file)) {
    return [];
  }
  const s = JSON.parse(fs.readFileSync(file, "utf8")) as {
    resources: Record<string, { name: string; custom: boolean }>;
  };
  return Object.values(s.resources)
    .filter((r) => r.custom)
    .map((r) => r.name);
}
