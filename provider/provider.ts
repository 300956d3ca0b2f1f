/**
 * The package as a Pulumi provider, so that every language can use the components
 * (`pulumi package add`): the schema (schema.json, generated from the TypeScript Args by
 * scripts/generate-schema.ts) and `construct`, which builds the requested component from
 * the inputs the engine sends.
 *
 * Why not `componentProviderHost` (@pulumi/pulumi/provider/experimental)? Its analyzer
 * accepts resource references only to packages under node_modules/@pulumi, and our Args
 * take two: `NspawnMachineArgs.image.frrImage` (an FrrImage) and `BgpLoopbackArgs.machine`
 * (an NspawnMachine).
 *
 * How inputs arrive (@pulumi/pulumi 3.248.0, provider/server.js `Server.construct` →
 * `deserializeInputs` → runtime/rpc.js `deserializeProperty`): a value with no
 * dependencies arrives as itself; a secret, or a value with dependencies, as an Output
 * (secretness is pushed up to the top-level input); a resource reference as the resource
 * that the resource module registered for its package and module constructs from
 * `(name, type, urn)` — {@link registerReferences} below — else as its bare URN.
 */
import * as pulumi from "@pulumi/pulumi";
import { BgpLoopback, FrrImage, NspawnMachine, TorCumulus } from "../index";
import { InputError, Problem } from "../components/validate/problems";
import schema from "../schema.json";

/** A component class, as the provider sees it. */
type ComponentClass = new (
  name: string,
  // The inputs, shaped into the component's Args by shapeInputs below.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  args: any,
  opts?: pulumi.ComponentResourceOptions,
) => pulumi.ComponentResource;

/** A property of schema.json (the subset this file reads). */
interface SchemaProperty {
  $ref?: string;
  plain?: boolean;
  secret?: boolean;
  type?: string;
  items?: SchemaProperty;
}
interface SchemaObjectType {
  properties?: Record<string, SchemaProperty>;
}
interface SchemaResource {
  inputProperties: Record<string, SchemaProperty>;
  properties: Record<string, SchemaProperty>;
}

const resources = schema.resources as unknown as Record<string, SchemaResource>;
const types = schema.types as unknown as Record<string, SchemaObjectType>;

/** The package's version, as schema.json states it. */
export const VERSION: string = schema.version;

/**
 * Each component by its type token. `plainOutputs` are public fields that are plain
 * values in TypeScript (not Outputs), which a rehydrated reference must have as such.
 */
const COMPONENTS: Record<string, { cls: ComponentClass; plainOutputs: string[] }> = {
  "frr-nspawn:index:FrrImage": { cls: FrrImage, plainOutputs: ["builtLocally"] },
  "frr-nspawn:index:NspawnMachine": { cls: NspawnMachine, plainOutputs: [] },
  "frr-nspawn:index:BgpLoopback": { cls: BgpLoopback, plainOutputs: [] },
  "frr-nspawn:index:TorCumulus": { cls: TorCumulus, plainOutputs: [] },
};

/** A resource rehydrated from a reference, waiting for its plain fields. */
const pendingPlain = new WeakMap<pulumi.Resource, string[]>();

/**
 * A reference to one of our components, made into an instance of its class without
 * running its constructor again: a ComponentResource read from the engine by URN (its
 * registered outputs become its Output fields), given the class's prototype so that
 * `instanceof` holds. Its plain fields are filled in by {@link resolvePlainFields}.
 */
function rehydrate(name: string, type: string, urn: string): pulumi.Resource {
  const entry = COMPONENTS[type];
  const outputs = resources[type]?.properties;
  if (entry === undefined || outputs === undefined) {
    throw new Error(`frr-nspawn has no resource type ${type} (reference to ${urn})`);
  }
  const props = Object.fromEntries(Object.keys(outputs).map((k) => [k, undefined]));
  // remote: the component was built by another construct call, so its steps are not
  // known here; what depends on it then depends on its URN (the SDK drops a local
  // component from dependencies and names its local children instead, of which a
  // reference has none).
  const resource = new pulumi.ComponentResource(type, name, props, { urn }, true);
  Object.setPrototypeOf(resource, entry.cls.prototype);
  Object.defineProperty(resource, "name", { value: name, enumerable: true });
  pendingPlain.set(resource, entry.plainOutputs);
  return resource;
}

