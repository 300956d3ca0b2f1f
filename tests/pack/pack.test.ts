/**
 * The package as a user gets it: `npm pack` of this checkout (which builds through
 * `prepare`), the tarball installed into an empty project next to @pulumi/pulumi
 * 3.248.0 and @pulumi/command 1.2.1, and examples/seed constructed from it under the
 * SDK's mocks, with the same steps as the TypeScript path in this repository.
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";
import * as grpc from "@grpc/grpc-js";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";

import { FAKE_IMAGE_RESULT, Recorder, unsecret } from "../mock/harness";

const ROOT = path.join(__dirname, "..", "..");
const SEED = path.join(ROOT, "examples", "seed", "index.ts");
const SEED_CONFIG = {
  values: {
    coreosHost: "192.0.2.10",
    coreosPrivateKey: "HOST-KEY",
    torHost: "192.0.2.1",
    torPrivateKey: "TOR-KEY",
    imageLocalSudo: "false",
  },
  secrets: ["coreosPrivateKey", "torPrivateKey"],
};

interface Seen {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_loglevel: "error" },
  });
}

/** The files a tarball holds, from `npm pack --json`. */
function packedFiles(json: string): string[] {
  const [info] = JSON.parse(json) as { files: { path: string }[]; filename: string }[];
  return info.files.map((f) => f.path).sort();
}

/** examples/seed under this repository's mocks: the TypeScript path. */
async function seedHere(): Promise<Seen[]> {
  const rec = new Recorder();
  rec.install();
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(SEED_CONFIG.values).map(([k, v]) => [`project:${k}`, v])),
    SEED_CONFIG.secrets.map((k) => `project:${k}`),
  );
  const file = require.resolve(SEED);
  delete require.cache[file];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(file);
  await rec.settle(100, 30_000);
  return rec.registrations.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
}

