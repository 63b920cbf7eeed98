/**
 * Privileged nesting, as the exec op sees it: a container whose process may
 * talk to the engine as a client of its own (an SDK inside the container).
 *
 * The exec op knows only this interface. Once the container's network
 * namespace is known and before its process starts, it asks the host for a
 * nested client; the client's environment (DAGGER_SESSION_PORT,
 * DAGGER_SESSION_TOKEN) goes to the process; when the process has ended, or
 * failed, or was cancelled, the client is closed, which stops whatever
 * listened in the namespace and revokes the token.
 *
 *   const nested = await host.open({ netnsPath: ns.path, ctx, spec: op.nesting });
 *   try { run with [...env, ...nested.env] } finally { result = nested.result(); await nested.close(); }
 */
import type { SolveContext } from "../solver/types.js";

/**
 * What the exec vertex says about its nested client, as JSON: `{}` for plain
 * nesting; a module function call puts its module and call here (so they
 * are part of the exec's cache key).
 */
export type NestingSpec = Readonly<Record<string, unknown>>;

export interface NestedClient {
  /** `NAME=value` entries for the process. */
  readonly env: readonly string[];
  /** What the nested client handed back for the exec (a function call's return value), if anything. */
  result(): unknown;
  /** Stop listening in the namespace and revoke the token; idempotent. */
  close(): Promise<void>;
}

export interface NestingHost {
  /** `rootfs`: the container's root filesystem as mounted for the run (a module reads its workdir there). */
  open(req: { netnsPath: string; rootfs: string; ctx: SolveContext; spec: NestingSpec; signal?: AbortSignal }): Promise<NestedClient>;
}
