/**
 * Drives the provider's construct() in-process the way the engine does: inputs as the
 * engine sends them from another language's program (JSON with the SDK's signatures),
 * turned into a protobuf Struct and deserialized by the SDK's own provider server code
 * (@pulumi/pulumi/provider/server.js `deserializeInputs`, as `Server.construct` does).
 */
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { serializeResourceProperties } from "@pulumi/pulumi/runtime/rpc";
// The SDK's own protobuf runtime (a dependency of @pulumi/pulumi).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const structproto = require("google-protobuf/google/protobuf/struct_pb");
/** The provider server's own deserializer (exported, but internal to its typings). */
const { deserializeInputs } =
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@pulumi/pulumi/provider/server") as {
    deserializeInputs: (
      inputs: unknown,
      dependencies: Map<string, { getUrnsList(): string[] }>,
    ) => Promise<pulumi.Inputs>;
  };

import { FrrNspawnProvider } from "../../provider/provider";

/** The key every special value carries, and the signatures (runtime/rpc.js). */
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

/** A secret as a program marks it (e.g. Python's `pulumi.Output.secret`, config secrets). */
export function secret(value: unknown): Record<string, unknown> {
  return { [SIG]: SECRET_SIG, value };
}

/** A reference to a component resource (a component has a URN and no id). */
export function ref(urn: string): Record<string, unknown> {
  return { [SIG]: RESOURCE_SIG, urn, packageVersion: "" };
}

/** The URN the mock monitor gives a top-level resource of this test's stack. */
export function urnOf(type: string, name: string): string {
  return `urn:pulumi:stack::project::${type}::${name}`;
}

/**
 * The SDK's mock monitor stores a component's registered outputs as a protobuf Struct,
 * which its getResource (how a reference is read) then cannot serialize: keep them as
 * JSON instead, as the engine's state does.
 */
export function keepOutputsReadable(): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const monitor = settings.getMonitor() as any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  monitor.registerResourceOutputs = (req: any, callback: (err: unknown, res: unknown) => void) => {
    const registered = monitor.resources.get(req.getUrn());
    if (registered === undefined) {
      callback(new Error(`unknown resource ${req.getUrn()}`), undefined);
      return;
    }
    registered.state = req.getOutputs()?.toJavaScript() ?? {};
    callback(null, {});
  };
}

const provider = new FrrNspawnProvider();

/**
 * Constructs a component through the provider from wire inputs. `dependencies` are the
 * input dependencies the engine sends: the URNs a property's value came from (a
 * resource reference's own URN among them).
 */
export async function construct(
  type: string,
  name: string,
  wire: Record<string, unknown>,
  dependencies: Record<string, string[]> = {},
  dependsOn: string[] = [],
): Promise<{ urn: pulumi.Input<string>; state: Record<string, unknown> }> {
  const deps = new Map(
    Object.entries(dependencies).map(([k, urns]) => [k, { getUrnsList: () => urns }]),
  );
  const inputs = await deserializeInputs(structproto.Struct.fromJavaScript(wire), deps);
  // As Server.construct rebuilds the options: each `dependsOn` URN a DependencyResource.
  const result = await provider.construct(name, type, inputs, {
    dependsOn: dependsOn.map((urn) => new pulumi.DependencyResource(urn)),
  });
  // As Server.construct does before it answers: the URN, then the state serialized (which
  // waits for every output). Only then does the program have the URN to refer to.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await (pulumi.output(result.urn) as any).promise();
  const [state] = await serializeResourceProperties(`construct(${type}, ${name})`, result.state);
  return { urn: result.urn, state };
}
