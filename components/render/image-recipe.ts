/**
 * The image recipe, its hash and where its files live on the build host. Pure: no Pulumi,
 * no shell text.
 */
import { createHash } from "node:crypto";

/** Bump whenever the rendered build script changes what ends up in the image. */
export const RENDERER_VERSION = "3";

/** What to build: a Debian/Ubuntu rootfs with FRR, booted later by systemd-nspawn. */
export interface ImageRecipe {
  distribution: "debian" | "ubuntu";
  /** Code name, e.g. `bookworm` (already validated). */
  suite: string;
  /** undefined: read from the build host's apt sources when the script runs. */
  mirror?: string;
  /** Debian architecture, e.g. `amd64`; must be the build host's own. */
  arch: string;
  frr:
    | { source: "distro" }
    | { source: "frrouting"; channel: string; repository: string; keyUrl: string };
  /** Validated Debian package names, added to the image. */
  extraPackages: string[];
  /** Hostname baked into the image (not the builder's). */
  hostname: string;
  compression: "gzip" | "xz" | "none";
  /** Absolute path on the build host, default `/var/lib/frr-nspawn/images`. */
  workDir: string;
}

/** Where a recipe's finished image lives. */
export interface ImagePaths {
  /** `<workDir>/<first 16 hex of the recipe hash>` */
  dir: string;
  /** `<dir>/frr-image.tar[.gz|.xz]` */
  tar: string;
  /** `<tar>.sha256`, in `sha256sum` format with the tar's base name. */
  sha256File: string;
}

/** All paths a build uses; the temporary ones sit beside the image directory. */
export interface ImageLayout extends ImagePaths {
  workDir: string;
  /** Base name of the tar inside `dir`. */
  tarName: string;
  /** `<dir>/frr-version`: the FRR version, so an existing image can be reported. */
  versionFile: string;
  /** `<workDir>/.<hash16>.build`: removed on failure, never left half-built. */
  buildDir: string;
  rootfs: string;
  /** Filled in the build dir, then renamed to `dir` in one step. */
  outDir: string;
  lockFile: string;
}

function stripTrailingSlashes(path: string): string {
  const stripped = path.replace(/\/+$/, "");
  return stripped === "" ? "/" : stripped;
}

/** The recipe as hashed and stored: package list sorted and deduplicated, workDir without a trailing `/`. */
export function normalizeRecipe(recipe: ImageRecipe): ImageRecipe {
  return {
    ...recipe,
    extraPackages: [...new Set(recipe.extraPackages)].sort(),
    workDir: stripTrailingSlashes(recipe.workDir),
  };
}

/** JSON with object keys sorted at every level and `undefined` members left out. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * sha256 (hex) of the canonical JSON of the normalised recipe and {@link RENDERER_VERSION}:
 * any change to the recipe or to what the renderer builds gives a new image directory.
 */
export function recipeHash(recipe: ImageRecipe): string {
  const text = canonicalJson({ recipe: normalizeRecipe(recipe), renderer: RENDERER_VERSION });
  return createHash("sha256").update(text, "utf8").digest("hex");
}

const EXTENSIONS: Record<ImageRecipe["compression"], string> = {
  gzip: ".tar.gz",
  xz: ".tar.xz",
  none: ".tar",
};

/** Every path of a recipe's build. */
export function imageLayout(recipe: ImageRecipe): ImageLayout {
  const workDir = stripTrailingSlashes(recipe.workDir);
  const base = workDir === "/" ? "" : workDir;
  const short = recipeHash(recipe).slice(0, 16);
  const dir = `${base}/${short}`;
  const tarName = `frr-image${EXTENSIONS[recipe.compression]}`;
  const buildDir = `${base}/.${short}.build`;
  return {
    workDir,
    dir,
    tar: `${dir}/${tarName}`,
    sha256File: `${dir}/${tarName}.sha256`,
    tarName,
    versionFile: `${dir}/frr-version`,
    buildDir,
    rootfs: `${buildDir}/rootfs`,
    outDir: `${buildDir}/out`,
    lockFile: `${base}/.${short}.lock`,
  };
}

/** `<workDir>/<first 16 of hash>/frr-image.tar[.gz|.xz]` and its `.sha256`. */
export function imagePaths(recipe: ImageRecipe): ImagePaths {
  const { dir, tar, sha256File } = imageLayout(recipe);
  return { dir, tar, sha256File };
}

/**
 * Packages debootstrap installs. The image only has to boot under systemd-nspawn and run
 * FRR; everything else is left out:
 * - systemd: PID 1 of the machine (`--boot`), and what `machinectl` talks to.
 * - systemd-sysv: `/sbin/init`, `poweroff`/`reboot` inside the machine (a few KB).
 * - dbus: the system bus; without it `machinectl shell` and `systemd-run -M` fail.
 * - iproute2: `ip`, which FRR's scripts and anyone debugging routes need (FRR depends on it too).
 * - frr, frr-pythontools: the daemons, and `frr-reload.py` that `systemctl reload frr` runs.
 * - ca-certificates (FRR from its own repository only): apt inside the image fetches it over https.
 * Not included (the seed had them): ubuntu-minimal, systemd-container, tzdata (logs in UTC),
 * wget/curl/gnupg (the key is fetched and dearmored on the build host).
 */
export function bootstrapPackages(recipe: ImageRecipe): string[] {
  const frr = recipe.frr.source === "distro" ? ["frr", "frr-pythontools"] : ["ca-certificates"];
  return [
    ...new Set(["systemd", "systemd-sysv", "dbus", "iproute2", ...frr, ...recipe.extraPackages]),
  ].sort();
}

/**
 * FRR's upstream version in a Debian release's own archive (a stable release keeps it),
 * as checked on images built here; undefined when the recipe does not decide it (FRR's
 * own repository, or a suite not listed).
 */
const DEBIAN_FRR_VERSIONS: Record<string, string> = {
  bullseye: "7.5.1",
  bookworm: "8.4.4",
  trixie: "10.3",
};

/** The FRR version a recipe decides, known before building (see {@link DEBIAN_FRR_VERSIONS}). */
export function distroFrrVersion(recipe: ImageRecipe): string | undefined {
  return recipe.distribution === "debian" && recipe.frr.source === "distro"
    ? DEBIAN_FRR_VERSIONS[recipe.suite]
    : undefined;
}
