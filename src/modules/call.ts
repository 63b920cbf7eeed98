/**
 * Running a module function (core/modfunc.go): the SDK's runtime container,
 * run with its entrypoint and privileged nesting; the exec carries the
 * module and the call, which its nested session serves as
 * `currentModule`/`currentFunctionCall`. What the SDK hands to
 * `returnValue` comes back in the exec's result, so a cached call is
 * answered without running anything. The registration call is a call like
 * any other (name "", parentName "").
 */
import { randomBytes } from "node:crypto";
import { type Container, withExec } from "../core/container.js";
import { execResult } from "../core/evaluate.js";
import type { RequestContext, Session } from "../core/types.js";
import { Directory } from "../core/values.js";
import { EngineError, ExecError, FailedPreconditionError, messageOf } from "../errors.js";
import { vertex } from "../solver/vertex.js";
import { moduleIntrospectionJson } from "./introspection.js";
import { sourceSubpath } from "./module-source.js";
import { sdkRuntime } from "./runtimes/registry.js";
import type { ModuleInfo } from "./runtimes/types.js";
import { durationSeconds } from "./typedefs.js";
import { dirOf, type ErrorData, type FunctionCallData, type ModuleData } from "./values.js";

/** What a nested client hands back for its exec (NestedSession.result). */
export type CallOutcome = { value: string } | { error: ErrorData };

/** An error a function returned with returnError: its message, and its values as extensions. */
export class FunctionError extends EngineError {
  readonly extensions: Record<string, unknown>;
  constructor(data: ErrorData) {
    super(data.message, { code: "FAILED_PRECONDITION" });
    this.extensions = Object.fromEntries(data.values.map((v) => [v.name, safeParse(v.value)]));
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function moduleInfo(mod: ModuleData): ModuleInfo {
  const s = mod.source;
  return {
    name: mod.name,
    originalName: mod.originalName,
    sourceSubpath: s ? sourceSubpath(s) : ".",
    contextDirectory: s ? dirOf(s.context) : new Directory(undefined, "/"),
    ...(s?.config.sdk?.config ? { sdkConfig: s.config.sdk.config } : {}),
  };
}

const runtimes = new WeakMap<Session, Map<string, Promise<Container>>>();

/** The module's runtime container (once per session and module source). */
export function runtimeContainer(ctx: RequestContext, mod: ModuleData): Promise<Container> {
  const sdk = mod.sdk ?? mod.source?.config.sdk?.source;
  if (!sdk) return Promise.reject(new FailedPreconditionError(`module ${JSON.stringify(mod.name)} has no SDK: set "sdk" in dagger.json`));
  let m = runtimes.get(ctx.session);
  if (!m) runtimes.set(ctx.session, (m = new Map()));
  const key = `${mod.name}|${mod.source?.digest ?? ""}`;
  let p = m.get(key);
  if (!p) {
    p = (async () => {
      const runtime = await sdkRuntime(sdk);
      return runtime.runtime(ctx, moduleInfo(mod), await moduleIntrospectionJson(ctx, mod));
    })();
    m.set(key, p);
    p.catch(() => m.delete(key));
  }
  return p;
}

export interface CallCaching {
  policy: "Default" | "PerSession" | "Never";
  ttl?: string;
}

/** Run one call of `mod` and return what the SDK returned (parsed JSON). */
export async function callModule(ctx: RequestContext, mod: ModuleData, call: FunctionCallData, caching: CallCaching): Promise<unknown> {
  const runtime = await runtimeContainer(ctx, mod);
  const args = [...runtime.state.entrypoint, ...runtime.state.defaultArgs];
  if (args.length === 0) throw new FailedPreconditionError(`the runtime of module ${JSON.stringify(mod.name)} has no entrypoint`);
  const key: Record<string, unknown> = {};
  if (caching.policy === "PerSession") key["session"] = ctx.session.id;
  if (caching.policy === "Never") key["nonce"] = randomBytes(16).toString("hex");
  if (caching.policy === "Default" && caching.ttl) {
    const ttl = durationSeconds(caching.ttl) * 1000;
    key["expires"] = Math.floor(Date.now() / ttl);
  }
  const exec = withExec(runtime.with({ workdir: "/scratch" }), { args, expect: "SUCCESS", nesting: { module: mod, call, ...key } });
  const what = call.name === "" ? (call.parentName === "" ? "register module" : "call constructor") : `call function ${JSON.stringify(call.name)}`;
  // Progress shows the call, not the runtime's command line (the name is outside the digest).
  const label = call.parentName === "" ? `${mod.name}: register` : `${mod.name}: ${call.parentName}.${call.name || "constructor"}`;
  const last = exec.state.lastExec!;
  const ran = exec.with({ lastExec: vertex(last.op, last.inputs, label) });
  let outcome: CallOutcome | undefined;
  try {
    outcome = (await execResult(ctx, ran)).nested as CallOutcome | undefined;
  } catch (err) {
    const returned = (err as { nested?: CallOutcome }).nested;
    if (returned && "error" in returned) throw new FunctionError(returned.error);
    if (err instanceof ExecError) {
      const detail = [err.stderr.trim(), err.stdout.trim()].filter(Boolean).join("\n");
      throw new EngineError(`${what}: ${err.message}${detail ? `\n${detail}` : ""}`, { cause: err, code: "FAILED_PRECONDITION" });
    }
    throw new EngineError(`${what}: ${messageOf(err)}`, { cause: err, code: (err as EngineError).code ?? "INTERNAL" });
  }
  if (!outcome) {
    throw new FailedPreconditionError(
      call.name === "" && call.parentName === ""
        ? `module ${JSON.stringify(mod.name)}: the SDK registered no types`
        : `function ${JSON.stringify(call.name)} completed without returning a value`,
    );
  }
  if ("error" in outcome) throw new FunctionError(outcome.error);
  return JSON.parse(outcome.value);
}
