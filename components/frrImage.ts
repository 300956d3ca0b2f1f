import * as pulumi from "@pulumi/pulumi";
import { checkedConnection, Connection, gatedTarget } from "./connection";
import {
  distroFrrVersion,
  ImageRecipe,
  imagePaths,
  parseImageResult,
  recipeHash,
  renderImageBuildScript,
  renderImageRemoveScript,
} from "./render/image";
import { Compression, Distribution, FrrPackageSource } from "./enums";
import { checkConstruction, plainProblems, resolveValidated } from "./resolve";
import { pushLibrary } from "./render/scripts/push";
import { localStep, remoteStep, StepScripts, stepSource } from "./steps";
import { validateFrrImage } from "./validate/frrImage";
import { bool, optional } from "./validate/common";
import { Problems } from "./validate/problems";

/** Where FRR comes from: the distribution's own package, or FRR's apt repository. */
export interface FrrSource {
  /**
   * `"distro"`: the suite's `frr` package; `"frrouting"`: FRR's own apt repository (then
   * `repository` and `keyUrl` are required). Plain: it decides what the build installs.
   */
  source: FrrPackageSource;
  /**
   * FRR repository channel (frrouting only), e.g. `"frr-stable"` or `"frr-8"`.
   * @default "frr-stable"
   */
  channel?: pulumi.Input<string>;
  /** The repository's apt URL (frrouting only; required). */
  repository?: pulumi.Input<string>;
  /** URL of the repository's signing key, installed with `signed-by` (frrouting only; required). */
  keyUrl?: pulumi.Input<string>;
}

/** Every key of {@link FrrImageArgs} (the compiler keeps this list complete). */
const FRR_IMAGE_KEYS = {
  builder: true,
  localSudo: true,
  suite: true,
  distribution: true,
  mirror: true,
  arch: true,
  frr: true,
  extraPackages: true,
  hostname: true,
  workDir: true,
  compression: true,
} as const satisfies Record<keyof FrrImageArgs, true>;

/** Arguments of {@link FrrImage}. */
export interface FrrImageArgs {
  /**
   * Where to build (needs root, debootstrap and network to the mirror). Absent: the
   * machine running Pulumi, through `sudo -n` unless `localSudo` is false. Plain (its
   * fields may be Outputs): whether it is given decides where the build step runs.
   * @default undefined (build locally)
   */
  builder?: Connection;
  /**
   * Run a local build through `sudo -n` (set false when Pulumi already runs as root).
   * @default true
   */
  localSudo?: boolean;
  /**
   * The suite (code name) to bootstrap.
   * @default "bookworm"
   */
  suite?: pulumi.Input<string>;
  /**
   * `"debian"` or `"ubuntu"`.
   * @default "debian"
   */
  distribution?: Distribution;
  /**
   * The apt mirror for debootstrap. Required for ubuntu.
   * @default the mirror the build host's own apt sources use
   */
  mirror?: pulumi.Input<string>;
  /**
   * Debian architecture.
   * @default "amd64"
   */
  arch?: pulumi.Input<string>;
  /**
   * Where FRR comes from. Plain object (`channel`, `repository` and `keyUrl` may be
   * Outputs).
   * @default { source: "distro" }
   */
  frr?: FrrSource;
  /**
   * More packages to install in the image (dpkg's trim rules apply to them too).
   * @default []
   */
  extraPackages?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The image's hostname (debootstrap would copy the builder's).
   * @default "frr"
   */
  hostname?: pulumi.Input<string>;
  /**
   * Where images are built and kept on the builder, one folder per recipe hash.
   * @default "/var/lib/frr-nspawn/images"
   */
  workDir?: pulumi.Input<string>;
  /**
   * Tarball compression: `"gzip"`, `"xz"` (smaller, much slower) or `"none"`. systemd
   * 252's `machinectl import-tar` does not read zstd.
   * @default "gzip"
   */
  compression?: Compression;
}

/**
 * An FRR machine image built with debootstrap and exported as a tarball that
 * `machinectl import-tar` reads, with its SHA-256. The build is keyed by a hash of its
 * recipe: an unchanged recipe never rebuilds. The image is trimmed to what FRR, systemd
 * and the package's steps use (render/image-trim.ts: no docs, translations, gconv
 * modules, Python test suite or bytecode caches, and only the FRR daemons the package
 * runs: zebra, bgpd, bfdd, staticd, watchfrr, mgmtd); the same rules stay in the image's
 * dpkg configuration, so packages installed in the machine later stay trimmed too.
 *
 * Step: `${name}-build` (a `local.Command`, or a `remote.Command` on `builder`).
 */
