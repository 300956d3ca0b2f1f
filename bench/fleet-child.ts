/**
 * One fleet construction under the SDK's mocks, in a process of its own so that its
 * time and heap are not mixed with another's. Prints one JSON line.
 *
 *   node --expose-gc -r tsx/cjs bench/fleet-child.ts components <hosts> <switches>
 *     (FRR_NSPAWN_BENCH_PACKAGE=<path of bin/index.js> for the compiled package)
 *   node --expose-gc -r tsx/cjs bench/fleet-child.ts bare <count> <createBytes> <deleteBytes>
 *   node --expose-gc -r tsx/cjs bench/fleet-child.ts keys <dir with id_ed25519 and id_rsa>
 *   node --expose-gc -r tsx/cjs bench/fleet-child.ts parented|outputs|ordered <count> <createBytes> <deleteBytes>
 */
import * as fs from "node:fs";
import * as v8 from "node:v8";
import * as pulumi from "@pulumi/pulumi";

interface Seen {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const seen: Seen[] = [];
let last = 0;
let heapPeak = 0;

const FAKE_BUILD = `FRR_NSPAWN_IMAGE ${JSON.stringify({
  imagePath: "/var/lib/frr-nspawn/images/0123456789abcdef/frr-image.tar.gz",
  sha256: "a".repeat(64),
  sizeBytes: 50_000_000,
  frrVersion: "8.4.4",
  recipeHash: "b".repeat(64),
})}`;

void pulumi.runtime.setMocks(
  {
    newResource: async (args) => {
      seen.push({ type: args.type, name: args.name, inputs: args.inputs });
      last = performance.now();
      // The timer below fires only when the event loop is free, which it seldom is while
      // resources register: sample here too.
      if (seen.length % 25 === 0) {
        sampleHeap();
      }
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type.startsWith("command:")) {
        state.stdout = args.name.endsWith("-build") ? FAKE_BUILD : "ok";
        state.stderr = "";
      }
      return { id: `${args.name}-id`, state };
    },
    call: () => ({}),
  },
  "bench",
  "fleet",
  false,
);

function sampleHeap(): void {
  heapPeak = Math.max(heapPeak, v8.getHeapStatistics().used_heap_size);
}

const sampler = setInterval(sampleHeap, 20);

const KEY = pulumi.secret(
  "-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----\n",
);

function hostAddress(i: number): string {
  return `10.${Math.floor(i / 250)}.${i % 250}.10`;
}

type Package = typeof import("../index");

/**
 * The package, imported after setMocks, as Pulumi's mock tests must: the compiled one
 * when run.ts names it (what npm installs), else the sources.
 */
function loadPackage(): Package {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(process.env.FRR_NSPAWN_BENCH_PACKAGE ?? "../index") as Package;
}

