/**
 * Pulling multi-layer images through the engine: whiteouts, opaque
 * directories, a symlinked parent in a lower layer (Debian's merged /usr),
 * uncompressed layers, and the registry's errors.
 */

import assert from "node:assert/strict";
import { buffer } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import tar from "tar-stream";
import { CLI, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { busyboxLayer, pushImage, type TestLayer } from "./support/images.js";

type Entry = { name: string; type?: "file" | "directory" | "symlink"; content?: string; linkname?: string; mode?: number };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const done = buffer(pack);
  for (const e of entries) {
    const type = e.type ?? "file";
    pack.entry(
      { name: e.name, type, mode: e.mode ?? (type === "directory" ? 0o755 : 0o644), ...(e.linkname ? { linkname: e.linkname } : {}) },
      e.content ?? "",
    );
  }
  pack.finalize();
  return done;
}

async function query(engine: TestEngine, doc: string): Promise<{ code: number | null; data: unknown; stderr: string }> {
  const r = await run([CLI, "query", doc], { env: engine.env });
  return { code: r.code, data: r.code === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

describe("image layers", () => {
  let engine: TestEngine;
  let registry: string;

  before(async () => {
    registry = await testRegistry();
    engine = await startEngine({ registry });
    const base = await busyboxLayer();
    const middle: TestLayer = {
      compression: "none",
      tar: await tarOf([
        { name: "usr/", type: "directory" },
        { name: "usr/lib/", type: "directory" },
        { name: "lib", type: "symlink", linkname: "usr/lib" },
        { name: "etc/old", content: "old\n" },
        { name: "opq/", type: "directory" },
        { name: "opq/x", content: "x\n" },
        { name: "data/", type: "directory", mode: 0o750 },
      ]),
    };
    const top: TestLayer = {
      compression: "gzip",
      tar: await tarOf([
        { name: "lib/newfile", content: "new\n" },
        { name: "etc/.wh.old" },
        { name: "opq/", type: "directory" },
        { name: "opq/.wh..wh..opq" },
        { name: "opq/y", content: "y\n" },
        { name: "data/f", content: "f\n" },
      ]),
    };
    await pushImage(registry, ["layered:1"], [base, middle, top]);
  });
  after(() => engine.destroy());

  test("whiteouts, opaque directories and symlinked parents apply like Docker", async () => {
    const script = "test -L /lib && echo lib-is-link; cat /usr/lib/newfile; test -e /etc/old || echo old-gone; ls /opq; stat -c %a /data";
    const r = await query(
      engine,
      `{ container { from(address: "${registry}/layered:1") { withExec(args: ["sh", "-c", ${JSON.stringify(script)}]) { stdout } } } }`,
    );
    assert.equal(r.code, 0, r.stderr);
    const out = (r.data as { container: { from: { withExec: { stdout: string } } } }).container.from.withExec.stdout;
    assert.equal(out, "lib-is-link\nnew\nold-gone\ny\n750\n");
  });

  test("an unknown tag names the reference and the registry's answer", async () => {
    const r = await query(engine, `{ container { from(address: "${registry}/layered:nope") { id } } }`);
    assert.equal(r.code, 1);
    const message = r.stderr;
    assert.match(message, new RegExp(`${registry.replace(/\./g, "\\.")}/layered:nope`));
    assert.match(message, /manifest unknown/);
  });

  test("a registry that is down is named in the error", async () => {
    const r = await query(engine, `{ container { from(address: "127.0.0.1:1/x:1") { id } } }`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /127\.0\.0\.1:1/);
  });
});
