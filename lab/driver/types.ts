// Shared types for the lab driver: a stand-in for the Pulumi engine plus the
// @pulumi/command 1.2.1 provider, run under the Node SDK's mock monitor.

/** A JSON value as stored in the state file. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type Operation = "up" | "preview" | "destroy";

/** What a resource gets in this run. */
export type PlanAction = "create" | "update" | "replace" | "delete" | "same";

/** Options the engine sees in the RegisterResourceRequest. */
export interface ResourceOptions {
  /** All dependencies the SDK sent (explicit dependsOn, expanded for components, plus input dependencies). */
  dependencies: string[];
  /** Dependencies that come from `dependsOn` only (dependencies not attributable to any input property). */
  dependsOn: string[];
  /** Per-input-property dependencies. */
  propertyDependencies: Record<string, string[]>;
  deleteBeforeReplace: boolean;
  replaceOnChanges: string[];
  additionalSecretOutputs: string[];
  /** `protect` (a component's is copied to its children by the SDK). */
  protect?: boolean;
  retainOnDelete?: boolean;
  /** URN of the resource whose deletion deletes this one. */
  deletedWith?: string;
  ignoreChanges?: string[];
  /** customTimeouts in seconds (0: none). */
  customTimeouts?: { create: number; update: number; delete: number };
}

/** One resource as kept in the state file. */
export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  /** Parent URN ("" for the root stack). */
  parent: string;
  custom: boolean;
  id: string;
  /** Inputs with secrets unwrapped and assets flattened (see values.ts). */
  inputs: JsonObject;
  /** Top-level input keys whose value was secret. */
  secretInputs: string[];
  /** Outputs the provider added (stdout/stderr for commands). */
  outputs: JsonObject;
  secretOutputs: string[];
  options: ResourceOptions;
  /**
   * Its delete-before-replace delete ran and the create has not succeeded yet: the next run
   * replaces it without deleting again, and removing it from the program runs no delete.
   */
  pendingReplacement?: boolean;
  /** Registration sequence number (monotonic across runs; the last run that registered it wins). */
  order: number;
}

export interface StateFile {
  version: 1;
  project: string;
  stack: string;
  nextOrder: number;
  resources: Record<string, ResourceState>;
  /** Old versions of replaced resources whose delete has not run yet (create-before-delete). */
  pendingDeletes: ResourceState[];
}

/** One command (or copy) the driver actually executed. */
export interface StepRecord {
  op: "create" | "update" | "delete";
  type: string;
  name: string;
  urn: string;
  /** Set when the step is one half of a replacement. */
  replacement?: boolean;
  exitCode: number | null;
  durationMs: number;
  ok: boolean;
}

export interface PlanRecord {
  action: PlanAction;
  type: string;
  name: string;
  urn: string;
  custom: boolean;
  /** Top-level inputs that differ (update/replace). */
  diff?: string[];
  /** The provider's Check of a custom resource: "passed", or "failed" (see Summary.diagnostics). */
  check?: "passed" | "failed";
  /** The old URN when the resource was found under an alias. */
  aliasOf?: string;
  /** A delete that runs nothing: the resource is retained (retainOnDelete) or deleted with another. */
  noop?: "retainOnDelete" | "deletedWith" | "pendingReplacement";
  /**
   * Preview only: the command texts as a user reads them in the preview (secret inputs as
   * "[secret]", unknown ones as "[unknown]", secure config values masked).
   */
  scripts?: Record<string, string>;
}

export interface Summary {
  operation: Operation;
  ok: boolean;
  ran: number;
  steps: StepRecord[];
  plan: PlanRecord[];
  /** The engine's error diagnostics (failed Check, protected resources, …), filtered. */
  diagnostics: string[];
  error?: string;
}
