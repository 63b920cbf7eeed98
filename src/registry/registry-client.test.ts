import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { startRegistry, type TestRegistry } from "../../test/support/registry.js";
import { LocalContentStore } from "../content/local-content-store.js";
import { FailedPreconditionError, NotFoundError, UnavailableError } from "../errors.js";
import { type Digest, sha256 } from "../oci/digest.js";
import { type Descriptor, encodeJson, type ImageConfig, type Index, type Manifest } from "../oci/image.js";
import { MediaType } from "../oci/media-types.js";
import { parsePlatform } from "../oci/platform.js";
import { formatReference, parseReference, type Reference, withDigest } from "../oci/reference.js";
import { RegistryClient } from "./registry-client.js";

let registry: TestRegistry;
let dir: string;
const cleanups: Array<() => unknown> = [];

before(async () => {
  registry = await startRegistry();
  dir = await mkdtemp(path.join(tmpdir(), "tanto-registry-client-"));
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let storeCount = 0;
async function newStore(): Promise<LocalContentStore> {
  return LocalContentStore.open(path.join(dir, `store-${storeCount++}`));
}

function newClient(opts: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient {
  const client = new RegistryClient(opts);
  cleanups.push(() => client.close());
  return client;
}

async function putBlob(store: LocalContentStore, bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
  const digest = await store.put(bytes);
  return { mediaType, digest, size: bytes.length };
}

interface TestImage {
  layer: Descriptor;
  manifestBytes: Buffer;
  manifestDigest: Digest;
  config: Descriptor;
}

/** Build a one-layer image for `architecture` in `store` and push it, by tag or by digest. */
async function pushImage(client: RegistryClient, store: LocalContentStore, ref: Reference, architecture: string, layer?: Descriptor): Promise<TestImage> {
  const layerDesc = layer ?? (await putBlob(store, randomBytes(3000), MediaType.ociLayer));
  const config: ImageConfig = {
    architecture,
    os: "linux",
    ...(architecture === "arm64" ? { variant: "v8" } : {}),
    config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["/bin/sh"], WorkingDir: "/" },
    rootfs: { type: "layers", diff_ids: [layerDesc.digest] },
  };
  const configDesc = await putBlob(store, encodeJson(config), MediaType.ociConfig);
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers: [layerDesc] };
  const manifestBytes = encodeJson(manifest);
  for (const d of [layerDesc, configDesc]) await client.pushBlob(ref, d, store);
  const manifestDigest = await client.pushManifest(ref, manifestBytes, MediaType.ociManifest);
  assert.equal(manifestDigest, sha256(manifestBytes));
  return { layer: layerDesc, config: configDesc, manifestBytes, manifestDigest };
}

test("push, resolve by tag and by digest, fetch blobs", async () => {
  const client = newClient();
  const src = await newStore();
  const ref = parseReference(`${registry.host}/tanto/single:v1`);
  const layer = await putBlob(src, randomBytes(5000), MediaType.ociLayer);

  assert.equal(await client.pushBlob(ref, layer, src), "uploaded");
  assert.equal(await client.pushBlob(ref, layer, src), "exists");
  const image = await pushImage(client, src, ref, "amd64", layer);

  const byTag = await client.resolve(ref, parsePlatform("linux/amd64"));
  assert.equal(byTag.digest, image.manifestDigest);
  assert.equal(byTag.mediaType, MediaType.ociManifest);
  assert.deepEqual(byTag.manifestBytes, image.manifestBytes);
  assert.equal(byTag.indexDigest, undefined);
  assert.equal(byTag.config.architecture, "amd64");
  assert.deepEqual(byTag.config.config?.Cmd, ["/bin/sh"]);

  const byDigest = await client.resolve(parseReference(`${registry.host}/tanto/single@${image.manifestDigest}`), parsePlatform("linux/amd64"));
  assert.equal(byDigest.digest, image.manifestDigest);

  const fetched = await client.fetchManifest(ref);
  assert.equal(fetched.digest, image.manifestDigest);
  const { config } = await client.fetchConfig(ref, image.config);
  assert.deepEqual(config.rootfs.diff_ids, [layer.digest]);

  const dst = await newStore();
  const progress: number[] = [];
  assert.equal(await client.fetchBlob(ref, layer, dst, { onProgress: (done) => progress.push(done) }), layer.digest);
  assert.deepEqual(await dst.readBytes(layer.digest), await src.readBytes(layer.digest));
  assert.equal(progress.at(-1), layer.size);
  // Already present: nothing is fetched (even from a registry that is gone).
  const offline = newClient();
  assert.equal(await offline.fetchBlob(parseReference("127.0.0.1:1/x"), layer, dst), layer.digest);

  // Cross-repository mount.
  const other = parseReference(`${registry.host}/tanto/other:v1`);
  assert.equal(await client.pushBlob(other, layer, src, { from: "tanto/single" }), "mounted");
  assert.equal(await client.pushBlob(other, layer, src, { from: "tanto/single" }), "exists");
});

test("resolve reads what is named by digest from a local store that has it; the store keeps a blob it has as it is", async () => {
  const client = newClient();
  const src = await newStore();
  const ref = parseReference(`${registry.host}/tanto/local:v1`);
  const image = await pushImage(client, src, ref, "amd64");
  // Stored again: the same file (not rewritten and renamed over), and a wrong digest is still refused.
  const file = src.path(image.config.digest);
  const inode = (await stat(file)).ino;
  assert.equal(await src.put(await src.readBytes(image.config.digest), image.config.digest), image.config.digest);
  assert.equal((await stat(file)).ino, inode);
  await assert.rejects(src.put(Buffer.from("other"), image.config.digest), FailedPreconditionError);
  // The registry loses the config: only a resolve that reads it from the store still works.
  const removed = await fetch(`http://${registry.host}/v2/tanto/local/blobs/${image.config.digest}`, { method: "DELETE" });
  assert.equal(removed.status, 202);
  await assert.rejects(client.resolve(ref, parsePlatform("linux/amd64")), NotFoundError);
  const resolved = await client.resolve(ref, parsePlatform("linux/amd64"), { local: src });
  assert.equal(resolved.digest, image.manifestDigest);
  assert.equal(resolved.config.architecture, "amd64");
  assert.deepEqual(resolved.configBytes, await src.readBytes(image.config.digest));
});

test("streamed upload: bytes sent as written, named by digest at the end; a wrong size or digest is refused", async () => {
  const client = newClient();
  const ref = parseReference(`${registry.host}/tanto/streamed:v1`);
  const bytes = randomBytes(3 << 20);
  const desc: Descriptor = { mediaType: MediaType.ociLayer, digest: sha256(bytes), size: bytes.length };
  const upload = await client.startUpload(ref);
  for (let at = 0; at < bytes.length; at += 1 << 20) await upload.write(bytes.subarray(at, at + (1 << 20)));
  await upload.finish(desc);
  assert.equal(await client.pushBlob(ref, desc, await newStore()), "exists", "the registry has the blob under its digest");
  const dst = await newStore();
  await client.fetchBlob(ref, desc, dst);
  assert.deepEqual(await dst.readBytes(desc.digest), bytes);

  const short = await client.startUpload(ref);
  await short.write(bytes.subarray(0, 10));
  await assert.rejects(short.finish(desc), (err: unknown) => err instanceof FailedPreconditionError && /streamed 10 bytes/.test(err.message));
  short.abort();
  const lying = await client.startUpload(ref);
  await lying.write(bytes);
  await assert.rejects(lying.finish({ ...desc, digest: sha256(Buffer.from("other")) }), /Cannot push/);
});

test("index: platform selection", async () => {
  const client = newClient();
  const src = await newStore();
  const repo = `${registry.host}/tanto/multi`;
  const byDigest = parseReference(repo, { defaultTag: false });
  const amd = await pushImage(client, src, byDigest, "amd64");
  const arm = await pushImage(client, src, byDigest, "arm64");
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      { mediaType: MediaType.ociManifest, digest: amd.manifestDigest, size: amd.manifestBytes.length, platform: { os: "linux", architecture: "amd64" } },
      {
        mediaType: MediaType.ociManifest,
        digest: arm.manifestDigest,
        size: arm.manifestBytes.length,
        platform: { os: "linux", architecture: "arm64", variant: "v8" },
      },
    ],
  };
  const indexBytes = encodeJson(index);
  const ref = parseReference(`${repo}:multi`);
  const indexDigest = await client.pushManifest(ref, indexBytes, MediaType.ociIndex);

  const onArm = await client.resolve(ref, parsePlatform("linux/arm64"));
  assert.equal(onArm.digest, arm.manifestDigest);
  assert.equal(onArm.indexDigest, indexDigest);
  assert.equal(onArm.config.architecture, "arm64");
  const onAmd = await client.resolve(withDigest(parseReference(repo, { defaultTag: false }), indexDigest), parsePlatform("linux/amd64"));
  assert.equal(onAmd.digest, amd.manifestDigest);
  assert.equal(onAmd.config.architecture, "amd64");

  await assert.rejects(
    client.resolve(ref, parsePlatform("linux/s390x")),
    (err: unknown) =>
      err instanceof NotFoundError &&
      err.message === `Cannot pull "${formatReference(ref)}": no image for platform linux/s390x (available: linux/amd64, linux/arm64)`,
  );
});

