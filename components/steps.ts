/**
 * One `@pulumi/command` resource per step, named `${component}-${step}`, parented to the
 * component, each after the one before it. Scripts come from the renderers; this file
 * only decides how they are run.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import {
  hostLibrary,
  libraryRef,
  renderLibraryInstall,
  renderLibraryRemove,
} from "./render/scripts/library";
import { FrrTarget } from "./render/scripts/lib";
import {
  parseSessions,
  renderVerify,
  SessionState,
  VERIFY_STEP_LIMIT_SECONDS,
  VerifyConfig,
} from "./render/scripts/verify";
import { forLoginShell, HostLibraryRef, StepId, stepOf } from "./shell";

/**
 * A step's scripts: `create` also runs on update; `delete` runs with the stored inputs.
 * Only a step with {@link StepOptions.nothingToUndo} has no `delete`.
 */
export interface StepScripts {
  create: string;
  delete?: string;
}

/** How a remote step's scripts are run: through sudo or not, and the host its last line names. */
export interface Shell {
  sudo: boolean;
  /** The host, named in a failed step's last line (`<secret>` for a secret host). */
  host: string;
}

/** What every remote step of a component shares (see `gatedTarget`). */
export interface RemoteTarget {
  connection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
  shell: pulumi.Output<Shell>;
}

/**
 * What a component's steps render their scripts from: its values and the shell, in one
 * Output. A component makes one (or one per set of values whose unknowns must not spread
 * to other steps at preview) and every step renders from it: every Output costs at
 * construction (each `pulumi.all` of n Outputs makes 2n + 1 of them), so the values are
 * combined once per component, not once per step.
 */
export type StepSource<T> = pulumi.Output<{ shell: Shell; values: T }>;

/** The {@link StepSource} of `values` for the steps run on `target`. */
export function stepSource<T>(target: RemoteTarget, values?: pulumi.Output<T>): StepSource<T> {
  return values === undefined
    ? target.shell.apply((shell) => ({ shell, values: undefined as T }))
    : pulumi.all([target.shell, values]).apply(([shell, v]) => ({ shell, values: v as T }));
}

export interface StepOptions {
  /** Changes that replace the step instead of updating it. */
  triggers?: pulumi.Input<unknown[]>;
  /** Steps (or components) this one runs after. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  deleteBeforeReplace?: boolean;
  /** Outputs to keep secret in state (stdout/stderr that may carry secrets). */
  secretOutputs?: string[];
  /** The script is stopped after this long (the provider cannot stop it). Default 900. */
  timeoutSeconds?: number;
  /**
   * Environment variables of a local step (never of a remote one: SSH would need the
   * server's AcceptEnv). Secret values go here, not into the script.
   */
  environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * The step leaves nothing of its own to undo (it only checks, or another step's delete
   * removes what it made), so it has no `delete`, and the provider runs nothing when it
   * goes (pulumi-command v1.2.1 provider/pkg/provider/remote/commandController.go and
   * local/commandController.go `Delete`: "if props.Delete == nil").
   */
  nothingToUndo?: boolean;
}

/** How long a step may run unless it says otherwise: every wait inside is shorter. */
const DEFAULT_TIMEOUT_SECONDS = 900;

/**
 * The step's scripts as the provider's `create` and `delete` strings: one Output each,
 * straight from the source. The renderers run twice (they are pure, and all of
 * components/ is 2% of the construction's CPU profile at 300 hosts) rather than a third
 * Output per step holding both.
 */
function wrapped<T>(
  source: StepSource<T>,
  render: (values: T) => StepScripts,
  name: string,
  options: StepOptions,
) {
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const run = (text: string, shell: Shell) =>
    forLoginShell(text, { sudo: shell.sudo, name, host: shell.host, timeoutSeconds });
  return {
    create: source.apply(({ shell, values }) => run(render(values).create, shell)),
    delete: options.nothingToUndo
      ? undefined
      : source.apply(({ shell, values }) => {
          const text = render(values).delete;
          if (text === undefined) {
            throw new Error(`step ${name} has no delete script`);
          }
          return run(text, shell);
        }),
  };
}

/** Resource options every step gets: its parent, its order, its replacement rule. */
function stepOptions(parent: pulumi.Resource, options: StepOptions): pulumi.CustomResourceOptions {
  return {
    parent,
    dependsOn: options.dependsOn,
    deleteBeforeReplace: options.deleteBeforeReplace,
    additionalSecretOutputs: options.secretOutputs,
  };
}

/** A `remote.Command` running rendered scripts over SSH (bash, through sudo if asked). */
export function remoteStep<T>(
  parent: pulumi.Resource,
  name: string,
  target: RemoteTarget,
  source: StepSource<T>,
  render: (values: T) => StepScripts,
  options: StepOptions = {},
): command.remote.Command {
  return new command.remote.Command(
    name,
    {
      connection: target.connection,
      ...wrapped(source, render, name, options),
      triggers: options.triggers,
      // Over SSH, environment variables need the server's AcceptEnv: never rely on them.
      addPreviousOutputInEnv: false,
    },
    stepOptions(parent, options),
  );
}

