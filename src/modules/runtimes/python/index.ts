/** The Python SDK runtime: `pythonRuntime` implements SdkRuntime (../types.ts). */
export { findPythonTarball, PYTHON_RUNTIME_FILE, pythonBase, pythonTarballCandidates } from "./base-image.js";
export { PythonRuntime, pythonRuntime } from "./runtime.js";
export { VCS_GENERATED_PATHS, VCS_IGNORED_PATHS } from "./sdk-files.js";
