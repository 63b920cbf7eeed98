import type { OpRunner, Result, Vertex } from "../solver/types.js";
import type { ExecResultMeta } from "./exec-types.js";

/** Selects a writable mount's output snapshot from an exec result. */
export class OutputOpRunner implements OpRunner {
  readonly kind = "output";
  readonly cacheable = false;
  async run(v: Vertex, inputs: readonly Result[]): Promise<Result> {
    const k = String(v.op["mount"]);
    const name = (inputs[0]?.meta as ExecResultMeta | undefined)?.mounts?.[k];
    return name === undefined ? { meta: {} } : { snapshot: name, meta: {} };
  }
}