test("verification: wrong size or digest stores nothing", async () => {
  const client = newClient();
  const src = await newStore();
  const ref = parseReference(`${registry.host}/tanto/verify:v1`);
  const image = await pushImage(client, src, ref, "amd64");

  const dst = await newStore();
  await assert.rejects(client.fetchBlob(ref, { ...image.layer, size: image.layer.size - 1 }, dst), FailedPreconditionError);
  await assert.rejects(client.fetchBlob(ref, { ...image.layer, size: image.layer.size + 1 }, dst), FailedPreconditionError);
  const missing = sha256("not there");
  await assert.rejects(
    client.fetchBlob(ref, { ...image.layer, digest: missing }, dst),
    (err: unknown) => err instanceof NotFoundError && err.message.includes(`blob ${missing}`) && err.message.includes("blob unknown"),
  );
  assert.deepEqual(await listStore(dst), []);

  // Asking for a manifest by a digest it does not have.
  await assert.rejects(client.resolve(withDigest(ref, missing), parsePlatform("linux/amd64")), NotFoundError);

  // A server that answers with the wrong bytes.
  const liar = await startServer((req, res) => {
    res.writeHead(200, { "content-type": req.url?.includes("/manifests/") ? MediaType.ociManifest : "application/octet-stream" });
    res.end(randomBytes(image.layer.size));
  });
  const lieRef = parseReference(`${liar.host}/tanto/verify:v1`);
  await assert.rejects(
    client.fetchBlob(lieRef, image.layer, dst),
    (err: unknown) => err instanceof FailedPreconditionError && /digest mismatch/.test(err.message) && err.message.includes(image.layer.digest),
  );
  await assert.rejects(client.resolve(withDigest(lieRef, image.manifestDigest), parsePlatform("linux/amd64")), FailedPreconditionError);
  assert.deepEqual(await listStore(dst), []);
});

