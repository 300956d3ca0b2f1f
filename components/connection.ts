/**
 * The SSH connection every component takes: the command package's `ConnectionArgs` plus
 * `sudo`. The connection is always passed to the provider as a secret.
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

/** How to reach a host over SSH. */
export interface Connection extends command.types.input.remote.ConnectionArgs {
  /**
   * Run every script through `sudo -n` (no password prompt: fails at once if sudo would
   * ask). CoreOS logs in as `core`, Cumulus as `cumulus`; both need it.
   * @default false
   */
  sudo?: pulumi.Input<boolean>;
}

/** The provider's connection (without `sudo`), marked secret. */
export function providerConnection(
  connection: pulumi.Input<Connection>,
): pulumi.Output<command.types.input.remote.ConnectionArgs> {
  return pulumi.secret(
    pulumi.output(connection).apply((c) => {
      const { sudo: _sudo, ...rest } = c;
      return rest;
    }),
  );
}

/** Whether to use sudo: not secret, so that scripts stay readable in a preview. */
export function sudoOf(connection: pulumi.Input<Connection>): pulumi.Output<boolean> {
  return pulumi.unsecret(pulumi.output(connection).apply((c) => c.sudo === true));
}

/** Host and port only (for triggers and messages): never the key or password. */
export function endpointOf(connection: pulumi.Input<Connection>): pulumi.Output<string> {
  return pulumi.unsecret(
    pulumi.output(connection).apply((c) => `${c.user ?? ""}@${c.host}:${c.port ?? 22}`),
  );
}
