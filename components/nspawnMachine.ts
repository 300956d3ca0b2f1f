import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import {
  CheckedConnection,
  checkedConnection,
  Connection,
  endpointOf,
  gatedTarget,
} from "./connection";
import { SettingsMode } from "./enums";
import { FrrImage } from "./frrImage";
import {
  ExpectedDigest,
  remoteTarPath,
  renderFetch,
  renderImport,
  renderRemoveImage,
  renderRemoveSettings,
  renderRemoveTar,
  renderSettings,
  renderStart,
  renderStop,
  renderVerify,
  tarExtension,
} from "./render/scripts/machine";
import {
  PushConnection,
  pushConnectionProblems,
  pushEnvironment,
  pushLibraryPath,
  renderPush,
} from "./render/scripts/push";
import { checkConstruction, plainProblems, resolveValidated } from "./resolve";
import {
  hostLibrarySteps,
  libraryStep,
  localStep,
  RemoteTarget,
  remoteStep,
  StepSource,
  stepSource,
} from "./steps";
import { StepId } from "./shell";
import { validateNspawnMachine } from "./validate/nspawnMachine";
import { InputError } from "./validate/problems";

/** An image file on the machine running Pulumi, copied to the host over SFTP. */
export interface ImageFile {
  /** Absolute path of the tarball (plain, gzip or xz). */
  path: pulumi.Input<string>;
  /** Its SHA-256, checked on the host before import. */
  sha256: pulumi.Input<string>;
}

/** An image the host downloads itself (curl or wget), checked before import. */
export interface ImageUrl {
  /** http(s) URL of the tarball. */
  url: pulumi.Input<string>;
  /** Its SHA-256, checked on the host before import. */
  sha256: pulumi.Input<string>;
}

/**
 * Where the machine's image comes from: exactly one of `frrImage`, `path` and `url`.
 * Plain object (it decides the steps); `path`, `url` and `sha256` may be Outputs.
 */
export interface NspawnImage {
  /**
   * An {@link FrrImage} built on the machine that runs Pulumi, pushed to the host with
   * this machine's OpenSSH client (key, user, port, host key and jump host of
   * `connection` are used; a password is not) and checked there against the build's own
   * checksum file.
   * @default undefined
   */
  frrImage?: FrrImage;
  /**
   * Absolute path of a tarball (plain, gzip or xz) on the machine that runs Pulumi,
   * copied to the host over SFTP. Needs `sha256`.
   * @default undefined
   */
  path?: pulumi.Input<string>;
  /**
   * http(s) URL of a tarball the host downloads itself (curl or wget). Needs `sha256`.
   * @default undefined
   */
  url?: pulumi.Input<string>;
  /**
   * The SHA-256 of the tarball at `path` or `url`, checked on the host before import.
   * Not with `frrImage` (its build's checksum file is used).
   * @default undefined
   */
  sha256?: pulumi.Input<string>;
}

/** Every key of {@link NspawnMachineArgs} (the compiler keeps this list complete). */
const NSPAWN_MACHINE_KEYS = {
  connection: true,
  image: true,
  machineName: true,
  settings: true,
  capabilities: true,
  bootTimeoutSeconds: true,
} as const satisfies Record<keyof NspawnMachineArgs, true>;

/** Arguments of {@link NspawnMachine}. */
export interface NspawnMachineArgs {
  /** The CoreOS host (SSH; kept secret). CoreOS needs `sudo: true` with user `core`. */
  connection: pulumi.Input<Connection>;
  /**
   * The image: `{ frrImage }` (an {@link FrrImage} built here), `{ path, sha256 }` (a
   * file here) or `{ url, sha256 }` (downloaded by the host). A new image is imported
   * beside the running machine, which stops only once the new one is ready; the
   * previous image is kept on the host for a rollback.
   */
  image: NspawnImage;
  /**
   * The machine's name (machinectl, `systemd-nspawn@<name>.service`); at most 47
   * characters (images beside it are named `<name>-<16 hex digits>`).
   * @default "frr"
   */
  machineName?: pulumi.Input<string>;
  /**
   * How the machine gets the host's network: `"nspawn-file"` writes a trusted
   * `/etc/systemd/nspawn/<name>.nspawn` with least-privilege capabilities;
   * `"unit-override"` is the seed's ExecStart drop-in with `--capability=all`. Plain.
   * @default "nspawn-file"
   */
  settings?: SettingsMode;
  /**
   * Capabilities added to nspawn's default set (`nspawn-file` only).
   * @default ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE"]
   */
  capabilities?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * How long to wait for the machine's systemd to finish booting.
   * @default 120
   */
  bootTimeoutSeconds?: pulumi.Input<number>;
}