/** Host `<prefix><i, 4 digits>`: an NspawnMachine and a dual-homed BgpLoopback. */
function host(
  pkg: Package,
  image: InstanceType<Package["FrrImage"]>,
  prefix: string,
  i: number,
  login: Record<string, unknown>,
): void {
  const connection = { host: hostAddress(i), user: "core", sudo: true, ...login };
  const name = `${prefix}${String(i).padStart(4, "0")}`;
  const machine = new pkg.NspawnMachine(`${name}-frr`, { connection, image: { frrImage: image } });
  new pkg.BgpLoopback(`${name}-bgp`, {
    connection,
    machine,
    loopback: `10.255.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    asn: 4200000000 + i,
    interfaces: ["ens3", "ens4"],
  });
}

function components(hosts: number, switches: number): void {
  const pkg = loadPackage();
  const image = new pkg.FrrImage("image", { localSudo: false });
  const perSwitch = Math.ceil((hosts * 2) / switches);
  for (let i = 0; i < hosts; i++) {
    host(pkg, image, "h", i, { privateKey: KEY });
  }
  for (let s = 0; s < switches; s++) {
    new pkg.TorCumulus(`tor${String(s).padStart(2, "0")}`, {
      connection: { host: `10.254.${s}.1`, user: "cumulus", privateKey: KEY, sudo: true },
      asn: 65000 + s,
      loopback: `10.254.255.${s + 1}`,
      downlinks: Array.from({ length: perSwitch }, (_, p) => ({ port: `swp${p + 1}` })),
    });
  }
}

function bare(count: number, createBytes: number, deleteBytes: number): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const command = require("@pulumi/command") as typeof import("@pulumi/command");
  const create = "#".repeat(createBytes);
  const del = "#".repeat(deleteBytes);
  for (let i = 0; i < count; i++) {
    new command.remote.Command(`c${i}`, {
      connection: { host: hostAddress(i % 1000), user: "core", privateKey: KEY },
      create,
      delete: del,
      addPreviousOutputInEnv: false,
    });
  }
}

/**
 * What any component package pays on top of bare commands, in two parts (`--breakdown`):
 * `parented`, the same commands ten per host, each host's under two empty
 * ComponentResources (what NspawnMachine and BgpLoopback are), with plain inputs; and
 * `outputs`, the same with the scripts and the connection arriving as Outputs (`apply`
 * results), as a component's inputs do; `ordered`, the same again with each command after
 * the one before it and the second component after the first (`dependsOn`), as a host's
 * steps run.
 */
function parented(
  count: number,
  createBytes: number,
  deleteBytes: number,
  outputs: boolean,
  ordered: boolean,
): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const command = require("@pulumi/command") as typeof import("@pulumi/command");
  const create = "#".repeat(createBytes);
  const del = "#".repeat(deleteBytes);
  const input = <T>(v: T): pulumi.Input<T> =>
    outputs ? (pulumi.output(v).apply((x) => x) as pulumi.Output<T>) : v;
  class Part extends pulumi.ComponentResource {
    constructor(name: string, first: number, n: number, after?: pulumi.Resource) {
      super("bench:index:Part", name, {}, {});
      let previous = after;
      for (let i = first; i < first + n && i < count; i++) {
        previous = new command.remote.Command(
          `c${i}`,
          {
            connection: input({ host: hostAddress(i % 1000), user: "core", privateKey: KEY }),
            create: input(create),
            delete: input(del),
            addPreviousOutputInEnv: false,
          },
          { parent: this, dependsOn: ordered && previous !== undefined ? [previous] : [] },
        );
      }
      this.registerOutputs({});
    }
  }
  for (let i = 0; i < count; i += 10) {
    const a = new Part(`p${i}a`, i, 5);
    new Part(`p${i}b`, i + 5, 5, ordered ? a : undefined);
  }
}

/**
 * One host per way of logging in (`keys` mode), to show what the key costs in step
 * inputs: every remote step carries the connection, key included. `keyDir` holds
 * `id_ed25519` and `id_rsa` (run.ts makes them with ssh-keygen).
 */
const AUTH_VARIANTS = ["bench-key", "ed25519", "rsa-4096", "agent"] as const;

function keys(keyDir: string): void {
  const pkg = loadPackage();
  const image = new pkg.FrrImage("image", { localSudo: false });
  const login: Record<(typeof AUTH_VARIANTS)[number], Record<string, unknown>> = {
    "bench-key": { privateKey: KEY },
    ed25519: { privateKey: pulumi.secret(fs.readFileSync(`${keyDir}/id_ed25519`, "utf8")) },
    "rsa-4096": { privateKey: pulumi.secret(fs.readFileSync(`${keyDir}/id_rsa`, "utf8")) },
    agent: { agentSocketPath: "/run/user/1000/ssh-agent.socket" },
  };
  // Names as long as h0000's, so that only the connection differs.
  AUTH_VARIANTS.forEach((variant, i) => host(pkg, image, "k", i, login[variant]));
}

/** The command resources of the host whose steps are named `<prefix>…`. */
function stepsOf(prefix: string): Seen[] {
  return seen.filter((s) => s.type.startsWith("command:") && s.name.startsWith(prefix));
}

/** Bytes of a step's inputs as state holds them (JSON). */
function inputBytes(step: Seen): number {
  return Buffer.byteLength(JSON.stringify(step.inputs));
}

/** Bytes of step inputs per host of {@link keys}, by way of logging in. */
function bytesPerAuth(): Record<string, number> {
  return Object.fromEntries(
    AUTH_VARIANTS.map((variant, i) => [
      variant,
      stepsOf(`k${String(i).padStart(4, "0")}-`).reduce((n, s) => n + inputBytes(s), 0),
    ]),
  );
}

/**
 * Bytes of the inputs host h0000's steps carry into state (create/delete scripts,
 * connection, triggers and the rest), by step.
 */
function bytesPerStep(): Record<string, number> {
  return Object.fromEntries(stepsOf("h0000-").map((s) => [s.name, inputBytes(s)]));
}

async function main(): Promise<void> {
  const [mode, a, b, c] = process.argv.slice(2);
  const start = performance.now();
  if (mode === "components") {
    components(Number(a), Number(b));
  } else if (mode === "parented" || mode === "outputs" || mode === "ordered") {
    parented(Number(a), Number(b), Number(c), mode !== "parented", mode === "ordered");
  } else if (mode === "keys") {
    keys(a);
  } else if (mode === "bare") {
    bare(Number(a), Number(b), Number(c));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  // Done when no registration has arrived for a while: Outputs resolve step by step.
  for (;;) {
    const before = seen.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (seen.length === before) {
      break;
    }
  }
  clearInterval(sampler);
  const commands = seen.filter((s) => s.type.startsWith("command:"));
  const scriptBytes = (key: string) =>
    commands.reduce((sum, s) => sum + String(s.inputs[key] ?? "").length, 0) /
    Math.max(commands.length, 1);
  global.gc?.();
  console.log(
    JSON.stringify({
      mode,
      ms: Math.round(last - start),
      heapPeakMB: Math.round(heapPeak / 2 ** 20),
      heapAfterMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      registrations: seen.length,
      commands: commands.length,
      bytesPerStep: mode === "components" ? bytesPerStep() : {},
      bytesPerAuth: mode === "keys" ? bytesPerAuth() : {},
      createBytes: Math.round(scriptBytes("create")),
      deleteBytes: Math.round(scriptBytes("delete")),
    }),
  );
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
