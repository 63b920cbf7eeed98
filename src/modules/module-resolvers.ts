/** Resolvers of Module, ModuleSource, CurrentModule and FunctionCall, and the Query fields that make them. */
import * as path from "node:path";
import type { GraphQLResolveInfo } from "graphql";
import { loadObject } from "../api/objects.js";
import { type Args, bool, optStr, str, strList } from "../api/resolvers/args.js";
import { readFileAt } from "../core/evaluate.js";
import { Changeset, type ErrorObject } from "../core/extra-values.js";
import type { RequestContext } from "../core/types.js";
import { Directory } from "../core/values.js";
import { EngineError, FailedPreconditionError, InvalidArgumentError } from "../errors.js";
import { SCHEMA_VERSION } from "../schema/schema-version.js";
import { runtimeContainer } from "./call.js";
import { parseModuleConfig } from "./config.js";
import { currentTypeDefs } from "./current-typedefs.js";
import { generatedContextDirectory, schemaFile } from "./generated.js";
import { moduleIntrospectionJson } from "./introspection.js";
import { checkNoCycle, loadLocalContext, resolveSource, sourceSubpath, withDigest } from "./module-source.js";
import { asModule } from "./register.js";
import { requireModuleClient, serveModule, setOutcome } from "./served.js";
import { jsonText } from "./typedef-resolvers.js";
import type { TypeDefData } from "./typedefs.js";
import { dirOf, type ErrorData, type FunctionCallData, loadValue, type ModuleData, ModValue, refOf, type SourceData, type SourceKind } from "./values.js";
import { workdirDirectory, workdirFile } from "./workdir.js";

type V<T> = ModValue<T>;
const mod = (m: ModuleData): V<ModuleData> => new ModValue("Module", m);
const src = (s: SourceData): V<SourceData> => new ModValue("ModuleSource", withDigest(s));
const id = (x: V<unknown>): string => x.id;
const typeDefs = (ts: TypeDefData[]) => ts.map((t) => new ModValue("TypeDef", t));
/** ModuleSourceKind as sent: `LOCAL` and `LOCAL_SOURCE` name the same kind. */
const sourceKindArg = (k: string): SourceKind => (k.endsWith("_SOURCE") ? k : `${k}_SOURCE`) as SourceKind;
const emptyModule = (): ModuleData => ({ name: "", originalName: "", description: "", objects: [], interfaces: [], enums: [], dependencies: [] });
const typeDefArg = (a: Args, k: string): TypeDefData => loadValue<TypeDefData>(a[k], "TypeDef").data;

/** A source's config changed: the context of a local source is loaded again (its includes may have changed). */
async function reconfigured(ctx: RequestContext, s: SourceData, config: SourceData["config"]): Promise<V<SourceData>> {
  const next: SourceData = { ...s, config };
  if (s.kind === "LOCAL_SOURCE" && s.localContextPath && (config.source !== s.config.source || config.include !== s.config.include)) {
    try {
      next.context = refOf(await loadLocalContext(ctx, s.localContextPath, next));
    } catch (err) {
      // A module that `init` is about to create has no directory on the client yet: its context stays empty.
      if (!(err instanceof EngineError && err.code === "NOT_FOUND") || s.configExists) throw err;
    }
  }
  return src(next);
}

export const moduleQueryResolvers = {
  module: () => mod(emptyModule()),
  moduleSource: async (_: unknown, a: Args, ctx: RequestContext) =>
    src(
      await resolveSource(ctx, str(a, "refString"), {
        refPin: optStr(a, "refPin") ?? "",
        disableFindUp: bool(a, "disableFindUp"),
        allowNotExists: bool(a, "allowNotExists"),
        ...(optStr(a, "requireKind") ? { requireKind: sourceKindArg(optStr(a, "requireKind")!) } : {}),
      }),
    ),
  currentModule: (_: unknown, _a: Args, ctx: RequestContext) => new ModValue("CurrentModule", requireModuleClient(ctx, "currentModule").module),
  currentFunctionCall: (_: unknown, _a: Args, ctx: RequestContext) => new ModValue("FunctionCall", requireModuleClient(ctx, "currentFunctionCall").call),
  currentTypeDefs: (_: unknown, a: Args, ctx: RequestContext, info: GraphQLResolveInfo) =>
    typeDefs(currentTypeDefs(ctx, info.schema, bool(a, "returnAllTypes"), bool(a, "hideCore"))),
};

