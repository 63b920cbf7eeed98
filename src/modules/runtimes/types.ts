/**
 * What the module engine needs from an SDK's runtime: the files `init` and
 * `develop` write, and the container that runs the module's code. The engine
 * runs that container with its entrypoint and privileged nesting (workdir
 * /scratch), once to register the module's types and once per function call.
 */
import type { Container } from "../../core/container.js";
import type { RequestContext } from "../../core/types.js";
import type { Directory } from "../../core/values.js";

export interface ModuleInfo {
  /** The name in dagger.json. */
  readonly name: string;
  readonly originalName: string;
  /** The code directory relative to the context directory ("." or e.g. ".dagger"). */
  readonly sourceSubpath: string;
  /** The context: the git root holding the module, or its source root. */
  readonly contextDirectory: Directory;
  readonly sdkConfig?: Readonly<Record<string, unknown>>;
}

export interface SdkRuntime {
  /**
   * Files written under the source subpath (sdk/**, package.json, tsconfig.json, and a starter
   * src/index.ts when the module has no .ts file yet), given Dagger's introspection JSON.
   */
  generatedFiles(ctx: RequestContext, mod: ModuleInfo, introspectionJson: string): Promise<Directory>;
  /** The container that runs the module's code (registration and calls). */
  runtime(ctx: RequestContext, mod: ModuleInfo, introspectionJson: string): Promise<Container>;
}