test("errors: unknown tag, unreachable registry, refused push", async () => {
  const client = newClient();
  const ref = parseReference(`${registry.host}/nope:1`);
  await assert.rejects(
    client.resolve(ref, parsePlatform("linux/amd64")),
    (err: unknown) => err instanceof NotFoundError && err.message === `Cannot pull "${registry.host}/nope:1": manifest unknown`,
  );

  const closed = await startServer(() => undefined);
  await closed.close();
  await assert.rejects(
    client.resolve(parseReference(`${closed.host}/x:1`), parsePlatform("linux/amd64")),
    (err: unknown) => err instanceof UnavailableError && err.message.includes(closed.host) && /ECONNREFUSED/.test(err.message),
  );

  const store = await newStore();
  const missing: Descriptor = { mediaType: MediaType.ociLayer, digest: sha256("never stored"), size: 12 };
  await assert.rejects(client.pushBlob(parseReference(`${registry.host}/tanto/x:1`), missing, store), NotFoundError);
  const badManifest = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256("no config"), size: 9 },
    layers: [],
  });
  await assert.rejects(
    client.pushManifest(parseReference(`${registry.host}/tanto/x:1`), badManifest, MediaType.ociManifest),
    (err: unknown) => err instanceof FailedPreconditionError && err.message.startsWith(`Cannot push "${registry.host}/tanto/x:1": manifest sha256:`),
  );

  const ac = new AbortController();
  ac.abort();
  await assert.rejects(client.resolve(ref, parsePlatform("linux/amd64"), { signal: ac.signal }), (err: unknown) => (err as Error).name === "CancelledError");
});

test("mirrors: docker.io images are pulled from the mirror with library/ kept", async () => {
  const pusher = newClient();
  const src = await newStore();
  const name = `mirrored${randomBytes(3).toString("hex")}`;
  const image = await pushImage(pusher, src, parseReference(`${registry.host}/library/${name}:1`), "amd64");

  // The first mirror is down; the second answers; the origin (no internet here) is never asked.
  const down = await startServer(() => undefined);
  await down.close();
  const client = newClient({ hosts: { "docker.io": { mirrors: [down.host, registry.host] } } });
  const ref = parseReference(`${name}:1`);
  assert.equal(ref.domain, "docker.io");
  const resolved = await client.resolve(ref, parsePlatform("linux/amd64"));
  assert.equal(resolved.digest, image.manifestDigest);
  const dst = await newStore();
  await client.fetchBlob(ref, image.layer, dst);
  assert.ok(await dst.info(image.layer.digest));
});