describe("the packed package", function () {
  this.timeout(300_000);
  let work: string;
  let tarball: string;
  let files: string[];

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-pack-"));
    const json = npm(["pack", "--json", "--pack-destination", work], ROOT);
    files = packedFiles(json.slice(json.indexOf("[")));
    tarball = path.join(work, fs.readdirSync(work).find((f) => f.endsWith(".tgz")) ?? "");
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("holds the built JS and .d.ts of index, components and the provider, LICENSE and README only", () => {
    const unexpected = files.filter(
      (f) =>
        ![
          "LICENSE",
          "README.md",
          "package.json",
          "PulumiPlugin.yaml",
          "bin/schema.json",
          // The host library, beside steps.js, which gives CopyToRemote its path.
          "bin/components/host-library.sh",
        ].includes(f) && !/^bin\/(index|(components|provider)\/.+)\.(js|d\.ts)$/.test(f),
    );
    assert.deepEqual(unexpected, []);
    for (const f of [
      "LICENSE",
      "README.md",
      "PulumiPlugin.yaml",
      "bin/index.js",
      "bin/index.d.ts",
      "bin/provider/main.js",
      "bin/schema.json",
      "bin/components/host-library.sh",
    ]) {
      assert.ok(files.includes(f), `${f} is missing from ${files.join(", ")}`);
    }
    // Every component module has its JS and its declarations.
    for (const ts of fs
      .readdirSync(path.join(ROOT, "components"))
      .filter((f) => f.endsWith(".ts"))) {
      const base = `bin/components/${ts.replace(/\.ts$/, "")}`;
      assert.ok(files.includes(`${base}.js`) && files.includes(`${base}.d.ts`), base);
    }
  });

  it("installs next to @pulumi/pulumi 3.248.0 and @pulumi/command 1.2.1; examples/seed type-checks and constructs the same steps", async () => {
    const project = path.join(work, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, "package.json"),
      JSON.stringify({
        name: "frr-nspawn-pack-test",
        private: true,
        dependencies: {
          "@pulumi/pulumi": "3.248.0",
          "@pulumi/command": "1.2.1",
          "frr-nspawn": `file:${tarball}`,
        },
      }),
    );
    npm(["install", "--prefer-offline", "--no-audit", "--no-fund"], project);
    const installed = JSON.parse(
      fs.readFileSync(path.join(project, "node_modules", "frr-nspawn", "package.json"), "utf8"),
    ) as { peerDependencies: Record<string, string>; dependencies?: Record<string, string> };
    assert.deepEqual(installed.dependencies ?? {}, {});
    assert.deepEqual(installed.peerDependencies, {
      "@pulumi/command": "^1.2",
      "@pulumi/pulumi": "^3",
    });
    // One SDK in the project: the package brings no copy of its own.
    assert.ok(!fs.existsSync(path.join(project, "node_modules", "frr-nspawn", "node_modules")));
    // The host library that -lib-copy copies, where the installed steps.js points, unchanged.
    assert.equal(
      fs.readFileSync(
        path.join(project, "node_modules", "frr-nspawn", "bin", "components", "host-library.sh"),
        "utf8",
      ),
      fs.readFileSync(path.join(ROOT, "components", "host-library.sh"), "utf8"),
    );

    // The example, unchanged, against the installed declarations.
    fs.copyFileSync(SEED, path.join(project, "index.ts"));
    execFileSync(
      process.execPath,
      [
        require.resolve("typescript/bin/tsc"),
        "--noEmit",
        "--strict",
        "--esModuleInterop",
        "--skipLibCheck",
        "--module",
        "commonjs",
        "--moduleResolution",
        "node",
        "--target",
        "ES2022",
        "index.ts",
      ],
      { cwd: project, stdio: ["ignore", "pipe", "pipe"] },
    );

    const js = ts.transpileModule(fs.readFileSync(SEED, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    fs.writeFileSync(path.join(project, "seed.js"), js);
    fs.copyFileSync(path.join(__dirname, "run-seed.js"), path.join(project, "run-seed.js"));
    const out = execFileSync(process.execPath, ["run-seed.js"], {
      cwd: project,
      encoding: "utf8",
      env: {
        ...process.env,
        SEED_CONFIG: JSON.stringify(SEED_CONFIG),
        FAKE_BUILD_STDOUT: `FRR_NSPAWN_IMAGE ${JSON.stringify(FAKE_IMAGE_RESULT)}`,
      },
    });
    const packed = JSON.parse(out) as Seen[];
    const here = await seedHere();
    assert.ok(packed.filter((r) => r.type.startsWith("command:")).length >= 11);
    assert.deepEqual(
      packed.map((r) => [r.type, r.name]),
      here.map((r) => [r.type, r.name]),
    );
    assert.deepEqual(
      packed.map((r) => unsecret(r.inputs)),
      here.map((r) => r.inputs),
    );
  });
  it("starts as a provider plugin the way the nodejs language host runs it, and serves schema.json", async () => {
    // pulumi v3.248.0 nodeLanguageHost.RunPlugin: node <@pulumi/pulumi/cmd/run-plugin>
    // <plugin directory> <engine address>; run-plugin requires the directory ("main").
    const project = path.join(work, "project");
    const pkgDir = path.join(project, "node_modules", "frr-nspawn");
    const runPlugin = require.resolve("@pulumi/pulumi/cmd/run-plugin", { paths: [project] });
    const child = spawn(process.execPath, [runPlugin, pkgDir], {
      cwd: project,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const line = out.split("\n")[0];
          if (out.includes("\n")) resolve(line.trim());
        });
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("exit", (code) => reject(new Error(`plugin exited (${code}): ${err}`)));
      });
      assert.match(port, /^\d+$/);
      const client = new provrpc.ResourceProviderClient(
        `127.0.0.1:${port}`,
        grpc.credentials.createInsecure(),
      );
      const served = await new Promise<string>((resolve, reject) =>
        client.getSchema(new provproto.GetSchemaRequest(), (e, r) =>
          e ? reject(e) : resolve(r.getSchema()),
        ),
      );
      client.close();
      assert.deepEqual(
        JSON.parse(served),
        JSON.parse(fs.readFileSync(path.join(ROOT, "schema.json"), "utf8")),
      );
    } finally {
      child.kill();
    }
  });
});
