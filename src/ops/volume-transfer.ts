/**
 * Cache volumes in and out of the engine as tar archives (`tanto
 * cache-volume export|import`), written and read by Debian's GNU tar: modes,
 * numeric owners, symlinks, hard links and modification times travel as they
 * are. An import is extracted into a fresh directory beside the volumes and
 * put in place in one rename (cache-volumes.ts `replace`), so a failed or
 * broken-off import leaves the old volume as it was.
 *
 * GNU tar is run as root with `--same-owner`; it strips leading `/` and
 * refuses members with `..` in their names, and extracts a symlink that
 * points outside (absolute or with `..`) as a placeholder until the end, so
 * nothing is written through it: an archive cannot write outside the volume.
 */
import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { EngineError, InvalidArgumentError, messageOf } from "../errors.js";
import type { CacheVolumes } from "./cache-volumes.js";
import { seedId } from "./exec-extras.js";

/**
 * Which volume of a key: a volume mounted with an `owner` (and no source) is
 * another volume than the plain one, as in Dagger; the owner is the string the
 * pipeline passes (`"1000"` and `"1000:1000"` are two volumes).
 */
export interface VolumeSelector {
  readonly owner?: string | undefined;
}

const seedOf = (sel: VolumeSelector): string | undefined => (sel.owner ? seedId(undefined, undefined, sel.owner) : undefined);

/** Write the volume `key` as a tar stream to `out`; a volume in use by SHARED execs is read as it is. */
export async function exportVolume(volumes: CacheVolumes, key: string, out: Writable, opts: VolumeSelector & { signal?: AbortSignal } = {}): Promise<void> {
  await using lease = await volumes.open(key, seedOf(opts));
  const tar = spawn("tar", ["-c", "-f", "-", "--numeric-owner", "--sort=name", "-C", lease.dir, "."], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const stderr = collect(tar.stderr);
  const exited = exitOf(tar);
  try {
    await pipeline(tar.stdout, out);
  } catch (err) {
    tar.kill("SIGKILL");
    await exited.catch(() => undefined);
    throw new EngineError(`exporting cache volume "${key}" broke off: ${messageOf(err)}`, { cause: err });
  }
  const code = await exited;
  if (code !== 0) throw new EngineError(`exporting cache volume "${key}": tar exited with ${code}: ${(await stderr).trim()}`);
}

/**
 * Make the volume `key` from the tar stream `input`. Refused when the volume
 * exists (unless `replace`) or is in use; see CacheVolumes.replace.
 */
export async function importVolume(
  volumes: CacheVolumes,
  key: string,
  input: Readable,
  opts: VolumeSelector & { replace: boolean },
): Promise<{ replaced: boolean }> {
  return volumes.replace(
    key,
    async (dir) => {
      const tar = spawn("tar", ["-x", "-f", "-", "--same-owner", "--same-permissions", "--numeric-owner", "-C", dir], {
        stdio: ["pipe", "ignore", "pipe"],
      });
      const stderr = collect(tar.stderr);
      const exited = exitOf(tar);
      try {
        await pipeline(input, tar.stdin);
      } catch (err) {
        tar.kill("SIGKILL");
        await exited.catch(() => undefined);
        throw new InvalidArgumentError(`importing cache volume "${key}": the archive broke off: ${messageOf(err)}`, { cause: err });
      }
      const code = await exited;
      if (code !== 0)
        throw new InvalidArgumentError(`importing cache volume "${key}": not a valid tar archive (tar exited with ${code}): ${(await stderr).trim()}`);
    },
    { replace: opts.replace, ...(opts.owner ? { seedId: seedOf(opts)! } : {}) },
  );
}

function collect(stream: Readable): Promise<string> {
  let text = "";
  stream.setEncoding("utf8");
  stream.on("data", (d: string) => {
    if (text.length < 4000) text += d;
  });
  return new Promise((resolve) => stream.on("close", () => resolve(text)));
}

function exitOf(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
}
