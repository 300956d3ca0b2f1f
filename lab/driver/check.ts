// The provider's Check, as pulumi-command v1.2.1 runs it (through pulumi-go-provider v1.3.0's
// infer layer), and the engine's report of a failed Check.
//
// remote.Command and local.Command implement no Check of their own: infer runs DefaultCheck,
// which decodes the inputs into the Go input struct (ende.Decode, then the SDK's mapper) and
// reports every mapping failure. CopyToRemote.Check runs DefaultCheck and then its own rules.
// Unknown values (preview) are decoded as the zero value of their Go type (ende.walk with
// alignTypes), so an unknown never fails a DefaultCheck, but an unknown `source` decodes to an
// empty AssetOrArchive and fails CopyToRemote's rule "either asset or archive must be set".
import * as pulumi from "@pulumi/pulumi";
import { isSecretWrapper } from "./values";

/** One Check failure, as plugin.CheckFailure carries it. */
export interface CheckFailure {
  property: string;
  reason: string;
}

type FieldKind = "string" | "number" | "bool" | "array" | "map" | "asset" | "any" | Struct;

interface Field {
  kind: FieldKind;
  required?: boolean;
  /** The Go type the mapper names in a wrong-type failure, when not the kind's default. */
  go?: string;
}

/** A Go input struct: its `%v` type name (package.Type) and its `pulumi:"..."` fields. */
interface Struct {
  goType: string;
  fields: Record<string, Field>;
}

// pulumi-command v1.2.1 provider/pkg/provider/remote/connection.go connectionBase (and ProxyConnection)
const connectionBase: Record<string, Field> = {
  user: { kind: "string" },
  password: { kind: "string" },
  host: { kind: "string", required: true },
  port: { kind: "number" },
  privateKey: { kind: "string" },
  privateKeyPassword: { kind: "string" },
  agentSocketPath: { kind: "string" },
  dialErrorLimit: { kind: "number", go: "int" },
  perDialTimeout: { kind: "number", go: "int" },
  hostKey: { kind: "string" },
};
const proxyConnection: Struct = { goType: "remote.ProxyConnection", fields: connectionBase };
const connection: Struct = {
  goType: "remote.Connection",
  fields: { ...connectionBase, proxy: { kind: proxyConnection } },
};

// pulumi-command v1.2.1 provider/pkg/provider/common/inputs.go ResourceInputs
const resourceInputs: Record<string, Field> = {
  triggers: { kind: "array" },
  create: { kind: "string" },
  update: { kind: "string" },
  delete: { kind: "string" },
};

export const INPUT_STRUCTS: Record<string, Struct> = {
  // pulumi-command v1.2.1 provider/pkg/provider/remote/command.go CommandInputs
  "command:remote:Command": {
    goType: "remote.CommandInputs",
    fields: {
      ...resourceInputs,
      stdin: { kind: "string" },
      logging: { kind: "string" },
      connection: { kind: connection, required: true },
      environment: { kind: "map" },
      addPreviousOutputInEnv: { kind: "bool" },
    },
  },
  // pulumi-command v1.2.1 provider/pkg/provider/local/command.go CommandInputs (+ base.go BaseInputs)
  "command:local:Command": {
    goType: "local.CommandInputs",
    fields: {
      ...resourceInputs,
      stdin: { kind: "string" },
      logging: { kind: "string" },
      interpreter: { kind: "array", go: "[]string" },
      dir: { kind: "string" },
      environment: { kind: "map" },
      assetPaths: { kind: "array", go: "[]string" },
      archivePaths: { kind: "array", go: "[]string" },
      addPreviousOutputInEnv: { kind: "bool" },
    },
  },
  // pulumi-command v1.2.1 provider/pkg/provider/remote/copy.go CopyToRemoteInputs
  "command:remote:CopyToRemote": {
    goType: "remote.CopyToRemoteInputs",
    fields: {
      connection: { kind: connection, required: true },
      triggers: { kind: "array" },
      source: { kind: "asset", required: true },
      remotePath: { kind: "string", required: true },
    },
  },
};

function unwrap(v: unknown): unknown {
  let x = v;
  while (isSecretWrapper(x)) {
    x = x.value;
  }
  return x;
}

/** The Go type the SDK's mapper reports for a decoded JSON-ish value. */
function goTypeOf(v: unknown): string {
  if (typeof v === "string") {
    return "string";
  }
  if (typeof v === "number") {
    return "float64";
  }
  if (typeof v === "boolean") {
    return "bool";
  }
  if (Array.isArray(v)) {
    return "[]interface {}";
  }
  return "map[string]interface {}";
}

