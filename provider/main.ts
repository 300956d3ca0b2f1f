/**
 * The provider plugin's entry point: package.json "main" (the library itself is
 * "exports", so `require("frr-nspawn")` never reaches this file).
 *
 * How it is started (pulumi v3.248.0, sdk/nodejs/cmd/pulumi-language-nodejs/main.go,
 * `nodeLanguageHost.RunPlugin`): for a plugin with PulumiPlugin.yaml `runtime: nodejs`,
 * the language host has already run `npm install` in the package directory
 * (`InstallDependencies` → `installShared`, which builds bin/ through `prepare`), then
 * runs `node <@pulumi/pulumi/cmd/run-plugin> <package directory> <engine address>`;
 * run-plugin (`run` in cmd/run-plugin/run.js) `require`s the directory — its "main",
 * this file — and, because this module exports no ComponentResource classes, does not
 * start `componentProviderHost` but awaits what the module does: serve our provider.
 */
import * as pulumi from "@pulumi/pulumi";
import { FrrNspawnProvider } from "./provider";

void pulumi.provider.main(new FrrNspawnProvider(), process.argv.slice(2));
