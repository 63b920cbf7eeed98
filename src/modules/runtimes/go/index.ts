/** The Go SDK runtime: `goRuntime` implements SdkRuntime (../types.ts). */
export { findGoRuntimeTarball, GO_RUNTIME_FILE, goBase, goCodegenSources } from "./base-image.js";
export { GoRuntime, goRuntime } from "./runtime.js";