function expectedGoType(kind: FieldKind): string {
  switch (kind) {
    case "string":
      return "string";
    case "number":
      return "float64";
    case "bool":
      return "bool";
    case "array":
      return "[]interface {}";
    case "map":
      return "map[string]string";
    default:
      return "interface {}";
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The SDK mapper's Decode of one object into a struct (sdk v3.224.0
 * go/common/util/mapper/mapper_decode.go (*mapper).Decode / DecodeValue): missing required
 * fields, wrong types and unrecognized fields, each a FieldError with its Go wording.
 */
function decodeStruct(obj: Record<string, unknown>, s: Struct): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const [key, field] of Object.entries(s.fields)) {
    const raw = obj[key];
    if (raw === undefined || raw === null) {
      if (field.required) {
        failures.push({
          property: key,
          reason: `Missing required field '${key}' on '${s.goType}'`,
        });
      }
      continue;
    }
    if (pulumi.isUnknown(raw)) {
      // ende.walk: an unknown decodes as the zero value of its type (no mapping failure).
      continue;
    }
    const v = unwrap(raw);
    if (pulumi.isUnknown(v)) {
      continue;
    }
    const kind = field.kind;
    if (typeof kind === "object") {
      if (!isPlainObject(v)) {
        failures.push({
          property: key,
          reason: `Field '${key}' on '${s.goType}' must be a '${kind.goType}'; got '${goTypeOf(v)}' instead`,
        });
        continue;
      }
      const inner = decodeStruct(v, kind);
      if (inner.length > 0) {
        // mapper.NewTypeFieldError wraps the nested MappingError (ty.Name() is unqualified).
        const list = inner.map((f) => `\n\t${f.property}: ${f.reason}`).join("");
        failures.push({
          property: key,
          reason: `An error occurred decoding '${s.goType.split(".")[1]}.${key}': ${inner.length} failures decoding:${list}`,
        });
      }
      continue;
    }
    const ok =
      kind === "any" ||
      kind === "asset" ||
      (kind === "string" && typeof v === "string") ||
      (kind === "number" && typeof v === "number") ||
      (kind === "bool" && typeof v === "boolean") ||
      (kind === "array" && Array.isArray(v)) ||
      (kind === "map" && isPlainObject(v));
    if (!ok) {
      failures.push({
        property: key,
        reason: `Field '${key}' on '${s.goType}' must be a '${field.go ?? expectedGoType(kind)}'; got '${goTypeOf(v)}' instead`,
      });
    }
  }
  for (const key of Object.keys(obj)) {
    if (!(key in s.fields) && obj[key] !== undefined) {
      failures.push({ property: key, reason: `Unrecognized field '${key}' on '${s.goType}'` });
    }
  }
  return failures;
}

/**
 * CopyToRemote's own rules (pulumi-command v1.2.1 provider/pkg/provider/remote/copyController.go
 * (*CopyToRemote).Check), run only when DefaultCheck found nothing.
 */
function copyToRemoteRules(raw: Record<string, unknown>): CheckFailure[] {
  const src = unwrap(raw["source"]);
  // An unknown source decodes to AssetOrArchive{} (neither set).
  const isAsset = !pulumi.isUnknown(src) && pulumi.asset.Asset.isInstance(src);
  const isArchive = !pulumi.isUnknown(src) && pulumi.asset.Archive.isInstance(src);
  const failures: CheckFailure[] = [];
  if (!isAsset && !isArchive) {
    failures.push({ property: "asset", reason: "either asset or archive must be set" });
  }
  const has = (o: unknown, k: string): boolean =>
    typeof (o as Record<string, unknown>)[k] !== "undefined";
  if (isAsset && !has(src, "path") && !has(src, "text")) {
    failures.push({
      property: "asset",
      reason: "asset must be a path-based file asset or a text asset",
    });
  }
  if (isArchive && !has(src, "path")) {
    failures.push({ property: "archive", reason: "archive must be a path to a file or directory" });
  }
  return failures;
}

/**
 * Runs the provider's Check for one resource's inputs (as deserialized from the SDK's request,
 * unknowns included). Returns its failures; [] when Check passes. Unknown types have no Check here.
 */
export function checkInputs(type: string, raw: Record<string, unknown>): CheckFailure[] {
  const s = INPUT_STRUCTS[type];
  if (!s) {
    return [];
  }
  // pulumi-go-provider v1.3.0 infer/resource.go DefaultCheck → decodeCheckingMapErrors
  const failures = decodeStruct(raw, s);
  if (failures.length > 0 || type !== "command:remote:CopyToRemote") {
    return failures;
  }
  return copyToRemoteRules(raw);
}

/** Go's `%v` of a resource.PropertyValue ("{<nil>}" for a missing key), roughly. */
function propertyValueString(v: unknown): string {
  const x = unwrap(v);
  if (x === undefined || x === null) {
    return "{<nil>}";
  }
  if (pulumi.isUnknown(x)) {
    return "output<string>{}";
  }
  if (typeof x === "string" || typeof x === "number" || typeof x === "boolean") {
    return `{${String(x)}}`;
  }
  return `{${JSON.stringify(x)}}`;
}

/**
 * The engine's report of failed Check: one diagnostic per failure
 * (pulumi v3.248.0 pkg/resource/deploy/step_generator.go issueCheckFailures, with
 * sdk/go/common/diag/errors.go GetResourcePropertyInvalidValueError / GetResourceInvalidError),
 * then generateSteps bails with "resource <urn> is invalid".
 */
export function checkFailureMessages(
  type: string,
  name: string,
  raw: Record<string, unknown>,
  failures: CheckFailure[],
): string[] {
  return failures.map((f) =>
    f.property !== ""
      ? `${type} resource '${name}': property ${f.property} value ${propertyValueString(raw[f.property])} has a problem: ${f.reason}`
      : `${type} resource '${name}' has a problem: ${f.reason}`,
  );
}
