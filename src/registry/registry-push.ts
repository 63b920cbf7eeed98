/**
 * The push side of the registry protocol, over an authenticated `send` to
 * one repository (RegistryClient supplies it): a blob from a content store
 * (HEAD, then a cross-repository mount or POST + PUT), and a manifest under a
 * tag or its digest. The streamed upload of a blob still being made is in
 * streamed-upload.ts.
 */
import type { Provider } from "../content/types.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from "../errors.js";
import { type Digest, isDigest, sha256 } from "../oci/digest.js";
import type { Descriptor } from "../oci/image.js";
import { metrics } from "../telemetry/metrics.js";
import { drain, headerValue } from "./http-transport.js";
import { registryError } from "./registry-errors.js";
import type { UploadSend } from "./streamed-upload.js";
import type { PushBlobResult } from "./types.js";

/** One repository of one registry: its `/v2/<name>/` URL and host; `ctx` prefixes errors. */
export interface PushTarget {
  send: UploadSend;
  repo: URL;
  host: string;
  ctx: string;
}

/**
 * Push blob `descriptor` from `provider` unless the repository has it; with
 * `from` (another repository of the same registry), ask for a mount first.
 */
export async function pushBlobTo(t: PushTarget, descriptor: Descriptor, provider: Provider, from: string | undefined): Promise<PushBlobResult> {
  const { send, repo, host, ctx } = t;
  const what = `blob ${descriptor.digest}`;
  const head = await send({ method: "HEAD", url: new URL(`blobs/${descriptor.digest}`, repo) });
  drain(head);
  if (head.status === 200) return "exists";
  if (head.status === 401 || head.status === 403) throw await registryError(head, ctx, what);

  const info = await provider.info(descriptor.digest);
  if (info === undefined) throw new NotFoundError(`${ctx}: ${what} is not in the content store`);
  if (info.size !== descriptor.size) {
    throw new FailedPreconditionError(`${ctx}: ${what} is ${info.size} bytes in the content store, descriptor says ${descriptor.size}`);
  }

  const start = new URL("blobs/uploads/", repo);
  if (from !== undefined) {
    start.searchParams.set("mount", descriptor.digest);
    start.searchParams.set("from", from);
  }
  const post = await send({ method: "POST", url: start, body: () => Buffer.alloc(0) });
  if (post.status === 201 && from !== undefined) {
    drain(post);
    return "mounted";
  }
  if (post.status !== 202) throw await registryError(post, ctx, `upload of ${what}`);
  drain(post);
  const location = post.headers.location;
  if (location === undefined) throw new UnavailableError(`${ctx}: registry ${host} started an upload of ${what} without a Location`);

  // Location may be relative to the request or absolute, and may carry state in its query.
  const put = new URL(location, post.url);
  put.searchParams.set("digest", descriptor.digest);
  const res = await send({
    method: "PUT",
    url: put,
    headers: { "content-type": "application/octet-stream", "content-length": String(descriptor.size) },
    body: () => provider.readStream(descriptor.digest),
  });
  if (res.status !== 201 && res.status !== 204) throw await registryError(res, ctx, what);
  drain(res);
  metrics.bytesPushed.inc({}, descriptor.size);
  return "uploaded";
}

/** Push a manifest or index under `tag`, or under its digest; `expected` is the digest the reference names, if any. */
export async function pushManifestTo(
  t: PushTarget,
  bytes: Uint8Array,
  mediaType: string,
  tag: string | undefined,
  expected: Digest | undefined,
): Promise<Digest> {
  const { send, repo, host, ctx } = t;
  const digest = sha256(bytes);
  if (expected !== undefined && expected !== digest) {
    throw new InvalidArgumentError(`${ctx}: the manifest's digest is ${digest}, not the reference's ${expected}`);
  }
  const res = await send({ method: "PUT", url: new URL(`manifests/${tag ?? digest}`, repo), headers: { "content-type": mediaType }, body: () => bytes });
  if (res.status !== 201 && res.status !== 200 && res.status !== 204) throw await registryError(res, ctx, `manifest ${digest}`);
  drain(res);
  const answered = headerValue(res, "docker-content-digest");
  if (answered !== undefined && isDigest(answered) && answered !== digest) {
    throw new FailedPreconditionError(`${ctx}: registry ${host} stored manifest ${digest} as ${answered}`);
  }
  return digest;
}
