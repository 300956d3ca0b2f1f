/**
 * A first-deploy preview of examples/seed (preview on, no state): every step's `create`
 * and `delete` must be known text, for each kind of image, so that a user reads every
 * script before anything runs.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

import { BgpLoopback } from "../../index";
import { Recorder } from "./harness";

const rec = new Recorder();

const BASE: Record<string, string> = {
  coreosHost: "192.0.2.10",
  coreosPrivateKey: "HOST-KEY",
  coreosHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfCoreos",
  torHost: "192.0.2.1",
  torPrivateKey: "TOR-KEY",
  imageLocalSudo: "false",
};
const SHA = "f".repeat(64);

const KINDS: [string, Record<string, string>, string][] = [
  ["a local FrrImage", {}, "coreos-frr-push"],
  [
    "{ path, sha256 }",
    { imagePath: "/srv/images/frr-image.tar.gz", imageSha256: SHA },
    "coreos-frr-copy",
  ],
  [
    "{ url, sha256 }",
    { imageUrl: "https://images.example/frr-image.tar.gz", imageSha256: SHA },
    "coreos-frr-fetch",
  ],
];

/** Runs examples/seed under preview mocks with no state. */
function previewSeed(config: Record<string, string>): void {
  rec.install(true);
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`project:${k}`, v])),
    ["project:coreosPrivateKey", "project:torPrivateKey"],
  );
  const file = require.resolve(path.join(__dirname, "..", "..", "examples", "seed", "index.ts"));
  delete require.cache[file];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(file);
}

/**
 * `create`/`delete` inputs of command steps that are not known text, as the engine gets
 * them (`wire`: an unknown is the SDK's unknown sentinel there; a step that checks only
 * sends no `delete` at all, which is known).
 */
function unknownScripts(): string[] {
  return rec
    .steps()
    .filter((r) => r.type !== "command:remote:CopyToRemote")
    .flatMap((r) =>
      (["create", "delete"] as const)
        .filter((k) => (k === "create" || k in r.wire) && !isKnownText(r.wire[k]))
        .map((k) => `${r.name}.${k}`),
    );
}

function isKnownText(v: unknown): boolean {
  return typeof v === "string" && v !== pulumi.runtime.unknownValue;
}

describe("first-deploy preview of examples/seed: every script is known", () => {
  for (const [kind, extra, first] of KINDS) {
    it(`${kind}: 0 unknown create/delete inputs`, async () => {
      previewSeed({ ...BASE, ...extra });
      await rec.settle();
      const names = rec.steps().map((r) => r.name);
      assert.ok(names.includes(first), names.join(", "));
      // 4 machine steps after the first, 5 BGP steps, and the machine's 2 host library
      // steps (BgpLoopback sources the machine's); the switch and the build are not "coreos-".
      assert.equal(
        names.filter((n) => n.startsWith("coreos-")).length,
        12,
        `expected 12 host steps: ${names.join(", ")}`,
      );
      assert.deepEqual(unknownScripts(), []);
      for (const name of ["coreos-frr-copy", "coreos-frr-lib-copy"]) {
        const copy = rec.registrations.find((r) => r.name === name);
        if (copy !== undefined || name !== "coreos-frr-copy") {
          // What 1.2.1's CopyToRemote.Check needs: a known asset and remote path.
          assert.equal(typeof copy?.inputs.remotePath, "string", name);
          assert.ok(copy?.inputs.source !== undefined, `the source of ${name} is unknown`);
        }
      }
    });
  }

  it("the count sees unknown scripts: a BgpLoopback fed a name from a step's output has 11", async () => {
    rec.install(true);
    // A provider output: unknown during a preview without state.
    const probe = new command.local.Command("probe", { create: "echo frr" });
    new BgpLoopback("u", {
      connection: { host: "192.0.2.10", privateKey: "K" },
      machineName: probe.stdout.apply((out) => out.trim()),
      loopback: "2.2.2.2",
      asn: 65001,
    });
    await rec.settle();
    const unknownBgp = unknownScripts().filter((n) => n.startsWith("u-"));
    // Its 6 steps' create, and the delete of all but verify (which has none): even the host
    // library's, whose target waits on the validated config.
    assert.equal(unknownBgp.length, 11, unknownBgp.join(", "));
  });
});
