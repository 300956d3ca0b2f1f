import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

import { Recorder } from "./harness";

const rec = new Recorder();

/** Loads an example program afresh with the given stack config. */
function runExample(dir: string, config: Record<string, string>, secrets: string[]): void {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`project:${k}`, v])),
    secrets.map((k) => `project:${k}`),
  );
  const file = require.resolve(path.join(__dirname, "..", "..", "examples", dir, "index.ts"));
  delete require.cache[file];
  // A fresh load runs the program again under the current mocks and config.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(file);
}

describe("examples construct under mocks", () => {
  beforeEach(() => rec.install());

  it("seed: image, machine, BGP and switch steps, keys kept out of every script", async () => {
    runExample(
      "seed",
      {
        coreosHost: "192.0.2.10",
        coreosPrivateKey: "HOST-KEY",
        torHost: "192.0.2.1",
        torPrivateKey: "TOR-KEY",
        imageLocalSudo: "false",
      },
      ["coreosPrivateKey", "torPrivateKey"],
    );
    await rec.settle(100, 30_000);
    assert.deepEqual(
      rec.steps().map((r) => r.name),
      [
        "frr-image-build",
        "coreos-frr-push",
        "coreos-frr-verify",
        "coreos-frr-import",
        "coreos-frr-settings",
        "coreos-frr-start",
        "coreos-bgp-sysctl",
        // The switch waits for the machine (its verify needs the host's session).
        "tor-nclu",
        "coreos-bgp-host-unit",
        "tor-verify",
        "coreos-bgp-daemons",
        "coreos-bgp-frr-conf",
        "coreos-bgp-verify",
      ],
    );
    const deps = (name: string) => rec.byName(name).dependencies.map((u) => u.split("::").pop());
    // The component waits for the machine's steps (so its own steps register after them).
    assert.ok(deps("tor").includes("coreos-frr-start"), deps("tor").join());
    assert.deepEqual(deps("tor-verify"), ["tor-nclu"]);
    for (const step of rec.steps()) {
      const text = JSON.stringify([step.inputs.create, step.inputs.delete]);
      assert.ok(
        !text.includes("HOST-KEY") && !text.includes("TOR-KEY"),
        `${step.name} holds a key`,
      );
    }
  });

  it("rack: one image, a machine and BGP per host, one switch listing every port", async () => {
    runExample(
      "rack",
      {
        privateKey: "KEY",
        torHost: "192.0.2.1",
        torLoopback: "10.255.255.1/32",
        imageLocalSudo: "false",
        hosts: JSON.stringify([
          {
            name: "h1",
            address: "192.0.2.11",
            loopback: "10.255.0.11/32",
            asn: 65011,
            switchPort: "swp1",
          },
          {
            name: "h2",
            address: "192.0.2.12",
            loopback: "10.255.0.12/32",
            asn: 65012,
            switchPort: "swp2",
          },
        ]),
      },
      ["privateKey"],
    );
    await rec.settle(100, 30_000);
    const names = rec.steps().map((r) => r.name);
    assert.equal(names.filter((n) => n.endsWith("-build")).length, 1);
    assert.deepEqual(names.filter((n) => n.endsWith("-frr-conf")).sort(), [
      "h1-bgp-frr-conf",
      "h2-bgp-frr-conf",
    ]);
    assert.match(
      String(rec.byName("rack1-tor-nclu").inputs.create),
      /^if ! has 'net add bgp neighbor swp2 remote-as external'; then staged=1; nclu add bgp neighbor swp2 remote-as external >\/dev\/null; fi$/m,
    );
    // The switch's steps wait for every host's machine; its verify checks every downlink.
    const torDeps = rec.byName("rack1-tor").dependencies.map((u) => u.split("::").pop());
    assert.ok(torDeps.includes("h1-frr-start") && torDeps.includes("h2-frr-start"), torDeps.join());
    assert.match(String(rec.byName("rack1-tor-verify").inputs.create), / swp1 swp2 2>&1\); then$/m);
  });
});
