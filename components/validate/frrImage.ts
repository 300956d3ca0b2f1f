/** FrrImage's inputs, resolved, checked and normalised in one pass. */
import { Compression, Distribution, FrrPackageSource, enumValues } from "../enums";
import type { ImageRecipe } from "../render/image";
import { knownKeys, list, oneOf, optional } from "./common";
import { frrName } from "./bgp";
import { hostname, packageName, suite, url, workDir } from "./names";
import { Problems, show } from "./problems";

export const DEFAULT_WORK_DIR = "/var/lib/frr-nspawn/images";
/** The keys of FrrSource. */
export const FRR_SOURCE_KEYS = ["source", "channel", "repository", "keyUrl"] as const;
const DISTRIBUTIONS = enumValues(Distribution);
const COMPRESSIONS = enumValues(Compression);

/** FrrImage's inputs once every Output has resolved. */
export interface FrrImageValues {
  suite?: unknown;
  distribution?: unknown;
  mirror?: unknown;
  arch?: unknown;
  frr?: unknown;
  extraPackages?: unknown;
  workDir?: unknown;
  compression?: unknown;
  hostname?: unknown;
}

function arch(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !/^[a-z0-9]{2,16}$/.test(value)) {
    problems.add(path, `${show(value)} is not a Debian architecture like "amd64" or "arm64"`);
    return undefined;
  }
  return value;
}

function frrSource(value: unknown, problems: Problems): ImageRecipe["frr"] | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.add(
      "frr",
      `${show(value)} is not { source: "distro" } or { source: "frrouting", channel, repository, keyUrl }`,
    );
    return undefined;
  }
  const v = value as Record<string, unknown>;
  knownKeys(v, FRR_SOURCE_KEYS, "frr", problems);
  const source = oneOf(enumValues(FrrPackageSource))(v.source, "frr.source", problems);
  if (source !== "frrouting") {
    return source === undefined ? undefined : { source };
  }
  const channel = optional(v.channel, "frr-stable", "frr.channel", problems, frrName);
  const repository = url(v.repository, "frr.repository", problems);
  const keyUrl = url(v.keyUrl, "frr.keyUrl", problems);
  return channel === undefined || repository === undefined || keyUrl === undefined
    ? undefined
    : { source, channel, repository, keyUrl };
}

export function validateFrrImage(
  subject: string,
  v: FrrImageValues,
  secrets: ReadonlySet<string> = new Set(),
): ImageRecipe {
  const problems = new Problems(secrets);
  const recipe = {
    distribution: optional(
      v.distribution,
      Distribution.Debian as Distribution,
      "distribution",
      problems,
      oneOf(DISTRIBUTIONS),
    ),
    suite: optional(v.suite, "bookworm", "suite", problems, suite),
    mirror: v.mirror === undefined ? undefined : url(v.mirror, "mirror", problems),
    arch: optional(v.arch, "amd64", "arch", problems, arch),
    frr: v.frr === undefined ? ({ source: "distro" } as const) : frrSource(v.frr, problems),
    extraPackages: optional(
      v.extraPackages,
      [] as string[],
      "extraPackages",
      problems,
      (x, p, pr) => list(x, p, pr, packageName),
    ),
    hostname: optional(v.hostname, "frr", "hostname", problems, hostname),
    compression: optional(
      v.compression,
      Compression.Gzip as Compression,
      "compression",
      problems,
      oneOf(COMPRESSIONS),
    ),
    workDir: optional(v.workDir, DEFAULT_WORK_DIR, "workDir", problems, workDir),
  };
  if (recipe.distribution === "ubuntu" && v.mirror === undefined) {
    problems.add(
      "mirror",
      "is required with distribution: \"ubuntu\" (the build host's own sources are usually Debian's)",
    );
  }
  problems.throwIfAny(subject);
  return recipe as ImageRecipe;
}
