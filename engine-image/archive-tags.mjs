// Name the image in an image tarball. Container.export writes an archive
// without a name (the API has no tag argument), so `docker load` would print
// only an ID; this rewrites the archive's two small index documents so that
// `docker load` (manifest.json's RepoTags) and OCI tools (index.json's
// ref.name annotations) load it as `tag`. Blobs are copied through untouched.
import { createReadStream, createWriteStream } from "node:fs";
import * as fs from "node:fs/promises";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";

export async function tagArchive(input, output, tag) {
  const extract = tar.extract();
  const pack = tar.pack();
  const writing = pipeline(pack, createWriteStream(output));
  const reading = pipeline(createReadStream(input), extract);
  for await (const entry of extract) {
    const { header } = entry;
    if (header.name === "manifest.json" || header.name === "index.json") {
      const doc = JSON.parse((await buffer(entry)).toString("utf8"));
      const rewritten = Buffer.from(JSON.stringify(header.name === "manifest.json" ? withRepoTags(doc, tag) : withRefName(doc, tag)));
      await new Promise((resolve, reject) => pack.entry({ ...header, size: rewritten.length }, rewritten, (err) => (err ? reject(err) : resolve())));
    } else {
      await new Promise((resolve, reject) => {
        const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
        entry.pipe(sink);
      });
    }
  }
  await reading;
  pack.finalize();
  await writing;
}

/** Tag `input` in place (through a temporary file beside it). */
export async function tagArchiveInPlace(file, tag) {
  const tmp = `${file}.tagging`;
  try {
    await tagArchive(file, tmp, tag);
    await fs.rename(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

function withRepoTags(manifests, tag) {
  return manifests.map((m, i) => ({ ...m, RepoTags: i === 0 ? [tag] : [] }));
}

function withRefName(index, tag) {
  const colon = tag.lastIndexOf(":");
  const refName = colon > tag.lastIndexOf("/") ? tag.slice(colon + 1) : tag;
  return {
    ...index,
    manifests: index.manifests.map((m) => ({
      ...m,
      annotations: { ...m.annotations, "io.containerd.image.name": tag, "org.opencontainers.image.ref.name": refName },
    })),
  };
}
