/** An exec's secrets, and the undo steps of an exec's setup. */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { FailedPreconditionError } from "../errors.js";
import { resolveUser } from "../executor/user.js";
import type { Mount as SpecMount } from "../oci/runtime-spec.js";
import type { SolveContext } from "../solver/types.js";
import type { ExecMount, ExecOp, SecretKey } from "./exec-types.js";

/** Undo steps run in reverse order; each runs once even if others fail. */
export class Cleanup {
  readonly #steps: Array<() => Promise<unknown>> = [];
  defer(step: () => Promise<unknown>): void {
    this.#steps.push(step);
  }
  async run(): Promise<void> {
    while (this.#steps.length > 0) await this.#steps.pop()!().catch(() => undefined);
  }
}

/**
 * An exec's secrets: values from the session, as environment variables and
 * as files in the container's directory (on the containers' tmpfs, so they
 * never touch the disk: see container-dirs.ts), and the list of values to
 * mask in its output.
 */
export class SecretFiles {
  constructor(
    private readonly op: ExecOp,
    private readonly ctx: SolveContext,
  ) {}

  #value(key: SecretKey): string {
    if (!this.ctx.secrets) throw new FailedPreconditionError(`secret "${key.name}" is not available here`);
    return this.ctx.secrets.plaintext(key);
  }

  env(): string[] {
    return (this.op.secretEnv ?? []).map(({ name, secret }) => `${name}=${this.#value(secret)}`);
  }

  scrubList(): string[] {
    const used = [...(this.op.secretEnv ?? []).map((e) => e.secret), ...this.op.mounts.flatMap((m) => (m.type === "secret" ? [m.secret] : []))];
    return [...new Set([...used.map((k) => this.#value(k)), ...(this.ctx.secrets?.values() ?? [])])];
  }

  /** The secret files, written under `dir` (on a memory filesystem), as bind mounts; removed by `cleanup`. */
  async mount(dir: string, rootfs: string, cleanup: Cleanup): Promise<SpecMount[]> {
    const secretMounts = this.op.mounts.filter((m): m is Extract<ExecMount, { type: "secret" }> => m.type === "secret");
    if (secretMounts.length === 0) return [];
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    cleanup.defer(() => fs.rm(dir, { recursive: true, force: true }));
    const out: SpecMount[] = [];
    for (const [i, m] of secretMounts.entries()) {
      const file = path.join(dir, String(i));
      await fs.writeFile(file, this.#value(m.secret), { mode: m.mode });
      await fs.chmod(file, m.mode);
      if (m.owner) {
        const { uid, gid } = await resolveUser(m.owner, rootfs);
        await fs.chown(file, uid, gid);
      }
      out.push({ destination: m.target, type: "bind", source: file, options: ["rbind", "ro"] });
    }
    return out;
  }
}
