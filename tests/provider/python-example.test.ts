/**
 * examples/seed-python, checked without the Pulumi CLI: Python runs it against a
 * stand-in `frr_nspawn` module built from schema.json (fake-python-sdk/: the generated
 * SDK's names, arguments and types; unknown or missing arguments raise), which records
 * each component the program creates as the inputs the engine would send. Those are
 * constructed through the provider, in order, and must register what examples/seed
 * registers in TypeScript with the same stack config.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

import { assertSame, viaProvider, viaTypeScript } from "./compare";
import { construct, urnOf } from "./wire";

const ROOT = path.join(__dirname, "..", "..");
const CONFIG = {
  values: {
    coreosHost: "192.0.2.10",
    coreosPrivateKey: "HOST-KEY",
    torHost: "192.0.2.1",
    torPrivateKey: "TOR-KEY",
    imageLocalSudo: "false",
    torCli: "vtysh",
    hostInterfaces: JSON.stringify(["ens3", "ens4"]),
  },
  secrets: ["coreosPrivateKey", "torPrivateKey"],
};

interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  dependencies: Record<string, string[]>;
  /** The `depends_on` option's URNs. */
  dependsOn: string[];
}

/** What a Python program creates, as the engine would receive it. */
function runPython(
  program = "examples/seed-python/__main__.py",
  config: { values: Record<string, string>; secrets: string[] } = CONFIG,
): Recorded[] {
  const out = execFileSync(
    "python3",
    [
      "-c",
      "import json, runpy, sys, frr_nspawn\n" +
        "runpy.run_path(sys.argv[1], run_name='__main__')\n" +
        "print(json.dumps(frr_nspawn.RECORDED))",
      program,
    ],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: {
        ...process.env,
        PYTHONPATH: path.join(__dirname, "fake-python-sdk"),
        FRR_NSPAWN_SCHEMA: path.join(ROOT, "schema.json"),
        FAKE_PULUMI_CONFIG: JSON.stringify(config),
      },
    },
  );
  return JSON.parse(out) as Recorded[];
}

/** examples/seed, loaded afresh under the current mocks with the same config. */
function runTypeScriptSeed(): void {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(CONFIG.values).map(([k, v]) => [`project:${k}`, v])),
    CONFIG.secrets.map((k) => `project:${k}`),
  );
  const file = require.resolve(path.join(ROOT, "examples", "seed", "index.ts"));
  delete require.cache[file];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(file);
}

describe("examples/seed-python", () => {
  it("creates the four components with the generated SDK's names and arguments", () => {
    const recorded = runPython();
    assert.deepEqual(
      recorded.map((r) => [r.type, r.name]),
      [
        ["frr-nspawn:index:FrrImage", "frr-image"],
        ["frr-nspawn:index:NspawnMachine", "coreos-frr"],
        ["frr-nspawn:index:BgpLoopback", "coreos-bgp"],
        ["frr-nspawn:index:TorCumulus", "tor"],
      ],
    );
    const machine = recorded[1];
    assert.deepEqual(machine.dependencies.image, [urnOf("frr-nspawn:index:FrrImage", "frr-image")]);
    // The switch's verify waits for the host's session: it starts after the machine.
    assert.deepEqual(recorded[3].dependsOn, [
      urnOf("frr-nspawn:index:NspawnMachine", "coreos-frr"),
    ]);
  });

  it("constructed through the provider, registers the steps of examples/seed in TypeScript", async () => {
    const recorded = runPython();
    const typescript = await viaTypeScript(runTypeScriptSeed);
    const provider = await viaProvider(async () => {
      for (const r of recorded) {
        await construct(r.type, r.name, r.inputs, r.dependencies, r.dependsOn);
      }
    });
    const image = urnOf("frr-nspawn:index:FrrImage", "frr-image");
    const machine = urnOf("frr-nspawn:index:NspawnMachine", "coreos-frr");
    const names = typescript.map((r) => r.name);
    assert.ok(names.includes("tor-vtysh") && names.includes("coreos-bgp-frr-conf"), names.join());
    assertSame(provider, typescript, names, {
      [machine]: [image],
      [urnOf("frr-nspawn:index:BgpLoopback", "coreos-bgp")]: [machine],
      [urnOf("frr-nspawn:index:TorCumulus", "tor")]: [machine],
    });
  });

  it("README's Python snippet runs against the same SDK shape and constructs", async () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Use from Python"));
    const snippet = /```python\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(snippet !== undefined, "no python block in README's Python section");
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "readme-")), "p.py");
    fs.writeFileSync(file, snippet);
    const recorded = runPython(file, { values: { key: "KEY" }, secrets: ["key"] });
    assert.deepEqual(
      recorded.map((r) => r.type.split(":")[2]),
      ["FrrImage", "NspawnMachine", "BgpLoopback"],
    );
    const provider = await viaProvider(async () => {
      for (const r of recorded) {
        await construct(r.type, r.name, r.inputs, r.dependencies);
      }
    });
    assert.ok(provider.some((r) => r.name === "h1-bgp-frr-conf"));
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});
