/**
 * SDK runtimes by the name in dagger.json's `sdk.source`. Built-in ones live
 * in runtimes/<name>/index.ts and export `<name>Runtime` (or `sdkRuntime`); they are found by name
 * at run time, so the engine builds without any of them. An engine may also
 * be given runtimes from outside its tree, as ES modules exporting
 * `sdkRuntime`: TANTO_SDK_RUNTIMES="name=/abs/path.mjs[,name2=…]".
 */
import { FailedPreconditionError, messageOf } from "../../errors.js";
import type { SdkRuntime } from "./types.js";

const loaded = new Map<string, Promise<SdkRuntime>>();

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
  const builtin = /^[a-z][a-z0-9-]*$/.test(sdk) ? new URL(`./${sdk}/index.js`, import.meta.url).href : undefined;
  const where = extra ?? builtin;
  if (!where) throw new FailedPreconditionError(`unknown SDK ${JSON.stringify(sdk)}`);
  let mod: Record<string, SdkRuntime | undefined>;
  try {
    mod = (await import(where)) as typeof mod;
  } catch (err) {
    throw new FailedPreconditionError(`SDK ${JSON.stringify(sdk)} is not supported by this engine (${messageOf(err)})`);
  }
  const runtime = mod["sdkRuntime"] ?? mod[`${sdk.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())}Runtime`] ?? mod["default"];
  if (!runtime || typeof runtime.runtime !== "function") throw new FailedPreconditionError(`SDK ${JSON.stringify(sdk)}: ${where} exports no sdkRuntime`);
  return runtime;
}
