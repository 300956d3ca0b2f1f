/**
 * `npm run bench`: a benchmark, not a test. Prints one table:
 * - construction time and peak heap for a fleet (1,000 hosts with two uplinks each and
 *   50 switches) under the SDK's mocks, with the package as `npm run build` compiles it, against the same number of bare
 *   `@pulumi/command` resources carrying scripts of the same average size;
 * - bytes of step inputs per host (with the bench's short key, then with real keys and with
 *   an agent), and (a second table) per step of host h0000;
 * - the image's gzip size and cold build time (FrrImage's own build script, as root, with
 *   debootstrap; `--no-image` leaves it out).
 *
 * Options: --hosts N (1000), --switches N (50), --runs N (3), --no-image, --breakdown
 * (also the same bare commands parented to two empty components per host, then with
 * Output inputs, then ordered by `dependsOn`: what any component package pays; see
 * fleet-child.ts).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";

import { parseImageResult, renderImageBuildScript } from "../components/render/image";
import { validateFrrImage } from "../components/validate/frrImage";

interface Run {
  ms: number;
  heapPeakMB: number;
  commands: number;
  /** Bytes of inputs of host h0000's steps, by step (components only). */
  bytesPerStep: Record<string, number>;
  /** Bytes of step inputs per host, by way of logging in (keys only). */
  bytesPerAuth: Record<string, number>;
  createBytes: number;
  deleteBytes: number;
}

const { values: opts } = parseArgs({
  options: {
    hosts: { type: "string", default: "1000" },
    switches: { type: "string", default: "50" },
    runs: { type: "string", default: "3" },
    "no-image": { type: "boolean", default: false },
    breakdown: { type: "boolean", default: false },
  },
});

/** The package as `npm run build` compiles it: what npm installs, and what users import. */
const PACKAGE = path.join(__dirname, "..", "bin", "index.js");

