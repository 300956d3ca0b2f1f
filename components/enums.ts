/**
 * The string choices of the components' Args, as const objects (so that every Pulumi
 * language's schema can express them as enums) with a type of the same name. TypeScript
 * callers may write either `Compression.Xz` or `"xz"`. Nothing here imports Pulumi.
 */

/** The distribution an {@link FrrImage} bootstraps. */
export const Distribution = { Debian: "debian", Ubuntu: "ubuntu" } as const;
export type Distribution = (typeof Distribution)[keyof typeof Distribution];

/** Where FRR's packages come from: the distribution's archive or FRR's own apt repository. */
export const FrrPackageSource = { Distro: "distro", Frrouting: "frrouting" } as const;
export type FrrPackageSource = (typeof FrrPackageSource)[keyof typeof FrrPackageSource];

/**
 * How the image tarball is compressed. `machinectl import-tar` (systemd 252 and 257)
 * reads plain, gzip and xz tars, never zstd.
 */
export const Compression = { Gzip: "gzip", Xz: "xz", None: "none" } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

/**
 * How an nspawn machine gets the host's network: a trusted `.nspawn` file with
 * least-privilege capabilities, or the seed's unit drop-in with every capability.
 */
export const SettingsMode = { NspawnFile: "nspawn-file", UnitOverride: "unit-override" } as const;
export type SettingsMode = (typeof SettingsMode)[keyof typeof SettingsMode];

/** How a top-of-rack switch is configured. */
export const TorCli = { Nclu: "nclu", Nvue: "nvue", Vtysh: "vtysh" } as const;
export type TorCli = (typeof TorCli)[keyof typeof TorCli];

/** The values of an enum object, for validators and messages. */
export function enumValues<T extends string>(e: Readonly<Record<string, T>>): readonly T[] {
  return Object.values(e);
}
