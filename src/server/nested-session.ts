/**
 * A nested session: the client that a container with privileged nesting
 * talks to. It has its own schema (the core, plus what it serves itself,
 * e.g. a module) and its own lifetime (the exec's), and borrows everything
 * else from the session whose query ran the exec: the client's host files
 * and exports, its secrets, its progress stream, its leases and services
 * (by the parent's id). Nested sessions nest: a parent may itself be nested.
 */
import type { Duplex } from "node:stream";
import type { SecretStore } from "../core/secrets.js";
import type { Session } from "../core/types.js";
import type { SyncResult } from "../hostsync/host-mirror.js";
import type { ClientHost, TunnelTarget } from "../http/client-host.js";
import type { ResolvedImage } from "../images/image-store.js";
import type { NestingSpec } from "../ops/nesting.js";
import type { BuiltSchema } from "../schema/build.js";
import { SessionSchema } from "../schema/session-schema.js";
import type { ProgressEvent } from "../solver/types.js";

export class NestedSession implements Session {
  readonly schema: SessionSchema;
  readonly #abort = new AbortController();
  readonly #signal: AbortSignal;
  /** What the nested client handed back for its exec (a function call's return value). */
  result: unknown;

  constructor(
    readonly parent: Session,
    coreSchema: () => BuiltSchema,
    /** What the exec attached to its nested client (`{}` for plain nesting). */
    readonly spec: NestingSpec,
    /** The exec's root filesystem, mounted while it runs (`currentModule.workdir` reads it). */
    readonly rootfs?: string,
  ) {
    this.schema = new SessionSchema(coreSchema);
    this.#signal = AbortSignal.any([parent.signal, this.#abort.signal]);
  }

  /** The root session's id: leases, services and names belong to the client's session. */
  get id(): string {
    return this.parent.id;
  }
  get tunnels(): Map<string, TunnelTarget> {
    return this.parent.tunnels;
  }
  get dials(): Map<string, (clientSide: Duplex) => void> {
    return this.parent.dials;
  }
  get host(): ClientHost {
    return this.parent.host;
  }
  /** A module's failing command opens its terminal on the client too (`tanto call -i`). */
  get interactive(): boolean {
    return this.parent.interactive === true;
  }
  get resolved(): Map<string, Promise<ResolvedImage>> {
    return this.parent.resolved;
  }
  get hostSyncs(): Map<string, Promise<SyncResult>> {
    return this.parent.hostSyncs;
  }
  get secrets(): SecretStore {
    return this.parent.secrets;
  }
  get clientKey(): string {
    return this.parent.clientKey;
  }
  get signal(): AbortSignal {
    return this.#signal;
  }

  progress(event: ProgressEvent): void {
    this.parent.progress(event);
  }

  /** The exec is over: cancel what only this client was waiting for. */
  end(): void {
    this.#abort.abort(new Error("the nested client's exec ended"));
  }
}
