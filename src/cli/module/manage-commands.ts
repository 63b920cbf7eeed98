/**
 * `tanto init`, `tanto develop` and `tanto install`: the module's source is
 * changed through the ModuleSource API (withName, withSDK,
 * withSourceSubpath, withIncludes, withEngineVersion, withDependencies) and
 * the engine's generated context directory is exported back to the host
 * through the session.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError, InvalidArgumentError, messageOf } from "../../errors.js";
import { withModuleSession, write } from "./call-command.js";
import { buildQuery, type Literal, type Step } from "./graphql.js";
import { findOrCreateLicense } from "./license.js";
import { moduleRef, sourceStep } from "./load.js";
import type { GraphQL } from "./session.js";

const LOCAL: [string, Literal] = ["requireKind", { enum: "LOCAL_SOURCE" }];
const exportTo = (dir: string): Step[] => [{ field: "generatedContextDirectory" }, { field: "export", args: [["path", dir]] }];

/** `.dagger` when the directory holds anything but dagger.json and hidden entries, else `.`. */
export async function inferSourcePath(srcRoot: string): Promise<string> {
  let entries: string[];
  try {
    entries = await fs.readdir(srcRoot);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return ".";
    throw err;
  }
  for (const name of entries) {
    if (name === "dagger.json") continue;
    if (name === ".dagger") return ".dagger";
    if (name.startsWith(".")) continue;
    return ".dagger";
  }
  return ".";
}

interface SourceInfo {
  configExists: boolean;
  localContextDirectoryPath: string;
  sourceRootSubpath: string;
}

/** One request for the fields every command reads first. */
async function sourceInfo(gql: GraphQL, base: Step, extra = ""): Promise<SourceInfo & Record<string, unknown>> {
  const data = await gql.query<{ moduleSource: SourceInfo & Record<string, unknown> }>(
    buildQuery([base], `configExists localContextDirectoryPath sourceRootSubpath ${extra}`.trim()),
  );
  return data.moduleSource;
}

export interface InitOptions {
  sdk?: string;
  name?: string;
  source?: string;
  include: string[];
  license: string;
  licenseSet: boolean;
}

export async function initCommand(target: string | undefined, opts: InitOptions): Promise<number> {
  return withModuleSession(async (gql) => {
    const cwd = process.cwd();
    let ref = target ?? cwd;
    if (path.isAbsolute(ref)) ref = path.relative(cwd, ref) || ".";
    const base = sourceStep(ref, [["disableFindUp", true], ["allowNotExists", true], LOCAL]);
    const info = await sourceInfo(gql, base);
    if (info.configExists) throw new FailedPreconditionError("module already exists");
    const srcRoot = path.join(info.localContextDirectoryPath, info.sourceRootSubpath);
    const name = opts.name ?? path.basename(srcRoot);
    let sourcePath = opts.source;
    if (opts.sdk) {
      sourcePath = sourcePath === undefined ? await inferSourcePath(srcRoot) : path.relative(srcRoot, path.resolve(cwd, sourcePath)) || ".";
    }
    const steps: Step[] = [base, { field: "withName", args: [["name", name]] }];
    if (opts.sdk) steps.push({ field: "withSDK", args: [["source", opts.sdk]] });
    if (sourcePath !== undefined) steps.push({ field: "withSourceSubpath", args: [["path", sourcePath]] });
    if (opts.include.length > 0) steps.push({ field: "withIncludes", args: [["patterns", opts.include]] });
    steps.push({ field: "withEngineVersion", args: [["version", "latest"]] }, ...exportTo(info.localContextDirectoryPath));
    try {
      await gql.select(steps);
    } catch (err) {
      throw new FailedPreconditionError(`failed to generate code: ${messageOf(err)}`, { cause: err });
    }
    if (opts.sdk) await findOrCreateLicense(srcRoot, opts.license, !opts.licenseSet);
    await write(process.stdout, `Initialized module ${name} in ${srcRoot}\n`);
    return 0;
  });
}

export interface DevelopOptions {
  sdk?: string;
  source?: string;
  mod?: string;
  license: string;
  licenseSet: boolean;
}

export async function developCommand(opts: DevelopOptions): Promise<number> {
  return withModuleSession(async (gql) => {
    const cwd = process.cwd();
    const base = sourceStep(moduleRef({ mod: opts.mod, noMod: false })!, [LOCAL]);
    const info = await sourceInfo(gql, base, "sourceSubpath sdk { source }");
    const srcRoot = path.join(info.localContextDirectoryPath, info.sourceRootSubpath);
    const steps: Step[] = [base, { field: "withEngineVersion", args: [["version", "latest"]] }];
    let sdk = (info["sdk"] as { source?: string } | null)?.source ?? "";
    if (opts.sdk) {
      if (sdk !== "" && sdk !== opts.sdk) throw new FailedPreconditionError(`cannot update module SDK that has already been set to ${JSON.stringify(sdk)}`);
      sdk = opts.sdk;
      steps.push({ field: "withSDK", args: [["source", sdk]] });
    }
    const currentSource = (info["sourceSubpath"] as string | null) ?? "";
    let sourcePath = opts.source === undefined ? undefined : path.resolve(cwd, opts.source);
    if (sdk !== "" && currentSource === "" && sourcePath === undefined) sourcePath = path.join(srcRoot, await inferSourcePath(srcRoot));
    if (sdk === "" && sourcePath === undefined) throw new InvalidArgumentError("tanto develop on a module without an SDK requires either --sdk or --source");
    if (sourcePath !== undefined) {
      const rel = path.relative(srcRoot, sourcePath) || ".";
      if (currentSource !== "" && currentSource !== rel)
        throw new FailedPreconditionError(`cannot update module source path that has already been set to ${JSON.stringify(currentSource)}`);
      steps.push({ field: "withSourceSubpath", args: [["path", rel]] });
    }
    try {
      await gql.select([...steps, ...exportTo(info.localContextDirectoryPath)]);
    } catch (err) {
      throw new FailedPreconditionError(`failed to generate code: ${messageOf(err)}`, { cause: err });
    }
    if (opts.sdk) await findOrCreateLicense(srcRoot, opts.license, !opts.licenseSet);
    return 0;
  });
}

export async function installCommand(depRef: string, opts: { name?: string; mod?: string }): Promise<number> {
  return withModuleSession(async (gql) => {
    try {
      const base = sourceStep(moduleRef({ mod: opts.mod, noMod: false })!, [LOCAL]);
      const info = await sourceInfo(gql, base);
      if (!info.configExists) throw new FailedPreconditionError("module must be fully initialized");
      const dep: Step[] = [sourceStep(depRef, [["disableFindUp", true]])];
      await gql.select([...dep, { field: "moduleName" }]);
      if (opts.name !== undefined) dep.push({ field: "withName", args: [["name", opts.name]] });
      const depId = String(await gql.select([...dep, { field: "id" }]));
      await gql.select([
        base,
        { field: "withDependencies", args: [["dependencies", [depId]]] },
        { field: "withEngineVersion", args: [["version", "latest"]] },
        ...exportTo(info.localContextDirectoryPath),
      ]);
      return 0;
    } catch (err) {
      throw new FailedPreconditionError(`failed to install module: ${messageOf(err)}`, { cause: err });
    }
  });
}
