// CLI: npx tsx lab/driver/cli.ts <up|preview|destroy> --program <dir|index.ts> --state <state.json>
//        [--config <config.json>] [--project NAME] [--stack NAME] [--verbose]
// One operation per process: setMocks is process-global, and the program must be
// imported after it (and after the config environment is set).
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs as parseArgsOf } from "node:util";
import type { ConfigEntry } from "./engine-config";
import type { Operation, Summary } from "./types";

const USAGE =
  "usage: cli.ts <up|preview|destroy> --program <dir|file> --state <state.json> " +
  "[--config <config.json>] [--project NAME] [--stack NAME] [--verbose]";

interface Args {
  operation: Operation;
  program?: string;
  state: string;
  config?: string;
  project?: string;
  stack: string;
  verbose: boolean;
}

function parseArgs(argv: string[]): Args {
  const [op, ...rest] = argv;
  if (op !== "up" && op !== "preview" && op !== "destroy") {
    throw new Error(USAGE);
  }
  let values;
  try {
    ({ values } = parseArgsOf({
      args: rest,
      options: {
        program: { type: "string" },
        state: { type: "string" },
        config: { type: "string" },
        project: { type: "string" },
        stack: { type: "string", default: "dev" },
        verbose: { type: "boolean", short: "v", default: false },
      },
    }));
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${USAGE}`);
  }
  if (!values.state) {
    throw new Error(`--state is required\n${USAGE}`);
  }
  if (op !== "destroy" && !values.program) {
    throw new Error(`--program is required for ${op}\n${USAGE}`);
  }
  return {
    operation: op,
    program: values.program,
    state: values.state,
    config: values.config,
    project: values.project,
    stack: values.stack ?? "dev",
    verbose: values.verbose ?? false,
  };
}

function resolveProgram(p: string): string {
  const abs = path.resolve(p);
  if (fs.statSync(abs).isDirectory()) {
    for (const f of ["index.ts", "index.js"]) {
      if (fs.existsSync(path.join(abs, f))) {
        return path.join(abs, f);
      }
    }
    throw new Error(`${abs} has no index.ts`);
  }
  return abs;
}

/** Project name: --project, else `name:` in Pulumi.yaml next to the program, else "lab". */
function projectName(args: Args, programFile: string | undefined): string {
  if (args.project) {
    return args.project;
  }
  if (programFile) {
    const y = path.join(path.dirname(programFile), "Pulumi.yaml");
    if (fs.existsSync(y)) {
      const m = /^name:\s*["']?([^"'\s#]+)/m.exec(fs.readFileSync(y, "utf8"));
      if (m) {
        return m[1];
      }
    }
  }
  return "lab";
}

function loadConfig(file: string | undefined): Record<string, ConfigEntry> {
  if (!file) {
    return {};
  }
  const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  const out: Record<string, ConfigEntry> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === "string") {
      out[k] = { value: v, secret: false };
    } else if (v && typeof v === "object" && "value" in v) {
      const e = v as { value: unknown; secret?: unknown };
      out[k] = {
        value: typeof e.value === "string" ? e.value : JSON.stringify(e.value),
        secret: e.secret === true,
      };
    } else {
      throw new Error(`config ${k}: expected {"value": ..., "secret": bool}`);
    }
  }
  return out;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const programFile = args.program ? resolveProgram(args.program) : undefined;
  const project = projectName(args, programFile);
  const config = loadConfig(args.config);
  const statePath = path.resolve(args.state);

  // Provider plugins get the CLI's environment, as it is before the language host adds the
  // stack config (see RunOptions.providerEnv in engine.ts).
  const providerEnv: NodeJS.ProcessEnv = { ...process.env };
  // Before @pulumi/pulumi loads: the language host passes config through the environment.
  const { configEnv } = await import("./engine-config");
  Object.assign(process.env, configEnv(config, project));
  if (programFile) {
    // The engine runs programs from the project directory.
    process.chdir(path.dirname(programFile));
  }
  const { runOperation, SUMMARY_PREFIX } = await import("./engine");
  const summary: Summary = await runOperation({
    operation: args.operation,
    programFile: programFile ?? "",
    statePath,
    project,
    stack: args.stack,
    config,
    verbose: args.verbose,
    providerEnv,
  });
  if (summary.error) {
    process.stderr.write(`error: ${summary.error}\n`);
  }
  process.stdout.write(`${SUMMARY_PREFIX}${JSON.stringify(summary)}\n`);
  return summary.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Anything the program left pending must not keep the process alive.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (e: unknown) => {
    process.stderr.write(
      `lab driver crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(1);
  },
);