/** A Directory as a module source: DIR_SOURCE, rooted at `sourceRootPath`. */
async function dirSource(ctx: RequestContext, d: Directory, a: Args): Promise<SourceData> {
  const rootSubpath = path.posix.normalize(optStr(a, "sourceRootPath") ?? ".");
  const text = await readFileAt(ctx, d.source, path.posix.join(d.path, rootSubpath, "dagger.json"));
  return withDigest({
    kind: "DIR_SOURCE",
    refString: rootSubpath,
    context: refOf(d),
    rootSubpath,
    configExists: true,
    config: parseModuleConfig(text.toString("utf8")),
    dependencies: [],
    digest: "",
  });
}

export const moduleDirectoryResolvers = {
  asModuleSource: async (d: Directory, a: Args, ctx: RequestContext) => src(await dirSource(ctx, d, a)),
  asModule: async (d: Directory, a: Args, ctx: RequestContext) => mod(await asModule(ctx, await dirSource(ctx, d, a))),
};

export const moduleResolvers = {
  Module: {
    id,
    name: (m: V<ModuleData>) => m.data.name,
    description: (m: V<ModuleData>) => m.data.description,
    sdk: (m: V<ModuleData>) => (m.data.sdk ? new ModValue("SDKConfig", { source: m.data.sdk, debug: m.data.source?.config.sdk?.debug ?? false }) : null),
    source: (m: V<ModuleData>) => (m.data.source ? src(m.data.source) : null),
    objects: (m: V<ModuleData>) => typeDefs(m.data.objects),
    interfaces: (m: V<ModuleData>) => typeDefs(m.data.interfaces),
    enums: (m: V<ModuleData>) => typeDefs(m.data.enums),
    dependencies: (m: V<ModuleData>) => m.data.dependencies.map(mod),
    runtime: (m: V<ModuleData>, _a: Args, ctx: RequestContext) => (m.data.sdk ? runtimeContainer(ctx, m.data) : null),
    introspectionSchemaJSON: async (m: V<ModuleData>, _a: Args, ctx: RequestContext) => schemaFile(await moduleIntrospectionJson(ctx, m.data)),
    generatedContextDirectory: (m: V<ModuleData>, _a: Args, ctx: RequestContext) => {
      if (!m.data.source) throw new FailedPreconditionError(`module ${JSON.stringify(m.data.name)} has no source`);
      return generatedContextDirectory(ctx, m.data.source, m.data);
    },
    serve: (m: V<ModuleData>, a: Args, ctx: RequestContext) => {
      serveModule(ctx, m.data, bool(a, "includeDependencies"));
      return null;
    },
    sync: (m: V<ModuleData>) => m.id,
    withDescription: (m: V<ModuleData>, a: Args) => mod({ ...m.data, description: str(a, "description") }),
    withObject: (m: V<ModuleData>, a: Args) => {
      const t = typeDefArg(a, "object");
      if (!t.object) throw new InvalidArgumentError(`withObject: the TypeDef is a ${t.kind}, not an object`);
      return mod({ ...m.data, objects: [...m.data.objects, t] });
    },
    withInterface: (m: V<ModuleData>, a: Args) => {
      const t = typeDefArg(a, "iface");
      if (!t.iface) throw new InvalidArgumentError(`withInterface: the TypeDef is a ${t.kind}, not an interface`);
      return mod({ ...m.data, interfaces: [...m.data.interfaces, t] });
    },
    withEnum: (m: V<ModuleData>, a: Args) => {
      const t = typeDefArg(a, "enum");
      if (!t.enumDef) throw new InvalidArgumentError(`withEnum: the TypeDef is a ${t.kind}, not an enum`);
      return mod({ ...m.data, enums: [...m.data.enums, t] });
    },
  },
  SDKConfig: { id, source: (s: V<{ source: string }>) => s.data.source, debug: (s: V<{ debug: boolean }>) => s.data.debug },
  ModuleSource: {
    id,
    kind: (s: V<SourceData>) => s.data.kind,
    configExists: (s: V<SourceData>) => s.data.configExists,
    moduleName: (s: V<SourceData>) => s.data.config.name,
    moduleOriginalName: (s: V<SourceData>) => s.data.originalName ?? s.data.config.name,
    engineVersion: (s: V<SourceData>) => s.data.config.engineVersion || (s.data.configExists ? "v0.9.9" : ""),
    sdk: (s: V<SourceData>) =>
      s.data.config.sdk ? new ModValue("SDKConfig", { source: s.data.config.sdk.source, debug: s.data.config.sdk.debug ?? false }) : null,
    dependencies: (s: V<SourceData>) => s.data.dependencies.map(src),
    sourceRootSubpath: (s: V<SourceData>) => s.data.rootSubpath,
    sourceSubpath: (s: V<SourceData>) => (s.data.config.sdk || s.data.config.source ? sourceSubpath(s.data) : ""),
    contextDirectory: (s: V<SourceData>) => dirOf(s.data.context),
    directory: (s: V<SourceData>, a: Args) => {
      const d = dirOf(s.data.context);
      return new Directory(d.source, path.posix.join(d.path, s.data.rootSubpath, str(a, "path")));
    },
    digest: (s: V<SourceData>) => s.data.digest,
    asString: (s: V<SourceData>) => s.data.refString,
    pin: (s: V<SourceData>) => s.data.git?.commit ?? "",
    commit: (s: V<SourceData>) => s.data.git?.commit ?? "",
    version: (s: V<SourceData>) => s.data.git?.version ?? "",
    cloneRef: (s: V<SourceData>) => s.data.git?.url ?? "",
    htmlRepoURL: (s: V<SourceData>) => s.data.git?.htmlRepoUrl ?? "",
    localContextDirectoryPath: (s: V<SourceData>) => s.data.localContextPath ?? "",
    withName: (s: V<SourceData>, a: Args) => src({ ...s.data, config: { ...s.data.config, name: str(a, "name") } }),
    withSDK: (s: V<SourceData>, a: Args, ctx: RequestContext) => {
      const source = str(a, "source");
      return reconfigured(ctx, s.data, {
        ...s.data.config,
        ...(source ? { sdk: { ...s.data.config.sdk, source } } : {}),
        ...(source && s.data.config.source === undefined ? { source: "." } : {}),
      });
    },
    withSourceSubpath: (s: V<SourceData>, a: Args, ctx: RequestContext) => {
      const p = path.posix.normalize(str(a, "path"));
      if (p.split("/").includes("..")) throw new InvalidArgumentError(`source subpath ${JSON.stringify(p)} may not leave the module's directory`);
      return reconfigured(ctx, s.data, { ...s.data.config, source: p });
    },
    withIncludes: (s: V<SourceData>, a: Args, ctx: RequestContext) =>
      reconfigured(ctx, s.data, { ...s.data.config, include: [...(s.data.config.include ?? []), ...strList(a, "patterns")] }),
    withEngineVersion: (s: V<SourceData>, a: Args) => {
      const v = str(a, "version");
      return src({ ...s.data, config: { ...s.data.config, engineVersion: v === "latest" || v === "" ? SCHEMA_VERSION : v } });
    },
    withDependencies: (s: V<SourceData>, a: Args) => {
      const deps = strList(a, "dependencies").map((x) => loadValue<SourceData>(x, "ModuleSource").data);
      checkNoCycle(s.data, deps);
      const entries = [...(s.data.config.dependencies ?? [])];
      const resolved = [...s.data.dependencies];
      for (const d of deps) {
        const name = d.config.name;
        const source = d.kind === "GIT_SOURCE" ? d.refString : dependencyPath(s.data, d);
        const entry = { name, source, ...(d.git?.commit ? { pin: d.git.commit } : {}) };
        const at = entries.findIndex((e) => e.name === name);
        if (at >= 0) {
          entries[at] = entry;
          resolved[at] = d;
        } else {
          entries.push(entry);
          resolved.push(d);
        }
      }
      return src({ ...s.data, config: { ...s.data.config, dependencies: entries }, dependencies: resolved });
    },
    withoutDependencies: (s: V<SourceData>, a: Args) => {
      const drop = new Set(strList(a, "dependencies"));
      const keep = (s.data.config.dependencies ?? [])
        .map((e, i) => ({ e, d: s.data.dependencies[i] }))
        .filter(({ e }) => !drop.has(e.name) && !drop.has(e.source));
      return src({ ...s.data, config: { ...s.data.config, dependencies: keep.map((k) => k.e) }, dependencies: keep.flatMap((k) => (k.d ? [k.d] : [])) });
    },
    generatedContextDirectory: (s: V<SourceData>, _a: Args, ctx: RequestContext) => generatedContextDirectory(ctx, s.data, undefined),
    /** What `develop` writes: the context directory against itself with the generated files. */
    generatedContextChangeset: async (s: V<SourceData>, _a: Args, ctx: RequestContext) =>
      new Changeset(dirOf(s.data.context), await generatedContextDirectory(ctx, s.data, undefined)),
    introspectionSchemaJSON: async (s: V<SourceData>, _a: Args, ctx: RequestContext) => {
      const m: ModuleData = {
        ...emptyModule(),
        name: s.data.config.name,
        originalName: s.data.config.name,
        source: s.data,
        dependencies: await Promise.all(s.data.dependencies.map((d) => asModule(ctx, d))),
      };
      return schemaFile(await moduleIntrospectionJson(ctx, m));
    },
    asModule: async (s: V<SourceData>, _a: Args, ctx: RequestContext) => mod(await asModule(ctx, s.data)),
    sync: (s: V<SourceData>) => s.id,
  },
  CurrentModule: {
    id,
    name: (m: V<ModuleData>) => m.data.name,
    source: (m: V<ModuleData>) => {
      const s = m.data.source;
      if (!s) return new Directory(undefined, "/");
      const d = dirOf(s.context);
      return new Directory(d.source, path.posix.join(d.path, sourceSubpath(s)));
    },
    dependencies: (m: V<ModuleData>) => m.data.dependencies.map(mod),
    workdir: (m: V<ModuleData>, a: Args, ctx: RequestContext) =>
      workdirDirectory(ctx, m.data.name, str(a, "path"), { include: strList(a, "include"), exclude: strList(a, "exclude"), gitignore: bool(a, "gitignore") }),
    workdirFile: (m: V<ModuleData>, a: Args, ctx: RequestContext) => workdirFile(ctx, m.data.name, str(a, "path")),
  },
  FunctionCall: {
    id,
    name: (c: V<FunctionCallData>) => c.data.name,
    parentName: (c: V<FunctionCallData>) => c.data.parentName,
    parent: (c: V<FunctionCallData>) => c.data.parent,
    inputArgs: (c: V<FunctionCallData>) => c.data.inputArgs.map((x) => new ModValue("FunctionCallArgValue", x)),
    returnValue: (_c: V<FunctionCallData>, a: Args, ctx: RequestContext) => {
      setOutcome(requireModuleClient(ctx, "returnValue").session, { value: jsonText(a["value"]) });
      return null;
    },
    returnError: (_c: V<FunctionCallData>, a: Args, ctx: RequestContext) => {
      const e = loadObject(str(a, "error"), "Error") as unknown as ErrorObject;
      const error: ErrorData = { message: e.message, values: e.values.map(([name, value]) => ({ name, value })) };
      setOutcome(requireModuleClient(ctx, "returnError").session, { error });
      return null;
    },
  },
  FunctionCallArgValue: { id, name: (v: V<{ name: string }>) => v.data.name, value: (v: V<{ value: string }>) => v.data.value },
};

/** A local dependency's path relative to the dependent's dagger.json directory. */
function dependencyPath(parent: SourceData, dep: SourceData): string {
  if (!parent.localContextPath || !dep.localContextPath) return dep.refString;
  const from = path.posix.join(parent.localContextPath, parent.rootSubpath);
  const to = path.posix.join(dep.localContextPath, dep.rootSubpath);
  return path.posix.relative(from, to) || ".";
}
