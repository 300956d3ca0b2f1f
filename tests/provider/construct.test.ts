/**
 * The provider's construct(), driven in-process under the SDK's mocks with inputs shaped
 * as the engine delivers them from a Python program (plain values, secrets, references
 * to FrrImage and NspawnMachine), registers the same resources — types, names, parents,
 * inputs, dependencies — as the same components built directly in TypeScript.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";

import { BgpLoopback, FrrImage, NspawnMachine, TorCumulus } from "../../index";
import { assertSame, rec, viaProvider, viaTypeScript } from "./compare";
import { construct, keepOutputsReadable, ref, secret, urnOf } from "./wire";

const SHA = "c".repeat(64);
const IMAGE = "frr-nspawn:index:FrrImage";
const MACHINE = "frr-nspawn:index:NspawnMachine";
const BGP = "frr-nspawn:index:BgpLoopback";
const TOR = "frr-nspawn:index:TorCumulus";

/** A CoreOS host's connection as TypeScript writes it, and as Python's SDK sends it. */
const hostTs = { host: "192.0.2.10", user: "core", privateKey: pulumi.secret("KEY"), sudo: true };
const hostWire = { host: "192.0.2.10", user: "core", privateKey: secret("KEY"), sudo: true };

/** BgpLoopback "bgp"'s steps before its verify step, in order. */
const BGP_STEPS = [
  "bgp-lib-copy",
  "bgp-lib",
  "bgp-sysctl",
  "bgp-host-unit",
  "bgp-daemons",
  "bgp-frr-conf",
];
describe("provider construct() with inputs as a Python program sends them", () => {
  it("FrrImage: plain enums and a plain object with Input fields", async () => {
    const args = {
      localSudo: false,
      suite: "trixie",
      distribution: "debian",
      compression: "xz",
      frr: {
        source: "frrouting",
        channel: "frr-10",
        repository: "https://deb.example.org/frr",
        keyUrl: "https://deb.example.org/frr/keys.gpg",
      },
      extraPackages: ["tcpdump"],
    } as const;
    const typescript = await viaTypeScript(() => {
      new FrrImage("img", { ...args, extraPackages: [...args.extraPackages] });
    });
    const provider = await viaProvider(async () => {
      await construct(IMAGE, "img", args);
    });
    assertSame(provider, typescript, ["img", "img-build"]);
  });

  it("FrrImage on a builder: the builder arrives as one secret and stays secret on the step", async () => {
    const typescript = await viaTypeScript(() => {
      new FrrImage("img", { builder: { ...hostTs, host: "192.0.2.5" } });
    });
    const provider = await viaProvider(async () => {
      await construct(IMAGE, "img", { builder: { ...hostWire, host: "192.0.2.5" } });
    });
    assertSame(provider, typescript, ["img", "img-build"]);
    assert.deepEqual(provider.find((r) => r.name === "img-build")?.secretInputs, ["connection"]);
  });

  it("NspawnMachine: image.frrImage is a reference to an FrrImage built by the same program", async () => {
    const typescript = await viaTypeScript(() => {
      const image = new FrrImage("img", { localSudo: false });
      new NspawnMachine("m", {
        connection: hostTs,
        image: { frrImage: image },
        settings: "unit-override",
      });
    });
    const provider = await viaProvider(async () => {
      await construct(IMAGE, "img", { localSudo: false });
      const img = urnOf(IMAGE, "img");
      await construct(
        MACHINE,
        "m",
        { connection: secret(hostWire), image: { frrImage: ref(img) }, settings: "unit-override" },
        { image: [img] },
      );
    });
    const steps = typescript.filter((r) => r.type.startsWith("command:")).map((r) => r.name);
    assert.ok(steps.length >= 5, steps.join(", "));
    assertSame(
      provider,
      typescript,
      ["img", "img-build", "m", ...steps.filter((n) => n !== "img-build")],
      { [urnOf(MACHINE, "m")]: [urnOf(IMAGE, "img")] },
    );
  });

  it("NspawnMachine: an image by URL with a secret-free sha256", async () => {
    const image = { url: "https://images.example.org/frr.tar.gz", sha256: SHA };
    const typescript = await viaTypeScript(() => {
      new NspawnMachine("m", { connection: hostTs, image });
    });
    const provider = await viaProvider(async () => {
      await construct(MACHINE, "m", { connection: hostWire, image });
    });
    const steps = typescript.filter((r) => r.type.startsWith("command:")).map((r) => r.name);
    assert.ok(steps.includes("m-fetch"), steps.join(", "));
    assertSame(provider, typescript, ["m", ...steps]);
  });

  it("BgpLoopback: machine is a reference to an NspawnMachine; its image's FRR version is used", async () => {
    const bgp = { loopback: "2.2.2.2/32", asn: 65001, interfaces: ["ens3", "ens4"] };
    const typescript = await viaTypeScript(() => {
      const image = new FrrImage("img", { localSudo: false });
      const machine = new NspawnMachine("m", { connection: hostTs, image: { frrImage: image } });
      new BgpLoopback("bgp", { connection: hostTs, machine, ...bgp });
    });
    const provider = await viaProvider(async () => {
      await construct(IMAGE, "img", { localSudo: false });
      const img = urnOf(IMAGE, "img");
      await construct(
        MACHINE,
        "m",
        { connection: hostWire, image: { frrImage: ref(img) } },
        { image: [img] },
      );
      const m = urnOf(MACHINE, "m");
      await construct(
        BGP,
        "bgp",
        { connection: hostWire, machine: ref(m), ...bgp },
        { machine: [m] },
      );
    });
    // Following the machine, it sources the machine's host library: no -lib steps of its own.
    const bgpSteps = [...BGP_STEPS.filter((n) => !n.startsWith("bgp-lib")), "bgp-verify"];
    const others = typescript.map((r) => r.name).filter((n) => !n.startsWith("bgp"));
    assertSame(provider, typescript, ["bgp", ...bgpSteps, ...others], {
      [urnOf(MACHINE, "m")]: [urnOf(IMAGE, "img")],
      [urnOf(BGP, "bgp")]: [urnOf(MACHINE, "m")],
    });
    const conf = String(provider.find((r) => r.name === "bgp-frr-conf")?.inputs.create);
    assert.match(conf, /frr version 8\.4\.4/);
    assert.match(conf, /neighbor ens4 interface peer-group TOR/);
  });

  it("BgpLoopback: machineName for a machine not managed here, without the verify step", async () => {
    const args = { machineName: "frr", loopback: "10.255.0.7", asn: 4200000001, verify: false };
    const typescript = await viaTypeScript(() => {
      new BgpLoopback("bgp", { connection: hostTs, ...args });
    });
    const provider = await viaProvider(async () => {
      await construct(BGP, "bgp", { connection: secret(hostWire), ...args });
    });
    assertSame(provider, typescript, ["bgp", ...BGP_STEPS]);
  });

  for (const cli of ["nclu", "nvue", "vtysh"] as const) {
    it(`TorCumulus (${cli}): downlinks as objects, a password kept secret`, async () => {
      const args = {
        asn: 65000,
        loopback: "1.1.1.1/32",
        downlinks: [{ port: "swp1" }, { port: "swp2", raInterval: 10, raLifetime: 30 }],
        cli,
        ...(cli === "nvue" ? { cumulusVersion: "5.15" } : {}),
      };
      const typescript = await viaTypeScript(() => {
        new TorCumulus("tor", {
          connection: {
            host: "192.0.2.1",
            user: "cumulus",
            password: pulumi.secret("PW"),
            sudo: true,
          },
          ...args,
        });
      });
      const provider = await viaProvider(async () => {
        await construct(TOR, "tor", {
          connection: { host: "192.0.2.1", user: "cumulus", password: secret("PW"), sudo: true },
          ...args,
        });
      });
      const steps = [`tor-${cli}`, "tor-verify"];
      assertSame(provider, typescript, ["tor", ...steps]);
      for (const step of provider.filter((r) => r.type.startsWith("command:"))) {
        assert.ok(
          !JSON.stringify(step.inputs.create).includes("PW"),
          `${step.name} holds the password`,
        );
      }
    });
  }
});

