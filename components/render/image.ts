/**
 * FrrImage's scripts on the build host: build an FRR image tar from a recipe
 * (image-build.ts), remove it, and read the build's result line. Pure: no Pulumi.
 *
 * Layout under `workDir` (one directory per recipe hash, so a changed recipe never
 * overwrites an image that machines may still import):
 *   <hash16>/frr-image.tar.gz         the image, `machinectl import-tar` reads it
 *   <hash16>/frr-image.tar.gz.sha256  `sha256sum` line with the base name
 *   <hash16>/frr-version, recipe.json what was built
 *   .<hash16>.build/                  temporary, removed on success and failure
 *   .<hash16>.lock                    flock: one build of a recipe at a time
 */
import { command, script } from "../shell";
import { PRELUDE } from "./image-bash";
import { RESULT_PREFIX } from "./image-build";
import { imageLayout, type ImageRecipe } from "./image-recipe";

export { renderImageBuildScript, RESULT_PREFIX } from "./image-build";
export { distroFrrVersion, imagePaths, recipeHash, RENDERER_VERSION } from "./image-recipe";
export type { ImagePaths, ImageRecipe } from "./image-recipe";

/** What the build script reports on its one stdout line. */
export interface ImageResult {
  /** Absolute path of the tar on the build host. */
  imagePath: string;
  /** sha256 (hex) of the tar. */
  sha256: string;
  sizeBytes: number;
  /** Upstream FRR version in the image, e.g. `8.4.4`. */
  frrVersion: string;
  /** Full recipe hash (hex). */
  recipeHash: string;
}

/**
 * Removes a recipe's image directory and anything a failed build left beside it (after
 * unmounting what it mounted). Idempotent: nothing to remove is success.
 */
export function renderImageRemoveScript(recipe: ImageRecipe): string {
  const l = imageLayout(recipe);
  return script({ step: "frr-image-remove", description: `remove the FRR image ${l.dir}` }, [
    ...PRELUDE,
    `readonly image_dir=${command(l.dir)} build_dir=${command(l.buildDir)} rootfs=${command(l.rootfs)}`,
    command("step", `removing the FRR image ${l.dir}`, `remove ${l.dir} by hand`),
    `if [[ ! -d ${command(l.workDir)} ]]; then say ${command(`${l.workDir} does not exist: nothing to remove`)}; exit 0; fi`,
    `exec 9>>${command(l.lockFile)}`,
    'flock -w 3600 9 || die "a build of this image still holds its lock after an hour"',
    "frr_nspawn_locked=1",
    "frr_nspawn_release",
    `rm -f "$build_dir.debootstrap.log"`,
    'if [[ -e $image_dir ]]; then rm -rf --one-file-system "$image_dir"; say "removed $image_dir"; else say "$image_dir is already gone"; fi',
    command("rm", "-f", l.lockFile),
  ]);
}

function field(
  record: Record<string, unknown>,
  key: string,
  check: (value: unknown) => boolean,
  what: string,
): unknown {
  const value = record[key];
  if (!check(value)) {
    throw new Error(
      `the FRR image build's result has ${key} = ${JSON.stringify(value)}, expected ${what}`,
    );
  }
  return value;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Reads the build script's stdout: exactly one line `FRR_NSPAWN_IMAGE {json}`. Other
 * lines are ignored (a wrapper may print some); throws with what is wrong otherwise.
 */
export function parseImageResult(stdout: string): ImageResult {
  const lines = stdout
    .split("\n")
    .map((line) => line.replace(/\r$/, ""))
    .filter((line) => line.startsWith(RESULT_PREFIX));
  if (lines.length !== 1) {
    throw new Error(
      `expected one "${RESULT_PREFIX.trim()} {…}" line from the FRR image build, found ${lines.length}` +
        (lines.length === 0 ? ": the build did not finish (see its stderr)" : ""),
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(lines[0].slice(RESULT_PREFIX.length));
  } catch (error) {
    throw new Error(`the FRR image build's result line is not JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error("the FRR image build's result line is not a JSON object");
  }
  const r = parsed as Record<string, unknown>;
  const isString = (v: unknown): v is string => typeof v === "string";
  return {
    imagePath: field(
      r,
      "imagePath",
      (v) => isString(v) && v.startsWith("/"),
      "an absolute path",
    ) as string,
    sha256: field(
      r,
      "sha256",
      (v) => isString(v) && HEX64.test(v),
      "64 lowercase hex digits",
    ) as string,
    sizeBytes: field(
      r,
      "sizeBytes",
      (v) => Number.isSafeInteger(v) && (v as number) >= 0,
      "a byte count",
    ) as number,
    frrVersion: field(
      r,
      "frrVersion",
      (v) => isString(v) && /^[0-9][0-9A-Za-z.~-]*$/.test(v),
      "a version like 8.4.4",
    ) as string,
    recipeHash: field(
      r,
      "recipeHash",
      (v) => isString(v) && HEX64.test(v),
      "64 lowercase hex digits",
    ) as string,
  };
}
