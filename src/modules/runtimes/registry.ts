/**
 * SDK runtimes by the name in dagger.json's `sdk.source`. Built-in ones live
 * in runtimes/<name>/index.ts and export `<name>Runtime` (or `sdkRuntime`); each is loaded on
 * first use (an engine that runs no module never loads one). An engine may also
 * be given runtimes from outside its tree, as ES modules exporting
 * `sdkRuntime`: TANTO_SDK_RUNTIMES="name=/abs/path.mjs[,name2=…]".
 */
import { FailedPreconditionError, messageOf } from "../../errors.js";
import { importModule } from "../../util/dynamic-import.js";
import type { SdkRuntime } from "./types.js";

type RuntimeModule = Record<string, SdkRuntime | undefined>;

const loaded = new Map<string, Promise<SdkRuntime>>();

/** Literal imports, so that a bundler (scripts/bundle.mjs) carries them along. */
const BUILTIN: Readonly<Record<string, () => Promise<unknown>>> = {
  typescript: () => import("./typescript/index.js"),
  python: () => import("./python/index.js"),
  go: () => import("./go/index.js"),
};

function extraRuntimes(): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of (process.env["TANTO_SDK_RUNTIMES"] ?? "").split(",")) {
    const eq = item.indexOf("=");
    if (eq > 0) out.set(item.slice(0, eq).trim(), item.slice(eq + 1).trim());
  }
  return out;
}

/** The runtime of SDK `name` ("typescript", or a name given in TANTO_SDK_RUNTIMES). */
export function sdkRuntime(name: string): Promise<SdkRuntime> {
  const sdk = name.replace(/@.*$/, "");
  let p = loaded.get(sdk);
  if (!p) {
    p = load(sdk);
    loaded.set(sdk, p);
    p.catch(() => loaded.delete(sdk));
  }
  return p;
}

async function load(sdk: string): Promise<SdkRuntime> {
  const extra = extraRuntimes().get(sdk);
  if (extra === undefined && !/^[a-z][a-z0-9-]*$/.test(sdk)) throw new FailedPreconditionError(`unknown SDK ${JSON.stringify(sdk)}`);
  const where = extra ?? `./${sdk}/index.js`;
  const importer = extra !== undefined ? () => importModule(extra) : Object.hasOwn(BUILTIN, sdk) ? BUILTIN[sdk] : undefined;
  let mod: RuntimeModule;
  try {
    if (!importer) throw new Error(`no built-in runtime "${sdk}"`);
    mod = (await importer()) as RuntimeModule;
  } catch (err) {
    throw new FailedPreconditionError(`SDK ${JSON.stringify(sdk)} is not supported by this engine (${messageOf(err)})`);
  }
  const runtime = mod["sdkRuntime"] ?? mod[`${sdk.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())}Runtime`] ?? mod["default"];
  if (!runtime || typeof runtime.runtime !== "function") throw new FailedPreconditionError(`SDK ${JSON.stringify(sdk)}: ${where} exports no sdkRuntime`);
  return runtime;
}