test("auth: Bearer tokens from a realm, cached; Basic", async () => {
  const src = await newStore();
  const upstream = new URL(`http://${registry.host}`);
  let tokenRequests = 0;
  const seenScopes: string[] = [];
  const front = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/token") {
      tokenRequests++;
      seenScopes.push(...url.searchParams.getAll("scope"));
      if (req.headers.authorization !== `Basic ${Buffer.from("alice:secret").toString("base64")}`) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ access_token: "good-token", expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== "Bearer good-token") {
      const repo = url.pathname.split("/").slice(2, -2).join("/");
      const action = req.method === "GET" || req.method === "HEAD" ? "pull" : "pull,push";
      res.writeHead(401, {
        "www-authenticate": `Bearer realm="http://${front.host}/token",service="test-registry",scope="repository:${repo}:${action}"`,
        "content-type": "application/json",
      });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      return;
    }
    proxy(req, res, upstream);
  });

  const client = newClient({ credentials: (host) => (host === front.host ? { username: "alice", password: "secret" } : undefined) });
  const ref = parseReference(`${front.host}/tanto/private:v1`);
  const image = await pushImage(client, src, ref, "amd64");
  const resolved = await client.resolve(ref, parsePlatform("linux/amd64"));
  assert.equal(resolved.digest, image.manifestDigest);
  const dst = await newStore();
  await client.fetchBlob(ref, image.layer, dst);
  assert.ok(seenScopes.includes("repository:tanto/private:pull,push"));
  // One token per scope set (HEAD challenge, push, pull), not one per request.
  assert.ok(tokenRequests <= 3, `token requests: ${tokenRequests}`);

  const anonymous = newClient();
  await assert.rejects(
    anonymous.resolve(ref, parsePlatform("linux/amd64")),
    (err: unknown) => err instanceof FailedPreconditionError && err.message.includes(front.host) && /no credentials/.test(err.message),
  );

  const basicFront = await startServer((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from("bob:pw").toString("base64")}`) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="test"' }).end();
      return;
    }
    proxy(req, res, upstream);
  });
  const basicRef = parseReference(`${basicFront.host}/tanto/private:v1`);
  const withBasic = newClient({ credentials: () => ({ username: "bob", password: "pw" }) });
  assert.equal((await withBasic.resolve(basicRef, parsePlatform("linux/amd64"))).digest, image.manifestDigest);
  await assert.rejects(
    anonymous.resolve(basicRef, parsePlatform("linux/amd64")),
    (err: unknown) => err instanceof FailedPreconditionError && /unauthorized/.test((err as Error).message),
  );
});

async function listStore(store: LocalContentStore): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list()) out.push(info.digest);
  return out;
}

/** Forward a request to the real registry. Location headers keep pointing at the front. */
function proxy(req: http.IncomingMessage, res: http.ServerResponse, upstream: URL): void {
  const headers = { ...req.headers, host: upstream.host };
  delete headers.authorization;
  const out = http.request(new URL(req.url ?? "/", upstream), { method: req.method ?? "GET", headers }, (up) => {
    const h = { ...up.headers };
    if (typeof h.location === "string") h.location = h.location.replace(`http://${upstream.host}`, "");
    res.writeHead(up.statusCode ?? 502, h);
    up.pipe(res);
  });
  out.on("error", () => res.writeHead(502).end());
  req.pipe(out);
}

async function startServer(handler: http.RequestListener): Promise<{ host: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(close);
  return { host, close };
}

test("blob downloads follow redirects to another origin without our Authorization", async () => {
  const pusher = newClient();
  const src = await newStore();
  const image = await pushImage(pusher, src, parseReference(`${registry.host}/tanto/redirect:v1`), "amd64");
  let leaked = false;
  const storage = await startServer((req, res) => {
    if (req.headers.authorization !== undefined) leaked = true;
    proxy(req, res, new URL(`http://${registry.host}`));
  });
  const front = await startServer((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from("u:p").toString("base64")}`) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="x"' }).end();
      return;
    }
    res.writeHead(307, { location: `http://${storage.host}${req.url ?? "/"}` }).end();
  });
  const client = newClient({ credentials: () => ({ username: "u", password: "p" }) });
  const dst = await newStore();
  await client.fetchBlob(parseReference(`${front.host}/tanto/redirect:v1`), image.layer, dst);
  assert.ok(await dst.info(image.layer.digest));
  assert.equal(leaked, false);
});
