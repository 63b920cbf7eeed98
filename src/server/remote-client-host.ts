/** ClientHost over a session's calls: each method is one call to the client. */
import { randomBytes } from "node:crypto";
import type { Duplex, Readable } from "node:stream";
import { UnavailableError } from "../errors.js";
import type { ClientHost } from "../http/client-host.js";
import type {
  ReadFilesParams,
  StatTreeParams,
  StatTreeResult,
  TunnelDialParams,
  TunnelListenParams,
  TunnelListenResult,
  WriteParams,
} from "../http/session-protocol.js";
import { ClientTerminal, type TerminalAttachParams, type TerminalAttachResult } from "../http/terminal-protocol.js";
import type { ClientCalls } from "./client-calls.js";

export class RemoteClientHost implements ClientHost {
  constructor(
    private readonly calls: ClientCalls,
    /** Upgrades from the client waited for, by id (the terminal's connection is one). */
    private readonly dials: Map<string, (clientSide: Duplex) => void>,
  ) {}

  statTree(params: StatTreeParams, signal?: AbortSignal): Promise<StatTreeResult> {
    return this.calls.callJson<StatTreeResult>("host.statTree", params, signal ? { signal } : {});
  }

  async readFiles(params: ReadFilesParams, signal?: AbortSignal): Promise<{ tar: Readable; done(error?: Error): void }> {
    const reply = await this.calls.call("host.readFiles", params, signal ? { signal } : {});
    return { tar: reply.body, done: (error) => reply.finish(error) };
  }

  listenTunnel(params: TunnelListenParams, signal?: AbortSignal): Promise<TunnelListenResult> {
    return this.calls.callJson<TunnelListenResult>("tunnel.listen", params, signal ? { signal } : {});
  }

  async dial(params: TunnelDialParams, signal?: AbortSignal): Promise<void> {
    await this.calls.callJson<unknown>("tunnel.dial", params, signal ? { signal } : {});
  }

  async resolveSecret(uri: string, signal?: AbortSignal): Promise<string> {
    const { value } = await this.calls.callJson<{ value: string }>("secret.resolve", { uri }, signal ? { signal } : {});
    return value;
  }

  async loadImage(archive: Readable, signal?: AbortSignal): Promise<string> {
    const { output } = await this.calls.callJson<{ output: string }>("docker.load", {}, { input: archive, ...(signal ? { signal } : {}) });
    return output;
  }

  async saveImage(name: string, signal?: AbortSignal): Promise<{ tar: Readable; done(error?: Error): void }> {
    const reply = await this.calls.call("docker.save", { name }, signal ? { signal } : {});
    return { tar: reply.body, done: (error) => reply.finish(error) };
  }

  async findUp(name: string, signal?: AbortSignal): Promise<string | null> {
    const { path } = await this.calls.callJson<{ path: string | null }>("host.findUp", { name }, signal ? { signal } : {});
    return path;
  }

  async write(params: WriteParams, tar: Readable, signal?: AbortSignal): Promise<string> {
    const { path } = await this.calls.callJson<{ path: string }>("host.write", params, { input: tar, ...(signal ? { signal } : {}) });
    return path;
  }

  async openTerminal(signal?: AbortSignal): Promise<ClientTerminal> {
    const id = randomBytes(8).toString("hex");
    let socket: Duplex | undefined;
    this.dials.set(id, (s) => {
      socket = s;
    });
    try {
      // The client connects before it answers: once the call returns, the connection is here.
      const size = await this.calls.callJson<TerminalAttachResult>("terminal.attach", { id } satisfies TerminalAttachParams, signal ? { signal } : {});
      if (!socket) throw new UnavailableError("the client answered terminal.attach without connecting its terminal");
      return new ClientTerminal(socket, size);
    } catch (err) {
      socket?.destroy();
      throw err;
    } finally {
      this.dials.delete(id);
    }
  }
}