/** What the machine's steps render from (one Output: see steps.ts `StepSource`). */
interface MachineValues {
  config: ReturnType<typeof validateNspawnMachine>;
  /** The image's identity: an FrrImage's recipe hash, else the given SHA-256. */
  id: string;
  /** The tarball's path on the host. */
  tar: string;
  /** What the tarball must hash to: an FrrImage's own checksum file, copied beside it. */
  digest: ExpectedDigest;
}

/** A plain object: not an Output or a Promise (its fields may be). */
function isPlainObject(value: unknown): value is object {
  return (
    typeof value === "object" &&
    value !== null &&
    !pulumi.Output.isInstance(value) &&
    !(value instanceof Promise)
  );
}

/**
 * Checks the plain fields (`image` and `settings`) at construction; throws one InputError
 * naming every problem.
 */
function checkPlain(subject: string, image: unknown, settings: unknown): NspawnImage {
  const problems = plainProblems({
    image,
    "image.frrImage": (image as NspawnImage | undefined)?.frrImage,
    settings,
  });
  if (problems.some((p) => p.path.startsWith("image"))) {
    // An image that is not there yet cannot be checked further.
    throw new InputError(subject, problems);
  }
  const i = image as NspawnImage;
  const given = (["frrImage", "path", "url"] as const).filter((k) => i?.[k] !== undefined);
  if (typeof image !== "object" || image === null || given.length !== 1) {
    problems.push({
      path: "image",
      message: "give exactly one of image.frrImage, image.path and image.url",
    });
  } else if (i.frrImage !== undefined) {
    if (!(i.frrImage instanceof FrrImage)) {
      problems.push({ path: "image.frrImage", message: "must be an FrrImage" });
    } else if (!i.frrImage.builtLocally) {
      problems.push({
        path: "image.frrImage",
        message:
          `FrrImage "${i.frrImage.name}" is built on a remote builder, so its tarball is not on this ` +
          "machine; serve it over http(s) and give image: { url, sha256 }",
      });
    }
    if (i.sha256 !== undefined) {
      problems.push({
        path: "image.sha256",
        message: "is not given with image.frrImage (its build's own checksum file is checked)",
      });
    }
  } else if (i.sha256 === undefined) {
    problems.push({ path: "image.sha256", message: `is required with image.${given[0]}` });
  }
  if (problems.length > 0) {
    throw new InputError(subject, problems);
  }
  return i;
}

/**
 * Pushing an FrrImage needs a connection `ssh` and `scp` can use: a plain one is checked at
 * construction, before any step registers (which fields are given is known).
 */
function checkPushConnection(name: string, given: pulumi.Input<Connection>): void {
  if (!isPlainObject(given)) {
    return;
  }
  const c = given as PushConnection;
  const problems = pushConnectionProblems({
    ...c,
    proxy: isPlainObject(c.proxy) ? c.proxy : undefined,
  });
  if (problems.length > 0) {
    throw new InputError(`NspawnMachine "${name}"`, problems);
  }
}

/**
 * The FRR image deployed as a systemd-nspawn machine on a CoreOS host, in the host's
 * network namespace, started at boot.
 *
 * Steps, in order: `${name}-push` (an FrrImage, pushed from here with OpenSSH),
 * `${name}-copy` (a file, over SFTP) or `${name}-fetch` (a URL, downloaded by the host);
 * then `${name}-verify`, `${name}-import`, `${name}-settings`, `${name}-start`. Every
 * script is known text at preview: the image is named by its id (an FrrImage's recipe
 * hash, else its SHA-256), and an FrrImage's checksum is read on the host from the
 * build's checksum file. A new image is imported beside the running machine (as
 * `<machineName>-<id>`); the start step then stops the old machine, swaps the images and
 * boots the new one, putting the old one back if the new one does not come up.
 */
