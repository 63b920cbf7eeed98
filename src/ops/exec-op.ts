/**
 * The exec op: run a command on a snapshot and commit what it wrote.
 *
 * prepare(parent) → mount overlay → run with runc → unmount → commit. The
 * overlay upperdir is the diff, so committing is a database update and no
 * file is copied. stdout, stderr and the exit code are part of the result, so
 * a cache hit answers `stdout` without starting a container.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ExecError } from "../errors.js";
import type { Executor } from "../executor/types.js";
import { resolveUser } from "../executor/user.js";
import { mkdirInRoot, resolveInRoot } from "../fsutil/in-root.js";
import { withMounted } from "../mount/mount.js";
import { digestHex } from "../oci/digest.js";
import type { Mount as SpecMount } from "../oci/runtime-spec.js";
import type { OverlaySnapshotter } from "../snapshots/overlay-snapshotter.js";
import type { OpRunner, Result, SolveContext, Vertex } from "../solver/types.js";
import type { CacheVolumes, VolumeLease } from "./cache-volumes.js";
import type { ContainerMount } from "../core/container.js";

export interface ExecOp {
  kind: "exec";
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  mounts: ContainerMount[];
  platform: string;
  expect: "SUCCESS" | "FAILURE" | "ANY";
  stdin?: string;
  redirectStdout?: string;
  redirectStderr?: string;
  noInit?: boolean;
}

export interface ExecResultMeta {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  combined: string;
}

/** Output kept per stream; beyond this, the start is dropped. */
const MAX_OUTPUT = 16 << 20;

export class ExecOpRunner implements OpRunner {
  readonly kind = "exec";
  readonly cacheable = true;

  constructor(
    private readonly deps: {
      snapshots: OverlaySnapshotter;
      executor: Executor;
      volumes: CacheVolumes;
      /** Scratch directory for rootfs mount points. */
      runDir: string;
    },
  ) {}

  async run(v: Vertex, inputs: readonly Result[], ctx: SolveContext): Promise<Result> {
    const op = v.op as unknown as ExecOp;
    const { snapshots } = this.deps;
    const parentName = inputs[0]?.snapshot;
    const parent = parentName === undefined ? undefined : snapshots.get(parentName);
    const active = await snapshots.prepare(parent);
    const id = `exec-${randomBytes(6).toString("hex")}`;
    let output: ExecResultMeta;
    try {
      output = await withMounted(snapshots.mounts(active), path.join(this.deps.runDir, id), (rootfs) =>
        this.#runIn(id, rootfs, op, v, ctx),
      );
    } catch (err) {
      await snapshots.abort(active);
      throw err;
    }
    if (!expected(op.expect, output.exitCode)) {
      await snapshots.abort(active);
      throw new ExecError({ cmd: op.args, exitCode: output.exitCode, stdout: output.stdout, stderr: output.stderr });
    }
    const committed = await snapshots.commit(active, `exec/${digestHex(v.digest)}`);
    return { snapshot: committed.name, meta: { ...output } };
  }

  async #runIn(id: string, rootfs: string, op: ExecOp, v: Vertex, ctx: SolveContext): Promise<ExecResultMeta> {
    const user = op.user ? await resolveUser(op.user, rootfs) : { uid: 0, gid: 0, additionalGids: [] };
    await mkdirInRoot(rootfs, op.cwd);
    const leases: VolumeLease[] = [];
    try {
      const mounts: SpecMount[] = [];
      for (const m of op.mounts) {
        if (m.type === "cache") {
          const lease = await this.deps.volumes.acquire(m.key, m.sharing);
          leases.push(lease);
          mounts.push({ destination: m.target, type: "bind", source: lease.dir, options: ["rbind", "rw"] });
        } else {
          const size = m.size ? [`size=${m.size}`] : [];
          mounts.push({ destination: m.target, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", ...size] });
        }
      }
      const out = new OutputCollector(v, ctx);
      const { exitCode } = await this.deps.executor.run(
        id,
        { rootfs, mounts, process: { args: op.args, env: op.env, cwd: op.cwd, user } },
        {
          ...(op.stdin !== undefined ? { stdin: op.stdin } : {}),
          stdout: (b) => out.add(1, b),
          stderr: (b) => out.add(2, b),
        },
        ctx.signal ? { signal: ctx.signal } : {},
      );
      const result = { exitCode, ...out.finish() };
      if (op.redirectStdout) await writeInRoot(rootfs, op.redirectStdout, result.stdout);
      if (op.redirectStderr) await writeInRoot(rootfs, op.redirectStderr, result.stderr);
      return result;
    } finally {
      for (const lease of leases) await lease[Symbol.asyncDispose]();
    }
  }
}

function expected(expect: ExecOp["expect"], exitCode: number): boolean {
  if (expect === "ANY") return true;
  return expect === "FAILURE" ? exitCode !== 0 : exitCode === 0;
}

async function writeInRoot(rootfs: string, file: string, data: string): Promise<void> {
  await mkdirInRoot(rootfs, path.posix.dirname(file));
  await fs.writeFile(await resolveInRoot(rootfs, file), data);
}

/** Collects a process's output and forwards it as progress log events. */
class OutputCollector {
  readonly #chunks: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };
  readonly #sizes: Record<1 | 2, number> = { 1: 0, 2: 0 };
  readonly #combined: Buffer[] = [];
  constructor(private readonly v: Vertex, private readonly ctx: SolveContext) {}

  add(stream: 1 | 2, chunk: Buffer): void {
    this.#chunks[stream].push(chunk);
    this.#combined.push(chunk);
    this.#sizes[stream] += chunk.length;
    while (this.#sizes[stream] > MAX_OUTPUT && this.#chunks[stream].length > 1) {
      this.#sizes[stream] -= this.#chunks[stream].shift()!.length;
    }
    this.ctx.progress?.({ type: "log", vertex: this.v.digest, stream, data: chunk.toString("utf8") });
  }

  finish(): Omit<ExecResultMeta, "exitCode"> {
    return {
      stdout: Buffer.concat(this.#chunks[1]).toString("utf8"),
      stderr: Buffer.concat(this.#chunks[2]).toString("utf8"),
      combined: Buffer.concat(this.#combined).toString("utf8").slice(-2 * MAX_OUTPUT),
    };
  }
}
