/**
 * `--only host-sync`: a client directory of 10,000 files / 200 MB through `host().directory()`.
 * Each run writes a new tree (random bytes, so that no run shares content with another) and
 * flushes it to disk, then, interleaved (the order alternating by run):
 *   - the first sync, by a session of an engine that has never seen the tree, against `cp -a`
 *     of the same tree to the same filesystem (the bench's directory). Both read a warm page
 *     cache (the tree was just written) and neither waits for its writes to reach the disk
 *     beyond what it does itself: the caches are not dropped, for either;
 *   - then the unchanged tree again, from a NEW session, so that nothing the first session
 *     remembered can help: only the engine's mirror of the client's tree can make it cheap.
 * `entries()` forces the sync (the directory's ID is resolved, and with it the whole tree).
 */
import * as crypto from "node:crypto";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { openSession, withSdk } from "./engine.mjs";
import { GOALS, ratioRow } from "./report.mjs";
import { alternate, checkInterrupted, execFileP, log, stopChild, summarize, timedRun } from "./util.mjs";

/** SYNC_DIRS × SYNC_FILES_PER_DIR files of SYNC_FILE_BYTES random bytes (200 MB). */
const SYNC_DIRS = 100;
const SYNC_FILES_PER_DIR = 100;
const SYNC_FILE_BYTES = 20_000;

export async function runHostSync(ctx) {
  const { dir, socket, runs } = { ...ctx, runs: ctx.syncRuns };
  log(
    `host directory of ${SYNC_DIRS * SYNC_FILES_PER_DIR} files / ${Math.round((SYNC_DIRS * SYNC_FILES_PER_DIR * SYNC_FILE_BYTES) / 1e6)} MB: first sync vs cp -a, then unchanged from a new session, ${runs} runs`,
  );
  const clientDir = path.join(dir, "client");
  const copies = path.join(dir, "copies");
  await fsp.mkdir(copies, { recursive: true });
  const samples = { first: [], again: [], copy: [] };
  const sync = async (name, into) => {
    // The session's working directory bounds what host() may read.
    const session = await openSession({ socket, logFile: path.join(dir, "session-sync.log"), cwd: clientDir });
    try {
      into.push(
        await withSdk(session, async (dag) => {
          const t0 = performance.now();
          const entries = await dag.host().directory(name).entries();
          const ms = performance.now() - t0;
          if (entries.length !== SYNC_DIRS) throw new Error(`host().directory("${name}") listed ${entries.length} entries, expected ${SYNC_DIRS}`);
          return ms;
        }),
      );
    } finally {
      await stopChild(session.child);
    }
  };
  for (let run = 0; run < runs; run++) {
    checkInterrupted();
    const name = `tree-${run}`;
    const tree = path.join(clientDir, name);
    await writeRandomTree(tree);
    await execFileP("sync");
    const copy = async () => {
      const dest = path.join(copies, name);
      samples.copy.push(await timedRun("cp", ["-a", tree, dest]));
      const n = (await fsp.readdir(dest)).length;
      if (n !== SYNC_DIRS) throw new Error(`cp -a copied ${n} entries of ${tree}, expected ${SYNC_DIRS}`);
    };
    for (const step of alternate(run, () => sync(name, samples.first), copy)) await step();
    await sync(name, samples.again);
    await fsp.rm(tree, { recursive: true, force: true });
    await fsp.rm(path.join(copies, name), { recursive: true, force: true });
  }
  return {
    hostSync: {
      files: SYNC_DIRS * SYNC_FILES_PER_DIR,
      bytes: SYNC_DIRS * SYNC_FILES_PER_DIR * SYNC_FILE_BYTES,
      caches: "warm",
      first: summarize(samples.first),
      copy: summarize(samples.copy),
      unchangedNewSession: summarize(samples.again),
    },
  };
}

/** SYNC_DIRS directories of SYNC_FILES_PER_DIR files of SYNC_FILE_BYTES random bytes each. */
async function writeRandomTree(root) {
  for (let d = 0; d < SYNC_DIRS; d++) {
    const sub = path.join(root, `d${d}`);
    await fsp.mkdir(sub, { recursive: true });
    await Promise.all(Array.from({ length: SYNC_FILES_PER_DIR }, (_, f) => fsp.writeFile(path.join(sub, `f${f}`), crypto.randomBytes(SYNC_FILE_BYTES))));
  }
}

export function hostSyncRows(r) {
  const hs = r.hostSync;
  const what = `${hs.files.toLocaleString("en")} files / ${Math.round(hs.bytes / 1e6)} MB`;
  return [
    ratioRow(`first \`host().directory()\` of ${what} vs \`cp -a\` of the same tree (page cache warm for both)`, hs.first, hs.copy, GOALS.syncVsCopyRatio),
    ratioRow(`host dir ${what}: again from a new session vs first sync`, hs.unchangedNewSession, hs.first, GOALS.syncRatio, 3),
  ];
}