export class NspawnMachine extends pulumi.ComponentResource {
  /**
   * The machine's name. Known at preview; as an input elsewhere, it waits until the
   * machine runs its image.
   */
  public readonly machineName: pulumi.Output<string>;
  /**
   * What identifies the image the machine runs, known at preview: an FrrImage's recipe
   * hash, else the image's SHA-256. Waits, like `machineName`, until the machine runs it.
   */
  public readonly imageId: pulumi.Output<string>;
  /** The SHA-256 of the image it runs (an FrrImage's: known once it is built). */
  public readonly imageSha256: pulumi.Output<string>;
  /**
   * The FRR version of the image, when it is an FrrImage (known at preview when its recipe
   * decides it: see FrrImage.frrVersion); else undefined.
   */
  public readonly frrVersion: pulumi.Output<string | undefined>;

  constructor(name: string, args: NspawnMachineArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "frr-nspawn:index:NspawnMachine",
      checkConstruction("NspawnMachine", name, args, NSPAWN_MACHINE_KEYS),
      {},
      opts,
    );
    const subject = `NspawnMachine "${name}"`;
    const image = checkPlain(subject, args.image, args.settings);
    const fromBuild = image.frrImage;
    const config = resolveValidated(
      subject,
      {
        // An FrrImage is named by its recipe hash (known at preview), where a file or a URL
        // is named by its SHA-256; both are checked as 64 hex digits.
        image:
          fromBuild !== undefined
            ? {
                ...image,
                frrImage: undefined,
                path: fromBuild.tarPath,
                sha256: fromBuild.recipeHash,
              }
            : image,
        machineName: args.machineName,
        settings: args.settings,
        capabilities: args.capabilities,
        bootTimeoutSeconds: args.bootTimeoutSeconds,
      },
      validateNspawnMachine,
    );
    const connection = checkedConnection(subject, args.connection);
    const target: RemoteTarget = gatedTarget(connection, config);
    const kind = fromBuild !== undefined ? "push" : image.url !== undefined ? "fetch" : "copy";
    const values = config.apply((c): MachineValues => {
      const tar = remoteTarPath(
        c.machineName,
        c.image.sha256,
        tarExtension(c.image.kind === "file" ? c.image.path : new URL(c.image.url).pathname),
      );
      return {
        config: c,
        id: c.image.sha256,
        tar,
        digest:
          fromBuild !== undefined ? { sha256File: `${tar}.sha256` } : { sha256: c.image.sha256 },
      };
    });
    const id = values.apply((v) => v.id);
    const source = stepSource(target, values);

    if (kind === "push") {
      checkPushConnection(name, args.connection);
    }
    // Every remote script of this component sources the host library: installed first.
    const lib = hostLibrarySteps(
      this,
      name,
      "frr-nspawn:index:NspawnMachine",
      target,
      endpointOf(connection),
    );
    const installed = lib.installed;
    const step = (part: string) => libraryStep(name, part, lib);
    const delivered = this.deliver(
      name,
      kind,
      image,
      connection,
      target,
      values,
      source,
      installed,
      step("fetch"),
    );
    const verify = remoteStep(
      this,
      `${name}-verify`,
      target,
      source,
      (v) => ({
        create: renderVerify(step("verify"), v.tar, v.digest),
        delete: renderRemoveTar(step("verify"), v.tar),
      }),
      { dependsOn: [delivered, installed], triggers: [id] },
    );
    // Beside the running machine: a new image is imported before the old one's record goes.
    const imported = remoteStep(
      this,
      `${name}-import`,
      target,
      source,
      (v) => ({
        create: renderImport(step("import"), v.config.machineName, v.id, v.tar),
        delete: renderRemoveImage(step("import"), v.config.machineName, v.id),
      }),
      { dependsOn: [verify], triggers: [id] },
    );
    // Settings are the machine's (by name), not its image's: a new image keeps them.
    const settings = remoteStep(
      this,
      `${name}-settings`,
      target,
      source,
      ({ config: c }) => ({
        create: renderSettings(step("settings"), c.machineName, c.settings, c.capabilities),
        delete: renderRemoveSettings(step("settings"), c.machineName),
      }),
      { dependsOn: [imported] },
    );
    // A new image id is an update of this step: its script switches the machine over.
    const start = remoteStep(
      this,
      `${name}-start`,
      target,
      source,
      (v) => ({
        create: renderStart(step("start"), v.config.machineName, v.id, v.config.bootTimeoutSeconds),
        delete: renderStop(step("start"), v.config.machineName),
      }),
      { dependsOn: [settings] },
    );