/** A `local.Command` running a rendered script on the machine that runs Pulumi. */
export function localStep<T>(
  parent: pulumi.Resource,
  name: string,
  sudo: boolean,
  values: pulumi.Output<T>,
  render: (values: T) => StepScripts,
  options: StepOptions = {},
): command.local.Command {
  const shell: Shell = { sudo, host: "this machine" };
  return new command.local.Command(
    name,
    {
      ...wrapped(
        values.apply((v) => ({ shell, values: v })),
        render,
        name,
        options,
      ),
      triggers: options.triggers,
      environment: options.environment,
      addPreviousOutputInEnv: false,
    },
    stepOptions(parent, options),
  );
}

/**
 * The `<name>-verify` step of BgpLoopback and TorCumulus: waits where FRR runs until every
 * session in `spec` is up (render/scripts/verify.ts), after `after` (sourcing the host
 * library when `id` names it); returns the sessions'
 * states from its output.
 */
export function verifyStep<T>(
  parent: pulumi.Resource,
  id: StepId,
  target: RemoteTarget,
  source: StepSource<T>,
  spec: (values: T) => { frr: FrrTarget; verify: VerifyConfig },
  after: pulumi.Resource,
): pulumi.Output<Record<string, SessionState>> {
  const step = remoteStep(
    parent,
    stepOf(id).step,
    target,
    source,
    (values) => {
      const { frr, verify } = spec(values);
      return { create: renderVerify(id, frr, verify) };
    },
    { dependsOn: [after], timeoutSeconds: VERIFY_STEP_LIMIT_SECONDS, nothingToUndo: true },
  );
  return step.stdout.apply(parseSessions);
}

/** The host library's file in this package (written by `npm run schema`, copied by the build). */
export const HOST_LIBRARY_FILE = path.join(__dirname, "host-library.sh");

/**
 * The component's `<name>-lib-copy` and `<name>-lib` steps: the first copies the host
 * library from this package into the SSH user's home (CopyToRemote: the library's text is
 * not in any step's inputs, only its path and digest); the second installs it for every
 * later step of the component to source, and removes it on destroy once no component on
 * the host uses it. Returns the step to follow, and the reference the scripts that source
 * it name (see {@link libraryStep}).
 */
export function hostLibrarySteps(
  parent: pulumi.Resource,
  name: string,
  type: string,
  target: RemoteTarget,
  endpoint: pulumi.Output<string>,
): InstalledLibrary {
  const lib = hostLibrary();
  // One marker per component instance on the host: its project, stack, type and name.
  const owner = createHash("sha256")
    .update(`${pulumi.getProject()}/${pulumi.getStack()}/${type}/${name}`)
    .digest("hex")
    .slice(0, 16);
  const copy = new command.remote.CopyToRemote(
    `${name}-lib-copy`,
    {
      connection: target.connection,
      source: new pulumi.asset.FileAsset(HOST_LIBRARY_FILE),
      remotePath: lib.copyName,
      // A new host alone would not copy again: the host is a trigger.
      triggers: [endpoint],
    },
    { parent },
  );
  const installed = remoteStep(
    parent,
    `${name}-lib`,
    target,
    stepSource(target),
    () => ({
      create: renderLibraryInstall(`${name}-lib`, `${name}-lib-copy`, lib, owner),
      delete: renderLibraryRemove(`${name}-lib`, lib, owner),
    }),
    // A new library version is a new file: replacing the step installs it first, and
    // removes the old one (if no other component uses it) after the steps moved on.
    { dependsOn: [copy], triggers: [endpoint, lib.sha256] },
  );
  return { installed, library: libraryRef(lib, `${name}-lib`) };
}

/**
 * What a component's scripts source, and what its first step runs after: its own `-lib`
 * step, or the NspawnMachine whose library it uses.
 */
export interface InstalledLibrary {
  installed: pulumi.Resource;
  library: HostLibraryRef;
}

/** The id of the component's step `<name>-<part>`, which sources `lib`. */
export function libraryStep(name: string, part: string, lib: { library: HostLibraryRef }): StepId {
  return { name: `${name}-${part}`, library: lib.library };
}

/**
 * The host library an NspawnMachine installed on its host, for a component that runs
 * after the machine there (and is deleted before it): its steps follow the machine, whose
 * `<name>-lib` step is among the machine's. The same for a machine built in this process
 * and for a reference to one that the provider rehydrated (provider/provider.ts
 * `rehydrate`): the library is this package's, and the name is the resource's.
 */
export function machineLibrary(machine: pulumi.Resource): InstalledLibrary {
  return {
    installed: machine,
    library: libraryRef(hostLibrary(), `${pulumi.resourceName(machine)}-lib`),
  };
}
