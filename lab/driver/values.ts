// Conversion between the values the SDK hands to the mock monitor (secret
// wrappers, SDK asset objects, unknowns) and the plain JSON kept in state.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Json, JsonObject } from "./types";

export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface SecretWrapper {
  [SIG_KEY]: typeof SECRET_SIG;
  value: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isSecretWrapper(v: unknown): v is SecretWrapper {
  return isRecord(v) && v[SIG_KEY] === SECRET_SIG;
}

export function wrapSecret(value: unknown): SecretWrapper {
  return { [SIG_KEY]: SECRET_SIG, value };
}

/** Result of flattening one resource's raw inputs. */
export interface Flattened {
  inputs: JsonObject;
  secretInputs: string[];
  /** Top-level keys whose value is (or contains) an unknown (preview only). */
  unknownInputs: string[];
}

interface Ctx {
  secret: boolean;
  unknown: boolean;
  /** The top-level property being flattened (for the engine's asset-hash error). */
  key: string;
}

export function sha256(data: string | Buffer): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

/** Hash of a file or (recursively) a directory's relative paths and contents. */
export function hashPath(p: string): string {
  const st = fs.statSync(p);
  if (!st.isDirectory()) {
    return sha256(fs.readFileSync(p));
  }
  const h = crypto.createHash("sha256");
  const walk = (dir: string, rel: string): void => {
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        h.update(`d:${r}\0`);
        walk(full, r);
      } else {
        h.update(`f:${r}\0`);
        h.update(fs.readFileSync(full));
        h.update("\0");
      }
    }
  };
  walk(p, "");
  return h.digest("hex");
}

/** Go's wording of a Node fs error ("open /p: no such file or directory"). */
function goFsError(op: string, p: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const reason =
    code === "ENOENT"
      ? "no such file or directory"
      : code === "EACCES"
        ? "permission denied"
        : (e as Error).message;
  return `${op} ${p}: ${reason}`;
}

/**
 * The engine hashes assets when the resource registers, before any step runs
 * (pulumi v3.248.0 pkg/resource/deploy/source_eval.go RegisterResource: UnmarshalProperties
 * with ComputeAssetHashes; sdk/go/common/resource/plugin/rpc.go; asset/asset.go readPath).
 * A FileAsset whose file does not exist yet fails the registration.
 */
function assetHash(p: string, key: string): string {
  const fail = (detail: string): never => {
    throw new Error(
      `unmarshal properties: failed to compute asset hash for ${JSON.stringify(key)}: ${detail}`,
    );
  };
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    return fail(`failed to open asset file '${p}': ${goFsError("open", p, e)}`);
  }
  if (st.isDirectory()) {
    return fail(`asset path '${p}' is a directory; try using an archive`);
  }
  return hashPath(p);
}

/** As assetHash, for a path archive (sdk/go/common/resource/archive/archive.go readPath). */
function archiveHash(p: string, key: string): string {
  try {
    fs.statSync(p);
  } catch (e) {
    throw new Error(
      `unmarshal properties: failed to compute archive hash for ${JSON.stringify(key)}: ` +
        `couldn't read archive path '${p}': ${goFsError("stat", p, e)}`,
    );
  }
  return hashPath(p);
}

async function prop(obj: object, key: string): Promise<unknown> {
  return await (obj as Record<string, unknown>)[key];
}

