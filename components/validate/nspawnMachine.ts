/** NspawnMachine's inputs, resolved, checked and normalised in one pass. */
import { DEFAULT_CAPABILITIES } from "../render/nspawn";
import { SettingsMode, enumValues } from "../enums";
import { knownKeys, list, nearest, oneOf, optional } from "./common";
import { imagePath, imageUrl, machineName, sha256 } from "./names";
import { Problems, show } from "./problems";
import { seconds } from "./bgp";

export const SETTINGS_MODES = enumValues(SettingsMode);

/** The longest machine name: `<name>-<16 hex>` names its other images, at most 64 characters. */
export const MAX_MACHINE_NAME = 47;

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

/** The kernel's capability names (include/uapi/linux/capability.h, 0..40). */
export const KERNEL_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** A capability name from the kernel's list, e.g. `CAP_NET_ADMIN`. */
function capability(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value !== "string" || !KERNEL_CAPABILITIES.includes(value)) {
    const guess = typeof value === "string" ? nearest(value, KERNEL_CAPABILITIES) : undefined;
    problems.add(
      path,
      `${show(value)} is not a Linux capability name${guess === undefined ? ' like "CAP_NET_ADMIN"' : `; did you mean ${JSON.stringify(guess)}?`}`,
    );
    return undefined;
  }
  return value;
}

function image(value: unknown, problems: Problems): ImageSource | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.add(
      "image",
      `${show(value)} is not an image; give an FrrImage, { path, sha256 } or { url, sha256 }`,
    );
    return undefined;
  }
  const v = value as Record<string, unknown>;
  knownKeys(v, ["frrImage", "path", "url", "sha256"], "image", problems);
  const sum = sha256(v.sha256, "image.sha256", problems);
  if ((v.path === undefined) === (v.url === undefined)) {
    problems.add("image", "give exactly one of image.path and image.url");
    return undefined;
  }
  if (v.path !== undefined) {
    const path = imagePath(v.path, "image.path", problems);
    return path === undefined || sum === undefined
      ? undefined
      : { kind: "file", path, sha256: sum };
  }
  const url = imageUrl(v.url, "image.url", problems);
  return url === undefined || sum === undefined ? undefined : { kind: "url", url, sha256: sum };
}

export function validateNspawnMachine(
  subject: string,
  v: NspawnMachineValues,
  secrets: ReadonlySet<string> = new Set(),
): NspawnMachineConfig {
  const problems = new Problems(secrets);
  const img = image(v.image, problems);
  const name = optional(v.machineName, "frr", "machineName", problems, machineName);
  if (name !== undefined && name.length > MAX_MACHINE_NAME) {
    problems.add(
      "machineName",
      `${show(name)} is longer than ${MAX_MACHINE_NAME} characters (images beside the machine are named <machineName>-<16 hex digits>, at most 64)`,
    );
  }
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
