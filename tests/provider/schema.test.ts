/**
 * schema.json is generated from the TypeScript Args (scripts/generate-schema.ts) and
 * committed: these tests fail when it is stale, and check what every language's SDK
 * relies on.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { schemaText } from "../../scripts/generate-schema";
import { Compression, Distribution, FrrPackageSource, SettingsMode, TorCli } from "../../index";

const ROOT = path.join(__dirname, "..", "..");

interface Property {
  $ref?: string;
  type?: string;
  plain?: boolean;
  description?: string;
  items?: Property;
}
interface Schema {
  version: string;
  resources: Record<
    string,
    {
      isComponent: boolean;
      description: string;
      inputProperties: Record<string, Property>;
      requiredInputs: string[];
      properties: Record<string, Property>;
    }
  >;
  types: Record<
    string,
    {
      type: string;
      properties?: Record<string, Property>;
      enum?: { name: string; value: string }[];
    }
  >;
}

describe("schema.json", () => {
  const committed = fs.readFileSync(path.join(ROOT, "schema.json"), "utf8");
  const schema = JSON.parse(committed) as Schema;

  it("is what scripts/generate-schema.ts generates from the Args today (run `npm run schema`)", () => {
    assert.equal(committed, schemaText());
  });

  it("has the package's version", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    assert.equal(schema.version, pkg.version);
  });

  it("lists the four components, every input documented", () => {
    assert.deepEqual(Object.keys(schema.resources).sort(), [
      "frr-nspawn:index:BgpLoopback",
      "frr-nspawn:index:FrrImage",
      "frr-nspawn:index:NspawnMachine",
      "frr-nspawn:index:TorCumulus",
    ]);
    const undocumented: string[] = [];
    for (const [token, r] of Object.entries(schema.resources)) {
      assert.ok(r.isComponent && r.description.length > 0, token);
      for (const [name, p] of Object.entries(r.inputProperties)) {
        if ((p.description ?? "").trim() === "") undocumented.push(`${token}.${name}`);
      }
    }
    for (const [token, t] of Object.entries(schema.types)) {
      for (const [name, p] of Object.entries(t.properties ?? {})) {
        if ((p.description ?? "").trim() === "") undocumented.push(`${token}.${name}`);
      }
    }
    assert.deepEqual(undocumented, []);
  });

  it("has the enums of components/enums.ts as string enum types, with the same values", () => {
    const enums = { Compression, Distribution, FrrPackageSource, SettingsMode, TorCli };
    for (const [name, values] of Object.entries(enums)) {
      assert.deepEqual(
        schema.types[`frr-nspawn:index:${name}`].enum,
        Object.entries(values).map(([k, v]) => ({ name: k, value: v })),
        name,
      );
    }
  });

  it("keeps the shapes: references to FrrImage and NspawnMachine, plain fields that decide steps", () => {
    const image = schema.resources["frr-nspawn:index:NspawnMachine"].inputProperties.image;
    assert.deepEqual(
      { $ref: image.$ref, plain: image.plain },
      {
        $ref: "#/types/frr-nspawn:index:NspawnImage",
        plain: true,
      },
    );
    assert.deepEqual(
      schema.types["frr-nspawn:index:NspawnImage"].properties?.frrImage.$ref,
      "#/resources/frr-nspawn:index:FrrImage",
    );
    const machine = schema.resources["frr-nspawn:index:BgpLoopback"].inputProperties.machine;
    assert.deepEqual(
      { $ref: machine.$ref, plain: machine.plain },
      {
        $ref: "#/resources/frr-nspawn:index:NspawnMachine",
        plain: true,
      },
    );
    const plainInputs = Object.entries(schema.resources).flatMap(([token, r]) =>
      Object.entries(r.inputProperties)
        .filter(([, p]) => p.plain === true)
        .map(([name]) => `${token.split(":")[2]}.${name}`),
    );
    for (const field of [
      "BgpLoopback.machine",
      "BgpLoopback.verify",
      "FrrImage.builder",
      "FrrImage.compression",
      "FrrImage.distribution",
      "FrrImage.frr",
      "FrrImage.localSudo",
      "NspawnMachine.image",
      "NspawnMachine.settings",
      "TorCumulus.cli",
    ]) {
      assert.ok(plainInputs.includes(field), `${field} is not plain in ${plainInputs.join(", ")}`);
    }
    // A value that may be an Output elsewhere is never plain.
    assert.equal(
      schema.resources["frr-nspawn:index:TorCumulus"].inputProperties.asn.plain,
      undefined,
    );
    assert.equal(
      schema.resources["frr-nspawn:index:TorCumulus"].inputProperties.asn.type,
      "number",
    );
  });
});
