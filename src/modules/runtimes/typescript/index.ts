/** The TypeScript SDK runtime: `typescriptRuntime` implements SdkRuntime (../types.ts). */
export { findRuntimeTarball, runtimeTarballCandidates, TYPESCRIPT_RUNTIME_FILE, typescriptBase } from "./base-image.js";
export { TypescriptRuntime, typescriptRuntime } from "./runtime.js";
export { VCS_GENERATED_PATHS, VCS_IGNORED_PATHS } from "./sdk-files.js";
