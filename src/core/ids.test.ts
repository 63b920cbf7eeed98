import assert from "node:assert/strict";
import { test } from "node:test";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { loadObject } from "../api/objects.js";
import { vertex } from "../solver/vertex.js";
import { Container, withExec } from "./container.js";
import { changeFs } from "./filesystem.js";
import { encodeId } from "./ids.js";
import { Service } from "./service.js";
import { Directory } from "./values.js";

const image = vertex({ kind: "image", ref: `127.0.0.1:5000/busybox@sha256:${"a".repeat(64)}`, platform: "linux/amd64" }, [], "from busybox");
const base = Container.empty("linux/amd64").with({ rootfs: image, imageRef: "busybox" });

/** `c = c.withDirectory("/a", c.directory("/b"))`, n times. */
function nested(n: number): Container {
  let c = base;
  for (let i = 0; i < n; i++) {
    const dir = new Directory(c.state.rootfs, "/b");
    const rootfs = changeFs(c.state.rootfs, [{ action: "copy", from: dir, dest: "/a" }], `withDirectory ${i}`);
    c = c.with({ rootfs });
  }
  return c;
}

/** An ID's JSON, edited and encoded again (a forged ID). */
function forge(obj: { typename: string; toJSON(): unknown }, edit: (json: { t: string; s: unknown; n?: unknown[][] }) => void): string {
  const body = Buffer.from(encodeId(obj).slice("tanto2.".length), "base64url");
  const json = JSON.parse(inflateRawSync(body).toString("utf8"));
  edit(json);
  return `tanto2.${deflateRawSync(JSON.stringify(json)).toString("base64url")}`;
}

test("a round trip keeps the recipe: same digests, same state", () => {
  const c = withExec(base.withEnvVariable("A", "1").withWorkdir("/w"), { args: ["echo", "hi"], expect: "SUCCESS" });
  const back = loadObject(encodeId(c), "Container") as Container;
  assert.equal(back.state.rootfs?.digest, c.state.rootfs?.digest);
  assert.equal(back.state.lastExec?.digest, c.state.lastExec?.digest);
  assert.deepEqual(back.state.env, ["A=1"]);
  assert.equal(back.state.workdir, "/w");
});

test("shared sub-recipes appear once: 50 nested withDirectory steps stay small", () => {
  const id = encodeId(nested(50));
  assert.ok(id.length < 64 * 1024, `ID is ${id.length} bytes`);
  const back = loadObject(id, "Container") as Container;
  assert.equal(back.state.rootfs?.digest, nested(50).state.rootfs?.digest);
  // Linear growth: 100 steps cost about twice 50.
  assert.ok(encodeId(nested(100)).length < id.length * 2.5);
});

test("a service's exec nested in a container's bindings survives the trip", () => {
  const svc = Service.ofContainer(withExec(base, { args: ["httpd", "-f"], expect: "SUCCESS" }).state.lastExec!, [{ port: 80, protocol: "TCP" }]);
  const c = withExec(base.with({ serviceBindings: [{ alias: "web", service: svc.spec }] }), { args: ["wget", "web"], expect: "SUCCESS" });
  const back = loadObject(encodeId(c), "Container") as Container;
  assert.equal(back.state.lastExec?.digest, c.state.lastExec?.digest);
  assert.equal(new Service(back.state.serviceBindings[0]!.service).digest, svc.digest);
});

test("corrupt and forged IDs get errors naming what is wrong", () => {
  const c = withExec(base, { args: ["true"], expect: "SUCCESS" });
  assert.throws(() => loadObject("nope"), /not an ID issued by a tanto engine/);
  assert.throws(() => loadObject("tanto2.@@@@"), /corrupt encoding/);
  assert.throws(() => loadObject(encodeId(c), "Directory"), /ID is a Container, expected a Directory/);
  assert.throws(() => loadObject(forge(c, (j) => (j.n![1]![0] = { ...(j.n![1]![0] as object), kind: "rm-rf" }))), /vertex 1: unknown op kind "rm-rf"/);
  assert.throws(
    () => loadObject(forge(c, (j) => (j.n![1]![0] = { ...(j.n![1]![0] as object), cwd: "relative" }))),
    /vertex 1 \(exec\): cwd: must be an absolute path/,
  );
  assert.throws(() => loadObject(forge(c, (j) => (j.n![1]![0] = { ...(j.n![1]![0] as object), args: "rm -rf /" }))), /vertex 1 \(exec\): args: /);
  assert.throws(() => loadObject(forge(c, (j) => (j.n![0]![1] = [5]))), /vertex 0: vertex reference 5 does not name an earlier vertex/);
  assert.throws(() => loadObject(forge(c, (j) => (j.n![0]![0] = { kind: "image", ref: "busybox:latest", platform: "linux/amd64" }))), /ref: must be pinned/);
  assert.throws(() => loadObject(forge(c, (j) => ((j.s as { env: unknown }).env = [1]))), /invalid Container ID: env.0: /);
  assert.throws(() => loadObject(forge(c, (j) => (j.t = "Bogus"))), /ID of unknown type "Bogus"/);
  assert.throws(() => loadObject(forge(c, (j) => ((j.s as Record<string, unknown>)["extra"] = 1))), /invalid Container ID: .*extra/);
});
