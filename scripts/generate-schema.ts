/**
 * Generates schema.json, the Pulumi package schema that `pulumi package add` turns into
 * an SDK for every language, from the TypeScript declarations themselves (TypeScript's
 * compiler API): each component class exported by index.ts, its constructor's `args`
 * interface and its public fields.
 *
 * - A field typed `pulumi.Input<T>` may be an Output; any other field is `plain: true`.
 * - Descriptions are the TSDoc text; `@default` and `@example` are appended to it. Every
 *   input must have a description, or generation fails.
 * - The const objects of components/enums.ts become string enum types.
 * - A field typed as a component class is a resource reference
 *   (`$ref: "#/resources/frr-nspawn:index:<Class>"`); an interface is an object type.
 * - Any other union fails generation, naming the field: no language could express it.
 *
 * `npm run schema` writes schema.json; tests/provider/schema.test.ts fails when the
 * committed file differs from what this generates.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "..");
const PKG = "frr-nspawn";
const COMPONENTS = ["FrrImage", "NspawnMachine", "BgpLoopback", "TorCumulus"];
/**
 * Fields of object types that carry keys or passwords (the SSH connection's): secret in
 * every language's SDK, and kept secret by the provider when the rest of the object is
 * not (see provider/provider.ts `revealed`).
 */
const SECRET_FIELDS: Record<string, string[]> = {
  Connection: ["password", "privateKey", "privateKeyPassword"],
  ProxyConnection: ["password", "privateKey", "privateKeyPassword"],
};

type Json = Record<string, unknown>;

/** TSDoc text for other languages: `{@link X}` becomes `X`. */
function untag(text: string): string {
  return text
    .replace(/\{@link\s+([^}|\s]+)\s*(?:\|\s*([^}]*?)\s*)?\}/g, (_, a, b) => b || a)
    .trim();
}

/** A schema property: a type (or $ref), its description, and whether it is plain. */
interface Property extends Json {
  description?: string;
}

class Generator {
  private readonly program: ts.Program;
  private readonly checker: ts.TypeChecker;
  readonly types: Record<string, Json> = {};
  readonly problems: string[] = [];

