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
        "coreos-frr-lib-copy",
        "coreos-frr-push",
        "coreos-frr-lib",
        "coreos-frr-verify",
        "coreos-frr-import",
        "coreos-frr-settings",
        "coreos-frr-start",
        // The switch waits for the machine (its verify needs the host's session).
        "coreos-bgp-sysctl",
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

  const host = (n: number) => ({
    name: `h${n}`,
    address: `192.0.2.1${n}`,
    loopback: `10.255.0.1${n}/32`,
    asn: 65010 + n,
    uplinks: ["ens3", "ens4"],
  });
  const sw = (n: number) => ({
    name: `t${n}`,
    address: `192.0.2.${n}`,
    loopback: `10.255.255.${n}/32`,
    asn: 65000,
    downlinks: ["swp1", "swp2"],
  });
  /** examples/rack's stack config for two hosts and two switches, plus `extra`. */
  const runRack = (extra: Record<string, string> = {}) =>
    runExample(
      "rack",
      {
        privateKey: "RACK-PRIVATE-KEY",
        imageLocalSudo: "false",
        hosts: JSON.stringify([host(1), host(2)]),
        switches: JSON.stringify([sw(1), sw(2)]),
        ...extra,
      },
      ["privateKey"],
    );

  it("rack: one image, dual-homed hosts in waves of one, a switch per uplink listing every host", async () => {
    runRack();
    await rec.settle(100, 30_000);
    const names = rec.steps().map((r) => r.name);
    assert.equal(names.filter((n) => n.endsWith("-build")).length, 1);
    assert.deepEqual(names.filter((n) => n.endsWith("-frr-conf")).sort(), [
      "h1-bgp-frr-conf",
      "h2-bgp-frr-conf",
    ]);
    // Each host peers with both switches.
    const conf = String(rec.byName("h1-bgp-frr-conf").inputs.create);
    assert.match(conf, /^ neighbor ens3 interface peer-group /m);
    assert.match(conf, /^ neighbor ens4 interface peer-group /m);
    for (const tor of ["t1", "t2"]) {
      assert.match(
        String(rec.byName(`${tor}-nclu`).inputs.create),
        /^if ! has 'net add bgp neighbor swp2 remote-as external'; then staged=1; nclu add bgp neighbor swp2 remote-as external >\/dev\/null; fi$/m,
      );
    }
    // The switches' own verify is off (their downlinks come up wave by wave), and they do
    // not wait for the hosts.
    assert.ok(!names.includes("t1-verify") && !names.includes("t2-verify"), names.join());
    assert.deepEqual(rec.byName("t1").dependencies, []);
    // The second wave waits for the first: h2's machine and BGP depend on h1's verify step.
    const deps = (name: string) => rec.byName(name).dependencies.map((u) => u.split("::").pop());
    assert.ok(deps("h2-frr").includes("h1-bgp-verify"), deps("h2-frr").join());
    assert.ok(deps("h2-bgp").includes("h1-bgp-verify"), deps("h2-bgp").join());
    assert.ok(!deps("h1-frr").some((d) => d?.startsWith("h2-")), deps("h1-frr").join());
    for (const step of rec.steps()) {
      const text = JSON.stringify([step.inputs.create, step.inputs.delete]);
      assert.ok(!text.includes("RACK-PRIVATE-KEY"), `${step.name} holds the key`);
    }
  });

  it("rack on plain-FRR switches with BFD that lets a host's graceful restart through", async () => {
    runRack({ switchCli: "vtysh", bfd: "true", bfdCheckControlPlaneFailure: "true" });
    await rec.settle(100, 30_000);
    for (const tor of ["t1", "t2"]) {
      const script = String(rec.byName(`${tor}-vtysh`).inputs.create);
      for (const port of ["swp1", "swp2"]) {
        assert.ok(script.includes(`neighbor ${port} bfd check-control-plane-failure`), tor);
      }
    }
    // The hosts do not set it: their bfdd must send the C bit clear.
    const conf = String(rec.byName("h1-bgp-frr-conf").inputs.create);
    assert.match(conf, /^ neighbor TOR bfd$/m);
    assert.doesNotMatch(conf, /check-control-plane-failure/);
  });
});
