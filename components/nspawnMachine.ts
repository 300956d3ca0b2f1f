import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { checkedConnection, Connection, endpointOf, gatedTarget } from "./connection";
import { FrrImage } from "./frrImage";
import {
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
  SettingsMode,
  tarExtension,
} from "./render/scripts/machine";
import { checkConstruction, resolveValidated } from "./resolve";
import { RemoteTarget, remoteStep } from "./steps";
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
   * The image: an {@link FrrImage} built on the machine running Pulumi, a local file
   * `{ path, sha256 }`, or `{ url, sha256 }` downloaded by the host.
   */
  image: FrrImage | ImageFile | ImageUrl;
  /**
   * The machine's name (machinectl, `systemd-nspawn@<name>.service`).
   * @default "frr"
   */
  machineName?: pulumi.Input<string>;
  /**
   * How the machine gets the host's network: `"nspawn-file"` writes a trusted
   * `/etc/systemd/nspawn/<name>.nspawn` with least-privilege capabilities;
   * `"unit-override"` is the seed's ExecStart drop-in with `--capability=all`.
   * @default "nspawn-file"
   */
  settings?: pulumi.Input<SettingsMode>;
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

/**
 * The FRR image deployed as a systemd-nspawn machine on a CoreOS host, in the host's
 * network namespace, started at boot.
 *
 * Steps, in order: `${name}-copy` (or `${name}-fetch` for a URL), `${name}-verify`,
 * `${name}-import`, `${name}-settings`, `${name}-start`. A new image replaces the
 * machine (the old one is stopped and removed first: the name is fixed).
 */
export class NspawnMachine extends pulumi.ComponentResource {
  /** The machine's name; known once the machine is running. */
  public readonly machineName: pulumi.Output<string>;
  /** The SHA-256 of the image it runs. */
  public readonly imageSha256: pulumi.Output<string>;
  /** The FRR version of the image, when it is an FrrImage; else undefined. */
  public readonly frrVersion: pulumi.Output<string | undefined>;

  constructor(name: string, args: NspawnMachineArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "frr-nspawn:index:NspawnMachine",
      checkConstruction("NspawnMachine", name, args, NSPAWN_MACHINE_KEYS),
      {},
      opts,
    );
    const fromBuild = args.image instanceof FrrImage ? args.image : undefined;
    if (fromBuild !== undefined && !fromBuild.builtLocally) {
      throw new InputError(`NspawnMachine "${name}"`, [
        {
          path: "image",
          message:
            `FrrImage "${fromBuild.name}" is built on a remote builder, so its tarball is not on this ` +
            "machine; serve it over http(s) and give image: { url, sha256 }",
        },
      ]);
    }
    const image =
      fromBuild !== undefined
        ? { path: fromBuild.imagePath, sha256: fromBuild.sha256 }
        : args.image;
    const config = resolveValidated(
      `NspawnMachine "${name}"`,
      {
        image,
        machineName: args.machineName,
        settings: args.settings,
        capabilities: args.capabilities,
        bootTimeoutSeconds: args.bootTimeoutSeconds,
      },
      validateNspawnMachine,
    );
    const connection = checkedConnection(`NspawnMachine "${name}"`, args.connection);
    const target: RemoteTarget = gatedTarget(connection, config);
    const sha = config.apply((c) => c.image.sha256);
    const tar = config.apply((c) =>
      remoteTarPath(
        c.machineName,
        c.image.sha256,
        tarExtension(c.image.kind === "file" ? c.image.path : new URL(c.image.url).pathname),
      ),
    );

    const delivered: pulumi.Resource =
      // `{ path, url: undefined, sha256 }` is a path image: a key set to undefined is absent.
      fromBuild !== undefined || (args.image as ImageUrl).url === undefined
        ? new command.remote.CopyToRemote(
            `${name}-copy`,
            {
              connection: target.connection,
              source: config.apply(
                (c) => new pulumi.asset.FileAsset(c.image.kind === "file" ? c.image.path : ""),
              ),
              remotePath: tar,
              // A new host alone would not copy again: the host is a trigger.
              triggers: [endpointOf(connection)],
            },
            { parent: this },
          )
        : remoteStep(
            this,
            `${name}-fetch`,
            target,
            pulumi.all([config, tar]).apply(([c, t]) => ({
              create: renderFetch(
                `${name}-fetch`,
                c.image.kind === "url" ? c.image.url : "",
                t,
                c.image.sha256,
              ),
              delete: renderRemoveTar(`${name}-fetch`, t),
            })),
            { triggers: [endpointOf(connection), sha] },
          );

    const verify = remoteStep(
      this,
      `${name}-verify`,
      target,
      pulumi.all([tar, sha]).apply(([t, s]) => ({
        create: renderVerify(`${name}-verify`, t, s),
        delete: renderRemoveTar(`${name}-verify`, t),
      })),
      { dependsOn: [delivered], triggers: [sha] },
    );
    const imported = remoteStep(
      this,
      `${name}-import`,
      target,
      pulumi.all([config, tar]).apply(([c, t]) => ({
        create: renderImport(`${name}-import`, c.machineName, t, c.image.sha256),
        delete: renderRemoveImage(`${name}-import`, c.machineName),
      })),
      { dependsOn: [verify], triggers: [sha], deleteBeforeReplace: true },
    );
    const settings = remoteStep(
      this,
      `${name}-settings`,
      target,
      config.apply((c) => ({
        create: renderSettings(`${name}-settings`, c.machineName, c.settings, c.capabilities),
        delete: renderRemoveSettings(`${name}-settings`, c.machineName),
      })),
      // `machinectl remove` deletes the image's settings file too, so a new image needs
      // them written again, after the old image is gone.
      { dependsOn: [imported], triggers: [sha], deleteBeforeReplace: true },
    );
    const start = remoteStep(
      this,
      `${name}-start`,
      target,
      config.apply((c) => ({
        create: renderStart(`${name}-start`, c.machineName, c.bootTimeoutSeconds),
        delete: renderStop(`${name}-start`, c.machineName),
      })),
      { dependsOn: [settings], triggers: [sha], deleteBeforeReplace: true },
    );

    // Known once the machine is running, so that whatever uses it waits for that.
    this.machineName = pulumi.all([start.stdout, config]).apply(([, c]) => c.machineName);
    this.imageSha256 = sha;
    this.frrVersion = fromBuild !== undefined ? fromBuild.frrVersion : pulumi.output(undefined);
    this.registerOutputs({
      machineName: this.machineName,
      imageSha256: this.imageSha256,
      frrVersion: this.frrVersion,
    });
  }
}