/**
 * Makes the SDK deserialize references to frr-nspawn resources into instances of our
 * classes (runtime/rpc.js `deserializeProperty`, case `specialResourceSig`, calls
 * `construct(name, type, urn)` of the module registered for the URN's package and module).
 */
export function registerReferences(): void {
  pulumi.runtime.registerResourceModule("frr-nspawn", "index", {
    version: VERSION,
    construct: rehydrate,
  });
}

/** The key and signature of a secret on the wire (runtime/rpc.js). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/**
 * A value without the secret marks nested in it, and whether it had any. The SDK's
 * deserializer unwraps only the outermost mark into an Output's secretness: a secret
 * object holding another secret (Python's `Output.secret(ConnectionArgs(private_key=
 * secret))`) keeps the inner mark inside the Output's value.
 */
function unmarked(value: unknown): { value: unknown; marked: boolean } {
  if (Array.isArray(value)) {
    const items = value.map(unmarked);
    return { value: items.map((i) => i.value), marked: items.some((i) => i.marked) };
  }
  if (
    value === null ||
    typeof value !== "object" ||
    pulumi.Resource.isInstance(value) ||
    pulumi.Output.isInstance(value) ||
    pulumi.asset.Asset.isInstance(value) ||
    pulumi.asset.Archive.isInstance(value)
  ) {
    return { value, marked: false };
  }
  const record = value as Record<string, unknown>;
  if (record[SIG_KEY] === SECRET_SIG) {
    return { value: unmarked(record.value).value, marked: true };
  }
  const fields = Object.entries(record).map(([k, v]) => [k, unmarked(v)] as const);
  return {
    value: Object.fromEntries(fields.map(([k, f]) => [k, f.value])),
    marked: fields.some(([, f]) => f.marked),
  };
}

/** An Output's value without nested secret marks; the Output stays secret if it had any. */
function unmarkedOutput(output: pulumi.Output<unknown>): pulumi.Output<unknown> {
  const inner = output.apply((v) => unmarked(v));
  return pulumi.all([inner, output]).apply(([u]) => u.value) as pulumi.Output<unknown>;
}

/** What an Output holds, read without `apply` (which never runs for unknowns). */
async function inspect(
  output: pulumi.Output<unknown>,
): Promise<{ value: unknown; known: boolean; secret: boolean }> {
  // These are the Output's own promises (output.ts); `apply` would hide unknowns.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const o = output as any;
  const [raw, known, secret] = await Promise.all([o.promise(true), o.isKnown, o.isSecret]);
  const { value, marked } = unmarked(raw);
  return { value, known, secret: secret || marked };
}

/** Gives rehydrated references their plain fields (e.g. FrrImage.builtLocally). */
async function resolvePlainFields(value: unknown, seen = new Set<unknown>()): Promise<void> {
  if (value === null || typeof value !== "object" || seen.has(value)) {
    return;
  }
  seen.add(value);
  if (pulumi.Resource.isInstance(value)) {
    for (const field of pendingPlain.get(value) ?? []) {
      const output = (value as unknown as Record<string, pulumi.Output<unknown>>)[field];
      const { value: plain } = await inspect(output);
      Object.defineProperty(value, field, { value: plain, enumerable: true });
    }
    pendingPlain.delete(value);
    return;
  }
  if (pulumi.Output.isInstance(value)) {
    const { value: inner, known } = await inspect(value);
    if (known) {
      await resolvePlainFields(inner, seen);
    }
    return;
  }
  for (const v of Object.values(value)) {
    await resolvePlainFields(v, seen);
  }
}

function objectTypeOf(prop: SchemaProperty): SchemaObjectType | undefined {
  return prop.$ref?.startsWith("#/types/") ? types[prop.$ref.slice("#/types/".length)] : undefined;
}

/**
 * One plain input: known now (it decides which steps exist). An Output (a secret, or a
 * value with dependencies) is awaited; a plain object's own non-plain fields stay Outputs
 * of it, keeping its secretness and dependencies.
 */
