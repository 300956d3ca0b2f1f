/**
 * The SSH connection every component takes: the command package's `ConnectionArgs` plus
 * `sudo`. It is validated when it is known (at construction, or when an Output resolves),
 * and every step's connection waits for that and for the component's other inputs, so no
 * step registers before everything it depends on has passed validation. The connection
 * is always passed to the provider as a secret.
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { resolveValidated } from "./resolve";
import { connection as validateConnection } from "./validate/connection";
import { Problems, SECRET } from "./validate/problems";
import type { RemoteTarget } from "./steps";

/** How to reach a host over SSH. */
export interface Connection extends command.types.input.remote.ConnectionArgs {
  /**
   * Run every script through `sudo -n` (no password prompt: fails at once if sudo would
   * ask). CoreOS logs in as `core`, Cumulus as `cumulus`; both need it. Strictly a
   * boolean: `"true"` is refused.
   * @default false
   */
  sudo?: pulumi.Input<boolean>;
}

/** A connection that passed validation. */
export interface CheckedConnection {
  /** What the provider gets (without `sudo`). */
  args: command.types.input.remote.ConnectionArgs;
  sudo: boolean;
  /** The host for messages: `<secret>` when the host was given as a secret. */
  host: string;
}

/** Validates `value` (given at `path`, e.g. `connection` or `builder`) when it is known. */
export function checkedConnection(
  subject: string,
  value: pulumi.Input<Connection> | undefined,
  path = "connection",
): pulumi.Output<CheckedConnection> {
  return resolveValidated(subject, { [path]: value }, (s, v, secrets) => {
    const problems = new Problems(secrets);
    const c = (v as Record<string, unknown>)[path];
    validateConnection(c, path, problems);
    problems.throwIfAny(s);
    const { sudo, ...rest } = c as Record<string, unknown>;
    return {
      args: rest as unknown as command.types.input.remote.ConnectionArgs,
      sudo: sudo === true,
      host: problems.isSecret(`${path}.host`) ? SECRET : String(rest.host),
    };
  });
}

/**
 * The step target (steps.ts `RemoteTarget`): the checked connection, known only once
 * `gates` (the component's validated config) are known too. A step whose connection is
 * this never registers before every input it depends on has passed validation.
 */
export function gatedTarget(
  connection: pulumi.Output<CheckedConnection>,
  ...gates: pulumi.Output<unknown>[]
): RemoteTarget {
  const gated = pulumi.all([connection, ...gates]).apply(([c]) => c as CheckedConnection);
  return {
    connection: pulumi.secret(gated.apply((c) => c.args)),
    shell: pulumi.unsecret(gated.apply((c) => ({ sudo: c.sudo, host: c.host }))),
  };
}

/** Host and port only (for triggers and messages): never the key or password. */
export function endpointOf(connection: pulumi.Output<CheckedConnection>): pulumi.Output<string> {
  return pulumi.unsecret(
    connection.apply((c) => `${c.args.user ?? ""}@${c.host}:${c.args.port ?? 22}`),
  );
}
