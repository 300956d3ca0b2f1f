// Runs examples/seed (transpiled to ./seed.js) under the SDK's mocks in a project that
// installed the packed tarball, and prints every registration as one JSON line. Plain JS:
// it runs with the temporary project's own node_modules, nothing from the repository.
"use strict";
const pulumi = require("@pulumi/pulumi");

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
function unsecret(v) {
  if (Array.isArray(v)) return v.map(unsecret);
  if (v !== null && typeof v === "object") {
    if (v[SECRET_SIG] !== undefined) return unsecret(v.value);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unsecret(x)]));
  }
  return v;
}

const registrations = [];
pulumi.runtime.setMocks(
  {
    newResource: async (args) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      registrations.push({ type: args.type, name: args.name, inputs: unsecret(args.inputs) });
      const state = { ...args.inputs };
      if (args.type.startsWith("command:")) {
        state.stdout = args.name.endsWith("-build") ? process.env.FAKE_BUILD_STDOUT : "ok";
        state.stderr = "";
      }
      return { id: `${args.name}-id`, state };
    },
    call: () => ({}),
  },
  "project",
  "stack",
  false,
);
const config = JSON.parse(process.env.SEED_CONFIG);
pulumi.runtime.setAllConfig(
  Object.fromEntries(Object.entries(config.values).map(([k, v]) => [`project:${k}`, v])),
  config.secrets.map((k) => `project:${k}`),
);
require("./seed.js");

// Wait until no registration has arrived for a while, then report (nothing registered
// yet is not quiet: on a loaded machine the first registration can take a while).
const started = Date.now();
let seen = -1;
const timer = setInterval(() => {
  if (seen === registrations.length && (seen > 0 || Date.now() - started > 30000)) {
    clearInterval(timer);
    process.stdout.write(JSON.stringify(registrations) + "\n");
  }
  seen = registrations.length;
}, 200);
