/** The terminal's frames over a real socket pair: split and merged chunks, each kind of frame, a malformed stream. */
import assert from "node:assert/strict";
import * as net from "node:net";
import { describe, it } from "node:test";
import { ClientTerminal, encodeFrame, FRAME, FrameChannel, resizePayload } from "./terminal-protocol.js";

async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  const other = await accepted;
  server.close();
  return [client, other];
}

describe("terminal protocol", () => {
  it("carries keys, sizes, output and the exit code; frames survive any chunking", async () => {
    const [clientSide, engineSide] = await socketPair();
    const engine = new ClientTerminal(engineSide, { rows: 24, cols: 80, term: "xterm" });
    const keys: string[] = [];
    const sizes: Array<[number, number]> = [];
    engine.onResize((cols, rows) => sizes.push([cols, rows]));
    // Bytes one at a time: the reader must reassemble frames.
    const frames = Buffer.concat([encodeFrame(FRAME.STDIN, Buffer.from("ls\r")), encodeFrame(FRAME.RESIZE, resizePayload(120, 40))]);
    for (const b of frames) clientSide.write(Buffer.from([b]));
    await new Promise((r) => setTimeout(r, 100));
    // Keys typed before anyone listened were kept.
    engine.onInput((d) => keys.push(d.toString()));
    assert.deepEqual(keys, ["ls\r"]);
    assert.deepEqual(sizes, [[120, 40]]);

    const seen: Array<[number, string]> = [];
    new FrameChannel(clientSide, (type, payload) => {
      seen.push([type, type === FRAME.EXIT ? String(payload.readInt32BE(0)) : payload.toString()]);
      if (type === FRAME.EXIT) clientSide.end();
    });
    engine.write("hello ");
    engine.write(Buffer.from("world"));
    await engine.close(42);
    assert.deepEqual(seen, [
      [FRAME.OUTPUT, "hello "],
      [FRAME.OUTPUT, "world"],
      [FRAME.EXIT, "42"],
    ]);
  });

  it("hangs up on a frame too large to be ours", async () => {
    const [a, b] = await socketPair();
    const closed = new Promise<void>((resolve) => b.once("close", () => resolve()));
    b.on("error", () => undefined);
    new FrameChannel(b, () => assert.fail("no frame expected"));
    const head = Buffer.alloc(5);
    head.writeUInt8(FRAME.STDIN, 0);
    head.writeUInt32BE(64 << 20, 1);
    a.on("error", () => undefined);
    a.write(head);
    await closed;
    a.destroy();
  });
});