describe("provider construct() refuses what the schema cannot mean", () => {
  beforeEach(() => {
    rec.install();
    keepOutputsReadable();
  });

  it("an input the component does not have, and a secret where a plain choice belongs, in one error", async () => {
    await assert.rejects(
      construct(TOR, "tor", {
        connection: hostWire,
        asn: 65000,
        loopback: "1.1.1.1",
        downlinks: [{ port: "swp1" }],
        cli: secret("vtysh"),
        colour: "blue",
      }),
      {
        name: "InputError",
        message:
          'TorCumulus "tor" has 2 invalid inputs:\n' +
          "  - cli: must not be a secret (it decides which steps exist)\n" +
          "  - colour: is not an input of frr-nspawn:index:TorCumulus",
      },
    );
  });

  it("a plain choice that is not known yet (an unknown output value in preview)", async () => {
    await assert.rejects(
      construct(MACHINE, "m", {
        connection: hostWire,
        image: { url: "https://images.example.org/frr.tar.gz", sha256: SHA },
        settings: { "4dabf18193072939515e22adb298388d": "d0e6a833031e9bbcd3f4e8bde6ca49a4" },
      }),
      {
        message:
          'NspawnMachine "m" has an invalid input:\n' +
          "  - settings: must be known when the program runs, not computed (it decides which steps exist)",
      },
    );
  });

  it("an unknown type", async () => {
    await assert.rejects(construct("frr-nspawn:index:Router", "r", {}), {
      message: "unknown resource type frr-nspawn:index:Router",
    });
  });
});