  constructor() {
    const config = ts.readConfigFile(path.join(ROOT, "tsconfig.build.json"), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
    this.program = ts.createProgram([path.join(ROOT, "index.ts")], parsed.options);
    this.checker = this.program.getTypeChecker();
  }

  /** The declaration an exported name of index.ts stands for. */
  private exported(name: string): ts.Declaration {
    const index = this.program.getSourceFile(path.join(ROOT, "index.ts"));
    const moduleSymbol = index && this.checker.getSymbolAtLocation(index);
    const symbol =
      moduleSymbol && this.checker.getExportsOfModule(moduleSymbol).find((s) => s.name === name);
    const target = symbol && this.resolve(symbol);
    const decl = target?.declarations?.[0];
    if (decl === undefined) {
      throw new Error(`index.ts does not export ${name}`);
    }
    return decl;
  }

  private resolve(symbol: ts.Symbol): ts.Symbol {
    return symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
  }

  /** TSDoc text of a symbol, with its @default and @example tags appended. */
  private describe(symbol: ts.Symbol): string {
    const text = untag(ts.displayPartsToString(symbol.getDocumentationComment(this.checker)));
    const parts = text === "" ? [] : [text];
    for (const tag of symbol.getJsDocTags(this.checker)) {
      const value = untag(ts.displayPartsToString(tag.text));
      if (tag.name === "default") {
        parts.push(`Default: ${value}.`);
      } else if (tag.name === "example") {
        parts.push(`Example: \`${value}\`.`);
      }
    }
    return parts.join("\n\n");
  }

  private fileOf(decl: ts.Node): string {
    return path.relative(ROOT, decl.getSourceFile().fileName);
  }

  /** The schema of one component resource. */
  resource(className: string): Json {
    const decl = this.exported(className);
    if (!ts.isClassDeclaration(decl)) {
      throw new Error(`${className} is not a class`);
    }
    const classSymbol = this.checker.getSymbolAtLocation(decl.name!)!;
    const ctor = decl.members.find(ts.isConstructorDeclaration);
    const argsParam = ctor?.parameters.find((p) => p.name.getText() === "args");
    if (argsParam?.type === undefined) {
      throw new Error(`${className}'s constructor has no typed args parameter`);
    }
    const argsType = this.checker.getTypeFromTypeNode(argsParam.type);
    const inputs = this.objectProperties(`${className}Args`, argsType);
    const outputs: Record<string, Property> = {};
    const required: string[] = [];
    for (const member of decl.members) {
      if (
        !ts.isPropertyDeclaration(member) ||
        member.type === undefined ||
        !(ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Public)
      ) {
        continue;
      }
      const name = member.name.getText();
      if (name === "name") {
        continue; // the resource's name: every SDK has it already
      }
      const symbol = this.checker.getSymbolAtLocation(member.name)!;
      const type = this.outputOf(member.type) ?? member.type;
      const { plain: _plain, ...prop } = this.shape(`${className}.${name}`, type, false);
      outputs[name] = { ...prop, ...this.doc(symbol) };
      if (!(
        ts.isUnionTypeNode(type) &&
        type.types.some((t) => t.kind === ts.SyntaxKind.UndefinedKeyword)
      )) {
        required.push(name);
      }
    }
    return {
      isComponent: true,
      description: this.describe(classSymbol),
      inputProperties: inputs.properties,
      requiredInputs: inputs.required,
      properties: outputs,
      required: required.sort(),
    };
  }

  private doc(symbol: ts.Symbol): Property {
    const description = this.describe(symbol);
    return description === "" ? {} : { description };
  }

  /** T of `pulumi.Output<T>`, or undefined. */
  private outputOf(node: ts.TypeNode): ts.TypeNode | undefined {
    if (ts.isTypeReferenceNode(node) && node.typeName.getText() === "pulumi.Output") {
      return node.typeArguments?.[0];
    }
    return undefined;
  }

  /** Properties (inherited ones too) of an interface, each with its schema. */
  private objectProperties(
    owner: string,
    type: ts.Type,
  ): { properties: Record<string, Property>; required: string[] } {
    const properties: Record<string, Property> = {};
    const required: string[] = [];
    for (const symbol of this.checker.getPropertiesOfType(type)) {
      const decl = symbol.valueDeclaration ?? symbol.declarations?.[0];
      if (decl === undefined || !ts.isPropertySignature(decl) || decl.type === undefined) {
        this.problems.push(`${owner}.${symbol.name}: not a typed property`);
        continue;
      }
      const where = `${owner}.${symbol.name}`;
      const prop: Property = { ...this.typeOf(where, decl.type), ...this.doc(symbol) };
      if (prop.description === undefined) {
        this.problems.push(`${where}: no TSDoc description (${this.fileOf(decl)})`);
      }
      properties[symbol.name] = prop;
      if (decl.questionToken === undefined) {
        required.push(symbol.name);
      }
    }
    return { properties, required: required.sort() };
  }

  /**
   * The schema of a type node: `pulumi.Input<T>` is T, not plain; anything else is plain.
   * Nested Inputs (`Input<Input<string>[]>`) make the items non-plain too.
   */
  private typeOf(where: string, node: ts.TypeNode): Property {
    if (ts.isTypeReferenceNode(node) && node.typeName.getText() === "pulumi.Input") {
      return this.shape(where, node.typeArguments![0], false);
    }
    return this.shape(where, node, true);
  }

  private shape(where: string, node: ts.TypeNode, plain: boolean): Property {
    const p = (schema: Property): Property => (plain ? { ...schema, plain: true } : schema);
    if (ts.isParenthesizedTypeNode(node)) {
      return this.shape(where, node.type, plain);
    }
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword:
        return p({ type: "string" });
      case ts.SyntaxKind.BooleanKeyword:
        return p({ type: "boolean" });
      case ts.SyntaxKind.NumberKeyword:
        return p({ type: "number" });
    }
    if (ts.isArrayTypeNode(node)) {
      return p({ type: "array", items: this.typeOf(where, node.elementType) });
    }
    if (ts.isUnionTypeNode(node)) {
      const rest = node.types.filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword);
      if (rest.length === 1) {
        return this.shape(where, rest[0], plain);
      }
      this.problems.push(`${where}: a union (${node.getText()}) has no schema type`);
      return {};
    }
    if (ts.isTypeReferenceNode(node) && node.typeName.getText() === "Record") {
      const [key, value] = node.typeArguments ?? [];
      if (key?.kind === ts.SyntaxKind.StringKeyword && value !== undefined) {
        return p({ type: "object", additionalProperties: this.typeOf(where, value) });
      }
    }
    if (ts.isTypeReferenceNode(node)) {
      const symbol = this.resolve(this.checker.getSymbolAtLocation(node.typeName)!);
      const decls = symbol.declarations ?? [];
      const decl =
        decls.find(ts.isTypeAliasDeclaration) ??
        decls.find(ts.isInterfaceDeclaration) ??
        decls.find(ts.isClassDeclaration);
      if (decl === undefined) {
        this.problems.push(`${where}: ${node.getText()} has no declaration`);
        return {};
      }
      const name = symbol.name.replace(/Args$/, "");
      if (ts.isClassDeclaration(decl) && COMPONENTS.includes(symbol.name)) {
        return p({ $ref: `#/resources/${PKG}:index:${symbol.name}` });
      }
      if (
        ts.isTypeAliasDeclaration(decl) &&
        this.fileOf(decl) === path.join("components", "enums.ts")
      ) {
        this.enumType(symbol);
        return p({ $ref: `#/types/${PKG}:index:${name}` });
      }
      if (ts.isInterfaceDeclaration(decl)) {
        this.objectType(name, symbol);
        return p({ $ref: `#/types/${PKG}:index:${name}` });
      }
    }
    this.problems.push(`${where}: ${node.getText()} has no schema type`);
    return {};
  }

  private objectType(name: string, symbol: ts.Symbol): void {
    const token = `${PKG}:index:${name}`;
    if (this.types[token] !== undefined) {
      return;
    }
    this.types[token] = {}; // placeholder: a type may refer to itself
    const { properties, required } = this.objectProperties(
      name,
      this.checker.getDeclaredTypeOfSymbol(symbol),
    );
    for (const field of SECRET_FIELDS[name] ?? []) {
      if (properties[field] === undefined) {
        this.problems.push(`${name}.${field}: listed as secret but not a field`);
      } else {
        properties[field].secret = true;
      }
    }
    const description = this.describe(symbol);
    this.types[token] = {
      type: "object",
      ...(description === "" ? {} : { description }),
      properties,
      ...(required.length > 0 ? { required } : {}),
    };
  }

  /** `export const X = { A: "a" } as const` (components/enums.ts) as a string enum type. */
  private enumType(alias: ts.Symbol): void {
    const token = `${PKG}:index:${alias.name}`;
    const value = alias.declarations
      ?.map((d) => d.getSourceFile())[0]
      ?.statements.filter(ts.isVariableStatement)
      .flatMap((s) => s.declarationList.declarations)
      .find((d) => d.name.getText() === alias.name);
    const init = value?.initializer;
    const literal = init && ts.isAsExpression(init) ? init.expression : init;
    if (literal === undefined || !ts.isObjectLiteralExpression(literal)) {
      this.problems.push(`${alias.name}: no const object beside the type`);
      return;
    }
    const constSymbol = this.checker.getSymbolAtLocation(value!.name)!;
    const description = this.describe(constSymbol);
    this.types[token] = {
      type: "string",
      ...(description === "" ? {} : { description }),
      enum: literal.properties.filter(ts.isPropertyAssignment).map((a) => ({
        name: a.name.getText(),
        value: (a.initializer as ts.StringLiteral).text,
      })),
    };
  }
}

