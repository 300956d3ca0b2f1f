/**
 * Runs components under the real Pulumi SDK with mocks that record every registration
 * (type, name, parent, inputs) in the order the SDK makes them.
 */
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";

/** One registration seen by the mocks. */
export interface Registration {
  type: string;
  name: string;
  /** The parent's type, read from its URN ("" for top-level resources). */
  parentType: string;
  /** URNs this resource depends on (dependsOn and Output dependencies), as the engine gets them. */
  dependencies: string[];
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
  custom: boolean;
  inputs: Record<string, unknown>;
  /** Top-level inputs that arrived marked secret. */
  secretInputs: string[];
  /** The inputs as the engine gets them (serialized: an asset is its signature and path). */
  wire: Record<string, unknown>;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** True for a value the SDK sent wrapped as a secret. */
export function isSecret(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270"
  );
}

/** Unwraps secret markers so that tests can read inputs. */
export function unsecret(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(unsecret);
  }
  if (typeof value === "object" && value !== null) {
    const v = value as Record<string, unknown>;
    if (isSecret(v)) {
      return unsecret(v.value);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unsecret(x)]));
  }
  return value;
}

/** A build result line as the image build script prints it. */
export const FAKE_IMAGE_RESULT = {
  imagePath: "/var/lib/frr-nspawn/images/0123456789abcdef/frr-image.tar.gz",
  sha256: "a".repeat(64),
  sizeBytes: 70000000,
  frrVersion: "8.4.4",
  recipeHash: "b".repeat(64),
};

/** What the SDK's registration request carries beyond what the mocks see. */
interface RequestOptions {
  parent: string;
  dependencies: string[];
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
  wire: Record<string, unknown>;
}

/** The URN the mock monitor gives a resource (same rule as the SDK's mocks). */
export function typeOfUrn(urn: string): string {
  return urn === "" ? "" : (urn.split("::")[2]?.split("$").pop() ?? "");
}

export class Recorder {
  readonly registrations: Registration[] = [];
  private readonly requests = new Map<string, RequestOptions>();

  /**
   * Wraps the mock monitor so that each registration's parent, dependencies and
   * options are kept: the mocks' newResource does not get them.
   */
  private watchRequests(): void {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const monitor = settings.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    monitor.registerResource = (req: any, callback: unknown) => {
      this.requests.set(`${req.getType()}::${req.getName()}`, {
        parent: req.getParent(),
        dependencies: req.getDependenciesList(),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        wire: (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
      });
      return register(req, callback);
    };
  }

  /** Installs the mocks; `preview` makes outputs the provider would compute unknown. */
  install(preview = false): void {
    this.registrations.length = 0;
    void pulumi.runtime.setMocks(
      {
        newResource: async (args: pulumi.runtime.MockResourceArgs) => {
          // Async, as the engine is: dependents must wait for this to return.
          await new Promise((resolve) => setTimeout(resolve, 1));
          const req = this.requests.get(`${args.type}::${args.name}`);
          this.registrations.push({
            type: args.type,
            name: args.name,
            parentType: typeOfUrn(req?.parent ?? ""),
            dependencies: req?.dependencies ?? [],
            deleteBeforeReplace: req?.deleteBeforeReplace ?? false,
            additionalSecretOutputs: req?.additionalSecretOutputs ?? [],
            wire: req?.wire ?? {},
            custom: args.custom ?? true,
            inputs: unsecret(args.inputs) as Record<string, unknown>,
            secretInputs: Object.entries(args.inputs as Record<string, unknown>)
              .filter(([, v]) => isSecret(v))
              .map(([k]) => k),
          });
          const state: Record<string, unknown> = { ...args.inputs };
          if (!preview && args.type.startsWith("command:")) {
            state.stdout = args.name.endsWith("-build")
              ? `FRR_NSPAWN_IMAGE ${JSON.stringify(FAKE_IMAGE_RESULT)}`
              : "ok";
            state.stderr = "";
          }
          return { id: `${args.name}-id`, state };
        },
        call: () => ({}),
      },
      "project",
      "stack",
      preview,
    );
    this.requests.clear();
    this.watchRequests();
  }

  /** Registrations of command resources (the steps), in order. */
  steps(): Registration[] {
    return this.registrations.filter((r) => r.type.startsWith("command:"));
  }

  byName(name: string): Registration {
    const found = this.registrations.find((r) => r.name === name);
    if (found === undefined) {
      throw new Error(
        `no registration named ${name}; saw ${this.registrations.map((r) => r.name).join(", ")}`,
      );
    }
    return found;
  }

  /**
   * Waits until no new registration has arrived for `quietMs`. With `firstWithinMs`, it
   * first waits up to that long for a first registration: on a loaded machine the first
   * one can take longer than `quietMs` to arrive (loading a program, say), and nothing
   * registered yet would look quiet.
   */
  async settle(quietMs = 100, firstWithinMs = 0): Promise<void> {
    for (let waited = 0; this.registrations.length === 0 && waited < firstWithinMs; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    let count = -1;
    while (count !== this.registrations.length) {
      count = this.registrations.length;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
    }
  }
}

/** The value of an Output (undefined if unknown, as in preview). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const o = output as any;
    Promise.all([o.promise(), o.isKnown]).then(
      ([v, known]) => resolve(known ? v : undefined),
      reject,
    );
  });
}