function child(args: string[]): Run {
  const out = execFileSync(
    process.execPath,
    [
      "--expose-gc",
      "--max-old-space-size=8192",
      "-r",
      "tsx/cjs",
      path.join(__dirname, "fleet-child.ts"),
      ...args,
    ],
    {
      encoding: "utf8",
      maxBuffer: 64 * 2 ** 20,
      env: { ...process.env, FRR_NSPAWN_BENCH_PACKAGE: PACKAGE },
    },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as Run;
}

/** Step inputs per host by way of logging in, with keys ssh-keygen makes for the run. */
function keyBytes(): Record<string, number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-bench-keys-"));
  try {
    for (const [type, file, bits] of [
      ["ed25519", "id_ed25519", []],
      ["rsa", "id_rsa", ["-b", "4096"]],
    ] as const) {
      execFileSync("ssh-keygen", ["-q", "-t", type, ...bits, "-N", "", "-f", path.join(dir, file)]);
    }
    return child(["keys", dir]).bytesPerAuth;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function range(xs: number[], unit: string): string {
  return `${median(xs)} ${unit} (${Math.min(...xs)}–${Math.max(...xs)})`;
}

/** Builds the default image cold in a fresh work directory; returns size and seconds. */
function image(): { sizeMB: string; seconds: string; note: string } {
  if (process.getuid?.() !== 0) {
    return { sizeMB: "–", seconds: "–", note: "needs root (debootstrap)" };
  }
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-bench-"));
  try {
    const recipe = validateFrrImage("bench", { workDir });
    const started = Date.now();
    const run = spawnSync("bash", ["-c", renderImageBuildScript(recipe)], {
      encoding: "utf8",
      maxBuffer: 64 * 2 ** 20,
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    if (run.status !== 0) {
      const why = (run.stderr || "").trim().split("\n").pop() ?? "";
      return { sizeMB: "–", seconds, note: `build failed: ${why}` };
    }
    const result = parseImageResult(run.stdout);
    return {
      sizeMB: (result.sizeBytes / 1e6).toFixed(1),
      seconds,
      note: `FRR ${result.frrVersion}, ${recipe.suite}, ${recipe.compression}`,
    };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

function main(): void {
  const hosts = Number(opts.hosts);
  const switches = Number(opts.switches);
  const runs = Number(opts.runs);
  execFileSync("npm", ["run", "--silent", "build"], {
    cwd: path.join(__dirname, ".."),
    stdio: "inherit",
  });
  const comp: Run[] = [];
  const bare: Run[] = [];
  const floors = ["parented", "outputs", "ordered"] as const;
  const floor: Record<(typeof floors)[number], Run[]> = { parented: [], outputs: [], ordered: [] };
  for (let i = 0; i < runs; i++) {
    const c = child(["components", String(hosts), String(switches)]);
    comp.push(c);
    const same = [String(c.commands), String(c.createBytes), String(c.deleteBytes)];
    bare.push(child(["bare", ...same]));
    if (opts.breakdown) {
      for (const mode of floors) {
        floor[mode].push(child([mode, ...same]));
      }
    }
  }
  const ratio = (key: "ms" | "heapPeakMB") =>
    comp.map((c, i) => c[key] / bare[i][key]).map((r) => Number(r.toFixed(2)));
  const rows: [string, string, string][] = [
    [
      `construction, ${hosts} hosts + ${switches} switches (${comp[0].commands} commands)`,
      range(
        comp.map((c) => c.ms),
        "ms",
      ),
      "",
    ],
    [
      `construction, ${bare[0].commands} bare commands`,
      range(
        bare.map((b) => b.ms),
        "ms",
      ),
      "",
    ],
    ["time ratio components/bare", range(ratio("ms"), "×"), "goal ≤ 1.15×"],
    [
      "peak heap, components",
      range(
        comp.map((c) => c.heapPeakMB),
        "MB",
      ),
      "",
    ],
    [
      "peak heap, bare",
      range(
        bare.map((b) => b.heapPeakMB),
        "MB",
      ),
      "",
    ],
    ["heap ratio components/bare", range(ratio("heapPeakMB"), "×"), ""],
    [
      "step inputs per host (the bench's short key)",
      `${(Object.values(comp[0].bytesPerStep).reduce((a, b) => a + b, 0) / 1024).toFixed(1)} KB`,
      "goal ≤ 12 KB",
    ],
  ];
  const perAuth = keyBytes();
  const auth = {
    ed25519: "… with an ed25519 key (ssh-keygen's)",
    "rsa-4096": "… with an RSA 4096 key (ssh-keygen's)",
    agent: "… with an agent (`agentSocketPath`), no key",
  };
  for (const [variant, label] of Object.entries(auth)) {
    rows.push([
      `step inputs per host ${label}`,
      `${(perAuth[variant] / 1024).toFixed(1)} KB`,
      "every remote step carries the connection",
    ]);
  }
  if (opts.breakdown) {
    const what = {
      parented: "under two empty components per host",
      outputs: "… with Output inputs",
      ordered: "… and each after the one before",
    };
    for (const mode of floors) {
      const r = floor[mode].map((f, i) => Number((f.ms / bare[i].ms).toFixed(2)));
      rows.push([
        `time ratio, bare commands ${what[mode]}`,
        range(r, "×"),
        "what any component pays",
      ]);
    }
  }
  if (!opts["no-image"]) {
    const img = image();
    rows.push(["image size (gzip)", `${img.sizeMB} MB`, `goal ≤ 45 MB; ${img.note}`]);
    rows.push(["image build, cold", `${img.seconds} s`, ""]);
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  const width2 = Math.max(...rows.map((r) => r[1].length));
  console.log(`| ${"measure".padEnd(width)} | ${"value".padEnd(width2)} | note |`);
  console.log(`|${"-".repeat(width + 2)}|${"-".repeat(width2 + 2)}|------|`);
  for (const [a, b, c] of rows) {
    console.log(`| ${a.padEnd(width)} | ${b.padEnd(width2)} | ${c} |`);
  }
  console.log(
    `(${runs} runs each, alternating; the package as \`npm run build\` compiles it; node ${process.version}, ${os.cpus().length} cores)`,
  );
  console.log("");
  console.log("| step of h0000 | bytes of inputs |");
  console.log("|---|---|");
  for (const [name, bytes] of Object.entries(comp[0].bytesPerStep)) {
    console.log(`| ${name} | ${bytes} |`);
  }
}

main();