/** The whole schema; throws listing every problem. */
export function generateSchema(): Json {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    version: string;
    description: string;
    license: string;
  };
  const gen = new Generator();
  const resources: Record<string, Json> = {};
  for (const name of COMPONENTS) {
    resources[`${PKG}:index:${name}`] = gen.resource(name);
  }
  if (gen.problems.length > 0) {
    throw new Error(`schema.json cannot be generated:\n  - ${gen.problems.join("\n  - ")}`);
  }
  const sorted = (o: Record<string, Json>) =>
    Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]]),
    );
  return {
    name: PKG,
    displayName: "frr-nspawn",
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    keywords: ["category/network", "kind/component", "frr", "bgp", "systemd-nspawn"],
    language: {
      nodejs: { packageName: PKG, respectSchemaVersion: true },
      python: { packageName: "frr_nspawn", respectSchemaVersion: true },
      csharp: { rootNamespace: "FrrNspawn", respectSchemaVersion: true },
      go: { importBasePath: "frr-nspawn/sdk/go/frrnspawn", respectSchemaVersion: true },
      java: { basePackage: "frrnspawn" },
    },
    resources,
    types: sorted(gen.types),
  };
}

/** The text of schema.json. */
export function schemaText(): string {
  return `${JSON.stringify(generateSchema(), null, 2)}\n`;
}

if (require.main === module) {
  fs.writeFileSync(path.join(ROOT, "schema.json"), schemaText());
  console.log("wrote schema.json");
}