async function plainValue(
  path: string,
  value: unknown,
  prop: SchemaProperty,
  problems: Problem[],
): Promise<unknown> {
  const objectType = objectTypeOf(prop);
  if (pulumi.Output.isInstance(value)) {
    const { value: inner, known, secret } = await inspect(value);
    if (!known) {
      problems.push({
        path,
        message: "must be known when the program runs, not computed (it decides which steps exist)",
      });
      return undefined;
    }
    if (objectType?.properties === undefined || inner === null || typeof inner !== "object") {
      if (secret) {
        problems.push({ path, message: "must not be a secret (it decides which steps exist)" });
      }
      return inner;
    }
    // Its plain fields (e.g. image.frrImage) as values, the others as Outputs of it.
    const fields = (await revealed(value, objectType, true)) as Record<string, unknown>;
    for (const [k, v] of Object.entries(inner)) {
      const sub = objectType.properties[k];
      if (sub?.plain === true) {
        fields[k] = await plainValue(`${path}.${k}`, v, sub, problems);
      }
    }
    return fields;
  }
  if (objectType?.properties !== undefined && value !== null && typeof value === "object") {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const sub = objectType.properties[k];
      fields[k] = sub?.plain === true ? await plainValue(`${path}.${k}`, v, sub, problems) : v;
    }
    return fields;
  }
  return value;
}

/**
 * An object input that arrived as one secret Output, as its fields: those the schema
 * marks secret (a connection's keys and passwords) stay secret, the others do not.
 *
 * The engine sends what a program marked: from Python, `ConnectionArgs(host=...,
 * private_key=secret)` arrives with only `privateKey` marked. The Node SDK's deserializer
 * (runtime/rpc.js `deserializeProperty`) moves a nested mark up to the whole object, so
 * here the host would be a secret too, and every step's messages would say `<secret>`
 * where TypeScript callers see the host. The price: a field the program itself marked
 * secret other than those is not kept secret.
 */
async function revealed(
  output: pulumi.Output<unknown>,
  type: SchemaObjectType,
  asFields = false,
): Promise<unknown> {
  const { value, known, secret } = await inspect(output);
  if (!known || value === null || typeof value !== "object" || Array.isArray(value)) {
    return output;
  }
  if (!secret && !asFields) {
    return output;
  }
  const whole = unmarkedOutput(output);
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const sub = type.properties?.[k];
    const field = whole.apply((o) => (o as Record<string, unknown>)[k]);
    const subType = sub === undefined ? undefined : objectTypeOf(sub);
    if (sub?.secret === true) {
      fields[k] = pulumi.secret(field);
    } else if (subType !== undefined && v !== null && typeof v === "object") {
      fields[k] = await revealed(pulumi.secret(field), subType);
    } else if (sub !== undefined && secret) {
      fields[k] = pulumi.unsecret(field);
    } else {
      fields[k] = field;
    }
  }
  return fields;
}

/** The engine's inputs shaped into a component's Args, as its schema declares them. */
export async function shapeInputs(
  subject: string,
  type: string,
  inputs: pulumi.Inputs,
): Promise<Record<string, unknown>> {
  await resolvePlainFields(inputs);
  const declared = resources[type].inputProperties;
  const problems: Problem[] = [];
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) {
    const prop = declared[key];
    if (prop === undefined) {
      problems.push({ path: key, message: `is not an input of ${type}` });
      continue;
    }
    if (value === undefined || value === null) {
      continue;
    }
    const objectType = objectTypeOf(prop);
    args[key] =
      prop.plain === true
        ? await plainValue(key, value, prop, problems)
        : !pulumi.Output.isInstance(value)
          ? value
          : objectType !== undefined
            ? await revealed(value, objectType)
            : unmarkedOutput(value);
  }
  if (problems.length > 0) {
    throw new InputError(subject, problems);
  }
  return args;
}

/** The provider: schema and construct for the four components. */
export class FrrNspawnProvider implements pulumi.provider.Provider {
  readonly version = VERSION;

  constructor() {
    registerReferences();
  }

  async getSchema(): Promise<string> {
    return JSON.stringify(schema);
  }

  async construct(
    name: string,
    type: string,
    inputs: pulumi.Inputs,
    options: pulumi.ComponentResourceOptions,
  ): Promise<pulumi.provider.ConstructResult> {
    const entry = COMPONENTS[type];
    if (entry === undefined) {
      throw new Error(`unknown resource type ${type}`);
    }
    const subject = `${type.split(":")[2]} "${name}"`;
    const args = await shapeInputs(subject, type, inputs);
    const component = new entry.cls(name, args, options);
    const fields = component as unknown as Record<string, unknown>;
    return {
      urn: component.urn,
      state: Object.fromEntries(Object.keys(resources[type].properties).map((k) => [k, fields[k]])),
    };
  }
}