export class FrrImage extends pulumi.ComponentResource {
  /** The tarball's path on the builder (from the build's result). */
  public readonly imagePath: pulumi.Output<string>;
  /**
   * The same path, known at preview (it follows from the recipe); its checksum file is
   * `<tarPath>.sha256`. Depend on this component to wait for the build.
   */
  public readonly tarPath: pulumi.Output<string>;
  public readonly sha256: pulumi.Output<string>;
  public readonly sizeBytes: pulumi.Output<number>;
  /**
   * FRR's upstream version in the image, e.g. `8.4.4`. Known at preview when the recipe
   * decides it (FRR from a Debian release's own archive: {@link distroFrrVersion}), and
   * then checked against the build's; else the build's.
   */
  public readonly frrVersion: pulumi.Output<string>;
  /** Hash of the recipe: the build's identity. */
  public readonly recipeHash: pulumi.Output<string>;
  /** True when the image is built on the machine running Pulumi (NspawnMachine can copy it). */
  public readonly builtLocally: boolean;
  /** The resource name, for messages. */
  public readonly name: string;

  constructor(name: string, args: FrrImageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(
      "frr-nspawn:index:FrrImage",
      checkConstruction("FrrImage", name, args, FRR_IMAGE_KEYS),
      {},
      opts,
    );
    this.name = name;
    const plain = new Problems();
    for (const p of plainProblems({
      builder: args.builder,
      distribution: args.distribution,
      frr: args.frr,
      "frr.source": args.frr?.source,
      compression: args.compression,
      localSudo: args.localSudo,
    })) {
      plain.add(p.path, p.message);
    }
    // An Output here is already a problem above; anything else must be a boolean.
    if (!plain.has("localSudo")) {
      optional(args.localSudo, true, "localSudo", plain, bool);
    }
    plain.throwIfAny(`FrrImage "${name}"`);
    this.builtLocally = args.builder === undefined;
    const recipe: pulumi.Output<ImageRecipe> = resolveValidated(
      `FrrImage "${name}"`,
      {
        suite: args.suite,
        distribution: args.distribution,
        mirror: args.mirror,
        arch: args.arch,
        frr: args.frr,
        extraPackages: args.extraPackages,
        hostname: args.hostname,
        workDir: args.workDir,
        compression: args.compression,
      },
      validateFrrImage,
    );
    const hash = recipe.apply(recipeHash);
    const scripts = (r: ImageRecipe): StepScripts => ({
      // Built here, the image is pushed by NspawnMachine's push step, which sources the
      // push library the build writes beside the tarball.
      create: renderImageBuildScript(
        r,
        args.builder === undefined
          ? { fileName: pushLibrary().fileName, text: pushLibrary().text }
          : undefined,
      ),
      delete: renderImageRemoveScript(r),
    });
    // A new recipe builds a new image before the old one is removed; a cold build takes
    // minutes (about 75 s here, more with xz or a slow mirror).
    const options = { triggers: [hash], timeoutSeconds: 3600 };
    const builder =
      args.builder === undefined
        ? undefined
        : gatedTarget(checkedConnection(`FrrImage "${name}"`, args.builder, "builder"), recipe);
    const build =
      builder === undefined
        ? localStep(this, `${name}-build`, args.localSudo ?? true, recipe, scripts, options)
        : remoteStep(this, `${name}-build`, builder, stepSource(builder, recipe), scripts, options);

    const expected = recipe.apply(distroFrrVersion);
    const result = pulumi.all([build.stdout, expected]).apply(([stdout, version]) => {
      const r = parseImageResult(stdout);
      // The version promised at preview must be the one built.
      if (version !== undefined && r.frrVersion !== version) {
        throw new pulumi.ResourceError(
          `FrrImage "${name}": the image has FRR ${r.frrVersion} where its suite's archive was known to have ${version}; update distroFrrVersion`,
          this,
        );
      }
      return r;
    });
    this.imagePath = result.apply((r) => r.imagePath);
    this.sha256 = result.apply((r) => r.sha256);
    this.sizeBytes = result.apply((r) => r.sizeBytes);
    this.tarPath = recipe.apply((r) => imagePaths(r).tar);
    this.frrVersion = expected.apply((version) =>
      version !== undefined ? pulumi.output(version) : result.apply((r) => r.frrVersion),
    );
    this.recipeHash = hash;
    this.registerOutputs({
      imagePath: this.imagePath,
      sha256: this.sha256,
      sizeBytes: this.sizeBytes,
      frrVersion: this.frrVersion,
      recipeHash: this.recipeHash,
      tarPath: this.tarPath,
      // Registered so that a reference to this image from another language (a provider
      // construct) knows whether the tarball is on the machine running Pulumi.
      builtLocally: this.builtLocally,
    });
  }
}
