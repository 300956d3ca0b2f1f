// Reading the SDK's RegisterResourceRequest: options, aliases; and small helpers of the engine.
import type * as resproto from "@pulumi/pulumi/proto/resource_pb";
import { parseDurationSeconds, type AliasSpec } from "./engine-options";
import type { Json, ResourceOptions } from "./types";

/** Variables only the language host sets; a provider plugin never has them. */
export function withoutLanguageHostEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (
      k === "PULUMI_CONFIG" ||
      k === "PULUMI_CONFIG_SECRET_KEYS" ||
      k.startsWith("PULUMI_NODEJS_")
    ) {
      continue;
    }
    out[k] = v;
  }
  return out;
}

/**
 * The options of one registration, as the engine reads them
 * (pulumi v3.248.0 pkg/resource/deploy/source_eval.go (*resmon).RegisterResource):
 * customTimeouts are Go durations turned into seconds (generateTimeoutInSeconds).
 */
export function readOptions(req: resproto.RegisterResourceRequest): ResourceOptions {
  const propertyDependencies: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((v, k) => {
    propertyDependencies[k] = v.getUrnsList();
  });
  const dependencies = req.getDependenciesList();
  const fromProps = new Set(Object.values(propertyDependencies).flat());
  const t = req.getCustomtimeouts();
  const secs = (s: string | undefined): number => (s ? parseDurationSeconds(s) : 0);
  return {
    dependencies,
    dependsOn: dependencies.filter((d) => !fromProps.has(d)),
    propertyDependencies,
    deleteBeforeReplace: req.getDeletebeforereplace(),
    replaceOnChanges: req.getReplaceonchangesList(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    protect: req.hasProtect() ? req.getProtect() : false,
    retainOnDelete: req.hasRetainondelete() ? req.getRetainondelete() : false,
    deletedWith: req.getDeletedwith() || undefined,
    ignoreChanges: req.getIgnorechangesList(),
    customTimeouts: t
      ? { create: secs(t.getCreate()), update: secs(t.getUpdate()), delete: secs(t.getDelete()) }
      : { create: 0, update: 0, delete: 0 },
  };
}

/** The aliases the SDK sent: specs (the monitor supports aliasSpecs) or plain URNs. */
export function readAliases(req: resproto.RegisterResourceRequest): AliasSpec[] {
  const out: AliasSpec[] = [];
  for (const a of req.getAliasesList()) {
    const spec = a.getSpec();
    if (a.hasUrn() || !spec) {
      out.push({ urn: a.getUrn() });
    } else {
      out.push({
        name: spec.getName(),
        type: spec.getType(),
        stack: spec.getStack(),
        project: spec.getProject(),
        parentUrn: spec.getParenturn(),
        noParent: spec.getNoparent(),
      });
    }
  }
  for (const u of req.getAliasurnsList()) {
    out.push({ urn: u });
  }
  return out;
}

/** How a command input reads in a preview: secret → "[secret]", unknown → "[unknown]". */
export function scriptText(v: Json | undefined, secret: boolean): string | undefined {
  if (v === undefined || v === null) {
    return undefined;
  }
  if (secret) {
    return "[secret]";
  }
  if (typeof v === "object" && !Array.isArray(v) && v["$unknown"] === true) {
    return "[unknown]";
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}