async function flattenValue(v: unknown, ctx: Ctx): Promise<Json> {
  if (pulumi.isUnknown(v)) {
    ctx.unknown = true;
    return { $unknown: true };
  }
  if (v === undefined || v === null) {
    return null;
  }
  if (typeof v === "string") {
    return v;
  }
  if (typeof v === "number" || typeof v === "boolean") {
    return v;
  }
  if (isSecretWrapper(v)) {
    ctx.secret = true;
    return flattenValue(v.value, ctx);
  }
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (const e of v) {
      out.push(await flattenValue(e, ctx));
    }
    return out;
  }
  if (pulumi.asset.Asset.isInstance(v)) {
    const p = await prop(v, "path");
    const text = await prop(v, "text");
    const uri = await prop(v, "uri");
    if (typeof p === "string") {
      return { $asset: { path: p, hash: assetHash(p, ctx.key) } };
    }
    if (typeof text === "string") {
      return { $asset: { text, hash: sha256(text) } };
    }
    return { $asset: { uri: String(uri), hash: "" } };
  }
  if (pulumi.asset.Archive.isInstance(v)) {
    const p = await prop(v, "path");
    const uri = await prop(v, "uri");
    const assets = await prop(v, "assets");
    if (typeof p === "string") {
      return { $archive: { path: p, hash: archiveHash(p, ctx.key) } };
    }
    if (isRecord(assets)) {
      const inner: JsonObject = {};
      for (const k of Object.keys(assets).sort()) {
        inner[k] = await flattenValue(assets[k], ctx);
      }
      return { $archive: { assets: inner, hash: sha256(JSON.stringify(inner)) } };
    }
    return { $archive: { uri: String(uri), hash: "" } };
  }
  if (pulumi.Resource.isInstance(v)) {
    return { $resource: String((v as object).constructor.name) };
  }
  if (isRecord(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v).sort()) {
      if (v[k] === undefined) {
        continue;
      }
      out[k] = await flattenValue(v[k], ctx);
    }
    return out;
  }
  return String(v);
}

/** Flattens raw (deserialized) inputs for storage and comparison. */
export async function flattenInputs(raw: Record<string, unknown>): Promise<Flattened> {
  const result: Flattened = { inputs: {}, secretInputs: [], unknownInputs: [] };
  for (const key of Object.keys(raw).sort()) {
    if (raw[key] === undefined) {
      continue;
    }
    const ctx: Ctx = { secret: false, unknown: false, key };
    result.inputs[key] = await flattenValue(raw[key], ctx);
    if (ctx.secret) {
      result.secretInputs.push(key);
    }
    if (ctx.unknown) {
      result.unknownInputs.push(key);
    }
  }
  return result;
}

/** Structural equality of stored JSON (key order insensitive). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) {
    return true;
  }
  if (a === undefined || b === undefined || a === null || b === null) {
    // Treat a missing key and an explicit null the same way.
    return (a ?? null) === (b ?? null);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) {
      return false;
    }
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (!jsonEqual(a[k], b[k])) {
        return false;
      }
    }
    return true;
  }
  return false;
}

/** Top-level keys whose values differ. */
export function diffKeys(olds: JsonObject, news: JsonObject): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((k) => !jsonEqual(olds[k], news[k])).sort();
}

/**
 * The engine's output filter: only the values of secure stack config are masked, as
 * "[secret]", everywhere the engine prints (pulumi v3.248.0 pkg/engine/events.go
 * makeEventEmitter → sdk/go/common/util/logging/log.go CreateFilter). Values shorter than
 * 3 characters and "true"/"false" are left alone; a value's JSON-escaped form is masked too.
 * Secret resource inputs and outputs are not in the filter: a command that prints one
 * shows it, as under the real engine.
 */
export class EngineFilter {
  private readonly items: [string, string][] = [];

  constructor(secureConfigValues: Iterable<string>) {
    for (const secret of secureConfigValues) {
      if (secret.length < 3 || /^(true|false)$/i.test(secret)) {
        continue;
      }
      this.items.push([secret, "[secret]"]);
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (escaped !== secret) {
        this.items.push([escaped, "[secret]"]);
      }
    }
  }

  /** strings.NewReplacer semantics: left to right, at each position the first pair that matches. */
  filter(text: string): string {
    if (!this.items.some(([from]) => text.includes(from))) {
      return text;
    }
    let out = "";
    let i = 0;
    outer: while (i < text.length) {
      for (const [from, to] of this.items) {
        if (text.startsWith(from, i)) {
          out += to;
          i += from.length;
          continue outer;
        }
      }
      out += text[i];
      i++;
    }
    return out;
  }
}
