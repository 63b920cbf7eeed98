/**
 * Serving the engine's calls to this client (see http/session-protocol.ts).
 * Each kind of call loads its code on first use: a session that never lends
 * files, a terminal or Docker does not pay for loading them (a `tanto query`
 * is over in tens of milliseconds).
 */
import { EngineError, messageOf } from "../errors.js";
import type { CallEvent, ReadFilesParams, StatTreeParams, TunnelDialParams, TunnelListenParams, WriteParams } from "../http/session-protocol.js";
import type { TerminalAttachParams } from "../http/terminal-protocol.js";
import type { EngineClient } from "./engine-client.js";
import type { TerminalHooks } from "./terminal.js";
import { dialTunnel, listenTunnel } from "./tunnels.js";

const hostFiles = (): Promise<typeof import("./host-files.js")> => import("./host-files.js");
const dockerImages = (): Promise<typeof import("./docker-images.js")> => import("./docker-images.js");

export async function serveCall(engine: EngineClient, sessionId: string, workdir: string, call: CallEvent, hooks: TerminalHooks = {}): Promise<void> {
  try {
    switch (call.method) {
      case "host.statTree":
        return await engine.replyCall(sessionId, call.id, { json: await (await hostFiles()).statTree(workdir, call.params as StatTreeParams) });
      case "host.readFiles":
        return await engine.replyCall(sessionId, call.id, { stream: (await hostFiles()).readFiles(call.params as ReadFilesParams) });
      case "host.findUp":
        return await engine.replyCall(sessionId, call.id, {
          json: { path: await (await hostFiles()).findUp(workdir, (call.params as { name: string }).name) },
        });
      case "tunnel.listen":
        return await engine.replyCall(sessionId, call.id, { json: await listenTunnel(engine, sessionId, call.params as TunnelListenParams) });
      case "tunnel.dial":
        await dialTunnel(engine, sessionId, call.params as TunnelDialParams);
        return await engine.replyCall(sessionId, call.id, { json: {} });
      case "terminal.attach":
        return await engine.replyCall(sessionId, call.id, {
          json: await (await import("./terminal.js")).attachTerminal(engine, sessionId, call.params as TerminalAttachParams, hooks),
        });
      case "secret.resolve":
        return await engine.replyCall(sessionId, call.id, {
          json: { value: await (await import("./secrets.js")).resolveSecretUri(workdir, (call.params as { uri: string }).uri) },
        });
      case "host.write": {
        const { writeExport } = await hostFiles();
        const input = await engine.callInput(sessionId, call.id);
        let written: string;
        try {
          written = await writeExport(workdir, call.params as WriteParams, input);
        } finally {
          // Not read to the end (the write failed): hang up so the engine stops sending.
          if (!input.complete) input.destroy();
        }
        return await engine.replyCall(sessionId, call.id, { json: { path: written } });
      }
      case "docker.save":
        return await engine.replyCall(sessionId, call.id, { stream: await (await dockerImages()).dockerSave((call.params as { name: string }).name) });
      case "docker.load": {
        const { dockerLoad } = await dockerImages();
        const input = await engine.callInput(sessionId, call.id);
        let output: string;
        try {
          output = await dockerLoad(input);
        } finally {
          if (!input.complete) input.destroy();
        }
        return await engine.replyCall(sessionId, call.id, { json: { output } });
      }
      default:
        return await engine.replyCall(sessionId, call.id, { error: `this client does not support "${call.method}"` });
    }
  } catch (err) {
    const code = err instanceof EngineError ? err.code : "INTERNAL";
    await engine.replyCall(sessionId, call.id, { error: messageOf(err), code }).catch(() => undefined);
  }
}
