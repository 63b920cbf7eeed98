/**
 * What a session serves beyond the core: modules added by `Module.serve`
 * (a client) or by the engine for a module's own runtime (a nested client:
 * its dependencies, and itself once registered), and for a nested client
 * the function call it runs. The schema grows through the session's
 * SessionSchema; the rest is kept here, by session.
 */
import type { RequestContext, Session } from "../core/types.js";
import { FailedPreconditionError, InvalidArgumentError } from "../errors.js";
import type { SchemaPart } from "../schema/types.js";
import type { CallOutcome } from "./call.js";
import { conversionParts, noteServed } from "./interfaces.js";
import { servedParts } from "./serve.js";
import type { FunctionCallData, ModuleData } from "./values.js";

/** The parts of a session the modules layer uses (EngineSession and NestedSession have them). */
interface ExtensibleSession extends Session {
  readonly schema: { extend(...parts: SchemaPart[]): void };
}

/** A nested client's session: what its exec attached, and where its answer goes. */
export interface ModuleClientSession extends ExtensibleSession {
  readonly spec: Readonly<Record<string, unknown>>;
  result: unknown;
}

const served = new WeakMap<Session, Map<string, ModuleData>>();
/** Per session, the `Object.Interface` pairs whose conversion field is served. */
const converted = new WeakMap<Session, Set<string>>();

export function servedModules(session: Session): ModuleData[] {
  return [...(served.get(session)?.values() ?? [])];
}

function serveOn(session: ExtensibleSession, mods: readonly ModuleData[]): void {
  let m = served.get(session);
  if (!m) served.set(session, (m = new Map()));
  for (const mod of mods) {
    const have = m.get(mod.name);
    if (have) {
      if ((have.source?.digest ?? "") !== (mod.source?.digest ?? "")) {
        throw new FailedPreconditionError(`a module named ${JSON.stringify(mod.name)} is already served in this session, from another source`);
      }
      continue;
    }
    m.set(mod.name, mod);
    session.schema.extend(...servedParts(mod));
  }
  noteServed(session, m);
  let done = converted.get(session);
  if (!done) converted.set(session, (done = new Set()));
  session.schema.extend(...conversionParts([...m.values()], done));
}

/** `Module.serve`: the module (and its direct dependencies) join the calling client's schema. */
export function serveModule(ctx: RequestContext, mod: ModuleData, includeDependencies: boolean): void {
  const session = ctx.session as Partial<ExtensibleSession>;
  if (!session.schema) throw new FailedPreconditionError("this session cannot serve modules");
  if (!mod.registered && mod.objects.length === 0 && !includeDependencies) return;
  serveOn(session as ExtensibleSession, [...(mod.objects.length > 0 ? [mod] : []), ...(includeDependencies ? mod.dependencies : [])]);
}

/** The module and call a nested client runs, if it runs one. */
export function moduleClient(ctx: RequestContext): { session: ModuleClientSession; module: ModuleData; call: FunctionCallData } | undefined {
  const session = ctx.session as Partial<ModuleClientSession>;
  const spec = session.spec as { module?: ModuleData; call?: FunctionCallData } | undefined;
  if (!spec?.module || !spec.call) return undefined;
  return { session: session as ModuleClientSession, module: spec.module, call: spec.call };
}

export function requireModuleClient(ctx: RequestContext, field: string): NonNullable<ReturnType<typeof moduleClient>> {
  const c = moduleClient(ctx);
  if (!c) throw new InvalidArgumentError(`${field} is only available to a module's code (in a function call's nested session)`);
  return c;
}

/**
 * Prepares a nested session when it opens: a module's runtime sees the
 * module's dependencies and, once registered, the module itself.
 */
export function configureNestedSession(session: ModuleClientSession): void {
  const spec = session.spec as { module?: ModuleData };
  const mod = spec.module;
  if (!mod) return;
  serveOn(session, [...mod.dependencies.filter((d) => d.objects.length > 0), ...(mod.registered && mod.objects.length > 0 ? [mod] : [])]);
}

export function setOutcome(session: ModuleClientSession, outcome: CallOutcome): void {
  if (session.result !== undefined) throw new FailedPreconditionError("the function call already returned");
  session.result = outcome;
}
