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
  /** Every string found under a secret wrapper (for redaction). */
  secretStrings: string[];
}

interface Ctx {
  secret: boolean;
  unknown: boolean;
  secretStrings: string[];
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

async function prop(obj: object, key: string): Promise<unknown> {
  return await (obj as Record<string, unknown>)[key];
}

async function flattenValue(v: unknown, ctx: Ctx, inSecret: boolean): Promise<Json> {
  if (pulumi.isUnknown(v)) {
    ctx.unknown = true;
    return { $unknown: true };
  }
  if (v === undefined || v === null) {
    return null;
  }
  if (typeof v === "string") {
    if (inSecret) {
      ctx.secretStrings.push(v);
    }
    return v;
  }
  if (typeof v === "number" || typeof v === "boolean") {
    return v;
  }
  if (isSecretWrapper(v)) {
    ctx.secret = true;
    return flattenValue(v.value, ctx, true);
  }
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (const e of v) {
      out.push(await flattenValue(e, ctx, inSecret));
    }
    return out;
  }
  if (pulumi.asset.Asset.isInstance(v)) {
    const p = await prop(v, "path");
    const text = await prop(v, "text");
    const uri = await prop(v, "uri");
    if (typeof p === "string") {
      return { $asset: { path: p, hash: hashPath(p) } };
    }
    if (typeof text === "string") {
      if (inSecret) {
        ctx.secretStrings.push(text);
      }
      return { $asset: { text, hash: sha256(text) } };
    }
    return { $asset: { uri: String(uri), hash: "" } };
  }
  if (pulumi.asset.Archive.isInstance(v)) {
    const p = await prop(v, "path");
    const uri = await prop(v, "uri");
    const assets = await prop(v, "assets");
    if (typeof p === "string") {
      return { $archive: { path: p, hash: hashPath(p) } };
    }
    if (isRecord(assets)) {
      const inner: JsonObject = {};
      for (const k of Object.keys(assets).sort()) {
        inner[k] = await flattenValue(assets[k], ctx, inSecret);
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
      out[k] = await flattenValue(v[k], ctx, inSecret);
    }
    return out;
  }
  return String(v);
}

/** Flattens raw (deserialized) inputs for storage and comparison. */
export async function flattenInputs(raw: Record<string, unknown>): Promise<Flattened> {
  const result: Flattened = { inputs: {}, secretInputs: [], unknownInputs: [], secretStrings: [] };
  for (const key of Object.keys(raw).sort()) {
    if (raw[key] === undefined) {
      continue;
    }
    const ctx: Ctx = { secret: false, unknown: false, secretStrings: result.secretStrings };
    result.inputs[key] = await flattenValue(raw[key], ctx, false);
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

/** Collects every string leaf of the given (flattened) values. */
export function stringLeaves(v: Json | undefined, out: string[] = []): string[] {
  if (typeof v === "string") {
    out.push(v);
  } else if (Array.isArray(v)) {
    v.forEach((e) => stringLeaves(e, out));
  } else if (v !== null && typeof v === "object") {
    Object.values(v).forEach((e) => stringLeaves(e, out));
  }
  return out;
}

/**
 * Replaces known secret strings in text. Short strings (< 3 chars) are not
 * redacted because doing so would mangle all output.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(values: Iterable<string>): void {
    for (const v of values) {
      if (v.length >= 3) {
        this.secrets.add(v);
        // Multi-line secrets (keys): also hide each substantial line.
        for (const line of v.split("\n")) {
          if (line.trim().length >= 8) {
            this.secrets.add(line.trim());
          }
        }
      }
    }
  }

  redact(text: string): string {
    let out = text;
    const sorted = [...this.secrets].sort((a, b) => b.length - a.length);
    for (const s of sorted) {
      if (out.includes(s)) {
        out = out.split(s).join("[secret]");
      }
    }
    return out;
  }
}
