/** NspawnMachine's inputs, resolved, checked and normalised in one pass. */
import { DEFAULT_CAPABILITIES } from "../render/nspawn";
import { SettingsMode, enumValues } from "../enums";
import { list, oneOf, optional } from "./common";
import { absolutePath, machineName, mirrorUrl, sha256 } from "./names";
import { Problems, show } from "./problems";
import { seconds } from "./bgp";

export const SETTINGS_MODES = enumValues(SettingsMode);

/** Where the image comes from, once resolved. */
export type ImageSource =
  { kind: "file"; path: string; sha256: string } | { kind: "url"; url: string; sha256: string };

/** NspawnMachine's inputs once every Output has resolved (`image` reduced to a plain object). */
export interface NspawnMachineValues {
  image: unknown;
  machineName?: unknown;
  settings?: unknown;
  capabilities?: unknown;
  bootTimeoutSeconds?: unknown;
}

export interface NspawnMachineConfig {
  image: ImageSource;
  machineName: string;
  settings: SettingsMode;
  capabilities: string[];
  bootTimeoutSeconds: number;
}

function capability(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !/^CAP_[A-Z_]{2,30}$/.test(value)) {
    problems.add(path, `${show(value)} is not a capability name like "CAP_NET_ADMIN"`);
    return undefined;
  }
  return value;
}

function image(value: unknown, problems: Problems): ImageSource | undefined {
  if (typeof value !== "object" || value === null) {
    problems.add(
      "image",
      `${show(value)} is not an image; give an FrrImage, { path, sha256 } or { url, sha256 }`,
    );
    return undefined;
  }
  const v = value as Record<string, unknown>;
  const sum = sha256(v.sha256, "image.sha256", problems);
  if ((v.path === undefined) === (v.url === undefined)) {
    problems.add("image", "give exactly one of image.path and image.url");
    return undefined;
  }
  if (v.path !== undefined) {
    const path = absolutePath(v.path, "image.path", problems);
    return path === undefined || sum === undefined
      ? undefined
      : { kind: "file", path, sha256: sum };
  }
  const url = mirrorUrl(v.url, "image.url", problems);
  return url === undefined || sum === undefined ? undefined : { kind: "url", url, sha256: sum };
}

export function validateNspawnMachine(
  subject: string,
  v: NspawnMachineValues,
): NspawnMachineConfig {
  const problems = new Problems();
  const img = image(v.image, problems);
  const name = optional(v.machineName, "frr", "machineName", problems, machineName);
  const settings = optional(
    v.settings,
    "nspawn-file" as SettingsMode,
    "settings",
    problems,
    oneOf(SETTINGS_MODES),
  );
  const caps = optional(
    v.capabilities,
    [...DEFAULT_CAPABILITIES],
    "capabilities",
    problems,
    (x, p, pr) => list(x, p, pr, capability),
  );
  const boot = optional(v.bootTimeoutSeconds, 120, "bootTimeoutSeconds", problems, (x, p, pr) =>
    seconds(x, p, pr, 5, 3600),
  );
  if (settings === "unit-override" && v.capabilities !== undefined) {
    problems.add(
      "capabilities",
      'has no effect with settings: "unit-override", which grants every capability',
    );
  }
  problems.throwIfAny(subject);
  return {
    image: img!,
    machineName: name!,
    settings: settings!,
    capabilities: caps!,
    bootTimeoutSeconds: boot!,
  };
}