    // The start step's URN is known at preview and carries the dependency on it.
    this.machineName = pulumi.all([start.urn, config]).apply(([, c]) => c.machineName);
    this.imageId = pulumi.all([start.urn, id]).apply(([, i]) => i);
    this.imageSha256 =
      fromBuild !== undefined ? fromBuild.sha256 : config.apply((c) => c.image.sha256);
    this.frrVersion = fromBuild !== undefined ? fromBuild.frrVersion : pulumi.output(undefined);
    this.registerOutputs({
      machineName: this.machineName,
      imageId: this.imageId,
      imageSha256: this.imageSha256,
      frrVersion: this.frrVersion,
    });
  }

  /** The first step: the tarball to `tar` on the host. */
  private deliver(
    name: string,
    kind: "push" | "copy" | "fetch",
    image: NspawnImage,
    connection: pulumi.Output<CheckedConnection>,
    target: RemoteTarget,
    values: pulumi.Output<MachineValues>,
    source: StepSource<MachineValues>,
    installed: pulumi.Resource,
    fetchStep: StepId,
  ): pulumi.Resource {
    switch (kind) {
      case "push": {
        const build = image.frrImage!;
        const step = `${name}-push`;
        // A plain connection was checked before any step (checkPushConnection); one that
        // is an Output is checked when it resolves.
        const checked = connection.apply(({ args: c }) => {
          const problems = pushConnectionProblems(c as PushConnection);
          if (problems.length > 0) {
            throw new InputError(`NspawnMachine "${name}"`, problems);
          }
          return pushEnvironment(c as PushConnection);
        });
        return localStep(
          this,
          step,
          false,
          // It sources the push library, which the image's build step wrote beside the
          // tarball. What it copies, the verify step's delete removes: it has no delete.
          pulumi.all([build.tarPath, values]).apply(([local, v]) => ({ local, remote: v.tar })),
          ({ local, remote }) => ({
            create: renderPush(
              {
                name: step,
                library: {
                  path: pushLibraryPath(local),
                  installedBy: `${pulumi.resourceName(build)}-build`,
                },
              },
              local,
              remote,
            ),
          }),
          {
            nothingToUndo: true,
            dependsOn: [build],
            triggers: [endpointOf(connection), build.recipeHash],
            environment: pulumi.secret(checked),
            timeoutSeconds: 3600,
          },
        );
      }
      case "copy":
        return new command.remote.CopyToRemote(
          `${name}-copy`,
          {
            connection: target.connection,
            source: values.apply(
              ({ config: c }) =>
                new pulumi.asset.FileAsset(c.image.kind === "file" ? c.image.path : ""),
            ),
            remotePath: values.apply((v) => v.tar),
            // A new host alone would not copy again: the host is a trigger.
            triggers: [endpointOf(connection)],
          },
          { parent: this },
        );
      case "fetch":
        return remoteStep(
          this,
          `${name}-fetch`,
          target,
          source,
          ({ config: c, tar }) => ({
            create: renderFetch(
              fetchStep,
              c.image.kind === "url" ? c.image.url : "",
              tar,
              c.image.sha256,
            ),
            delete: renderRemoveTar(fetchStep, tar),
          }),
          {
            dependsOn: [installed],
            triggers: [endpointOf(connection), values.apply((v) => v.id)],
          },
        );
    }
  }
}
