/**
 * A blob upload whose digest is not known when it starts (a layer pushed
 * while it is still being compressed): one POST opens it, one chunked PATCH
 * carries every byte as it is written, and the closing `PUT ?digest=` names
 * the blob once it is complete. The registry checks the digest itself.
 */
import { PassThrough } from "node:stream";
import { FailedPreconditionError, UnavailableError } from "../errors.js";
import { metrics } from "../telemetry/metrics.js";
import { drain, type HttpResponse } from "./http-transport.js";
import type { SendRequest } from "./registry-client.js";
import { registryError } from "./registry-errors.js";
import type { BlobUpload } from "./types.js";

/** How the upload reaches the registry: authenticated requests to one endpoint, for one repository. */
export type UploadSend = (req: Omit<SendRequest, "scopes">) => Promise<HttpResponse>;

/** Open the upload under `repo` (the repository's `/v2/<name>/` URL) of registry `host`; `ctx` prefixes errors. */
export async function streamedUpload(send: UploadSend, repo: URL, host: string, ctx: string): Promise<BlobUpload> {
  const post = await send({ method: "POST", url: new URL("blobs/uploads/", repo), body: () => Buffer.alloc(0) });
  if (post.status !== 202) throw await registryError(post, ctx, "a streamed blob upload");
  drain(post);
  const location = post.headers.location;
  if (location === undefined) throw new UnavailableError(`${ctx}: registry ${host} started an upload without a Location`);
  const stopped = (): Error => new UnavailableError(`${ctx}: the streamed upload to ${host} was stopped`);
  const body = new PassThrough({ highWaterMark: 1 << 20 });
  body.on("error", () => undefined); // the PATCH reports what went wrong
  let sent = false;
  let size = 0;
  // One PATCH carries every byte (chunked); its answer comes once the body has ended.
  const patched = send({
    method: "PATCH",
    url: new URL(location, post.url),
    headers: { "content-type": "application/octet-stream" },
    body: () => {
      // A stream cannot be sent twice (after an auth challenge, say): that upload fails.
      if (sent) throw new UnavailableError(`${ctx}: registry ${host} asked again for a streamed upload's bytes`);
      sent = true;
      return body;
    },
  });
  patched.catch((err: unknown) => body.destroy(err instanceof Error ? err : new Error(String(err))));
  return {
    write: async (chunk) => {
      if (body.destroyed) throw stopped();
      size += chunk.length;
      if (!body.write(chunk)) await drained(body, stopped);
    },
    finish: async (descriptor) => {
      if (descriptor.size !== size)
        throw new FailedPreconditionError(`${ctx}: streamed ${size} bytes of blob ${descriptor.digest}, which has ${descriptor.size}`);
      body.end();
      const res = await patched;
      if (res.status !== 202 && res.status !== 204) throw await registryError(res, ctx, `upload of blob ${descriptor.digest}`);
      drain(res);
      const put = new URL(res.headers.location ?? location, res.url);
      put.searchParams.set("digest", descriptor.digest);
      const done = await send({ method: "PUT", url: put, body: () => Buffer.alloc(0) });
      if (done.status !== 201 && done.status !== 204) throw await registryError(done, ctx, `blob ${descriptor.digest}`);
      drain(done);
      metrics.bytesPushed.inc({}, size);
    },
    abort: (reason) => {
      body.destroy(reason instanceof Error ? reason : new UnavailableError(`${ctx}: streamed upload abandoned`));
    },
  };
}

/** Resolves when `stream` wants more, rejects when it closed first. */
function drained(stream: PassThrough, closed: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off("close", onClose);
      resolve();
    };
    const onClose = (): void => {
      stream.off("drain", onDrain);
      reject(closed());
    };
    stream.once("drain", onDrain);
    stream.once("close", onClose);
  });
}
