/** The image op: a pinned image reference → its unpacked top-layer snapshot. */
import type { ImageStore } from "../images/image-store.js";
import { parseReference } from "../oci/reference.js";
import type { OpRunner, Result, SolveContext, Vertex } from "../solver/types.js";

export interface ImageOp {
  kind: "image";
  /** Always pinned: `domain/repo@sha256:…` (a tag may be kept for display). */
  ref: string;
  platform: string;
}

export class ImageOpRunner implements OpRunner {
  readonly kind = "image";
  readonly cacheable = true;

  constructor(private readonly images: ImageStore) {}

  async run(v: Vertex, _inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    const op = v.op as unknown as ImageOp;
    const top = await this.images.unpack(parseReference(op.ref), {
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      spans: { sink: ctx.progress, parent: ctx.span },
    });
    return top ? { snapshot: top.name, meta: {} } : { meta: {} };
  }
}
