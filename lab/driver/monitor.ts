// Runs a Pulumi program under the Node SDK's mock monitor, with registrations handed to the
// engine instead of the mocks, and waits until the program is done (or can no longer progress).
import * as pulumi from "@pulumi/pulumi";
import { serializeProperties } from "@pulumi/pulumi/runtime/rpc";
import * as settings from "@pulumi/pulumi/runtime/settings";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { configEnv, type ConfigEntry } from "./engine-config";

/** The subset of the SDK's MockMonitor the engine replaces or uses. */
interface MockMonitorLike {
  resources: Map<string, { urn: string; id: string | null; state: unknown }>;
  registerResource: (
    req: resproto.RegisterResourceRequest,
    cb: (err: Error | null, res?: resproto.RegisterResourceResponse) => void,
  ) => void;
  readResource: unknown;
}

export interface Registered {
  urn: string;
  id: string;
  state: Record<string, unknown>;
}

export interface ProgramRun {
  project: string;
  stack: string;
  preview: boolean;
  config: Record<string, ConfigEntry>;
  programFile: string;
  register: (req: resproto.RegisterResourceRequest) => Promise<Registered>;
  fail: (e: Error) => void;
  failed: () => boolean;
}

export async function runProgram(run: ProgramRun): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource: () => {
        throw new Error("unexpected newResource call (registration is handled by the lab driver)");
      },
      call: (args) => {
        throw new Error(`the lab driver does not support invokes (${args.token})`);
      },
    },
    run.project,
    run.stack,
    run.preview,
  );
  const env = configEnv(run.config, run.project);
  pulumi.runtime.setAllConfig(
    JSON.parse(env.PULUMI_CONFIG) as Record<string, string>,
    JSON.parse(env.PULUMI_CONFIG_SECRET_KEYS) as string[],
  );

  const inflight = new Set<Promise<unknown>>();
  let registrations = 0;
  const mon = settings.getMonitor() as unknown as MockMonitorLike;
  mon.registerResource = (req, cb) => {
    registrations++;
    const p = run.register(req).then(
      async (res) => {
        const serialized = await serializeProperties("", res.state);
        mon.resources.set(res.urn, { urn: res.urn, id: res.id || null, state: serialized });
        const response = new resproto.RegisterResourceResponse();
        response.setUrn(res.urn);
        response.setId(res.id);
        response.setObject(
          structproto.Struct.fromJavaScript(
            serialized as Record<string, structproto.JavaScriptValue>,
          ),
        );
        cb(null, response);
      },
      (err: Error) => cb(err),
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  mon.readResource = (_req: unknown, cb: (err: Error) => void) => {
    cb(new Error("the lab driver does not support reading existing resources (.get / opts.id)"));
  };

  // Registrations rejected after a failure surface as unhandled rejections in the SDK;
  // they are recorded, never fatal. (One operation per process, so this stays installed.)
  process.on("unhandledRejection", (reason: unknown) => {
    run.fail(reason instanceof Error ? reason : new Error(String(reason)));
  });
  // The program is done when it has returned and is quiet, or when it can no longer
  // progress. After a failed registration the SDK leaves the failed resource's dependents
  // (and the stack's outputs) pending forever: the language host relies on the engine
  // ending the program there. Here nothing would settle `runInPulumiStack` or
  // `waitForRPCs`, Node would find its event loop empty and exit in the middle of the
  // run (no summary). `beforeExit` is exactly that moment: nothing can resolve any more.
  let onStall = (): void => {};
  const stalled = new Promise<"stalled">((resolve) => {
    onStall = () => resolve("stalled");
  });
  process.on("beforeExit", onStall);

  const programAndRPCs = async (): Promise<void> => {
    try {
      await pulumi.runtime.runInPulumiStack(async () => {
        const mod = (await import(run.programFile)) as Record<string, unknown>;
        const main = mod["default"];
        if (typeof main === "function") {
          return (await (main as () => unknown)()) as Record<string, unknown>;
        }
        return mod;
      });
    } catch (e) {
      run.fail(e as Error);
    }
    // Wait until the program is quiet: no registration in flight and none arriving
    // (a resource registers only after what it depends on has resolved).
    const waitForRPCs = (settings as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs;
    for (;;) {
      const seen = registrations;
      try {
        await waitForRPCs();
      } catch (e) {
        run.fail(e as Error);
      }
      while (inflight.size > 0) {
        await Promise.allSettled([...inflight]);
      }
      await new Promise((r) => setTimeout(r, 50));
      if (inflight.size === 0 && registrations === seen) {
        break;
      }
    }
  };
  try {
    const outcome = await Promise.race([programAndRPCs().then(() => "done" as const), stalled]);
    if (outcome === "stalled" && !run.failed()) {
      run.fail(
        new Error(
          "the program did not finish: it waits for values that can never resolve " +
            "(a dependency cycle, or a promise the program never settles)",
        ),
      );
    }
  } finally {
    process.off("beforeExit", onStall);
  }
}
