/**
 * The emulated-platform rows of `npm run bench` (scripts/bench.mjs, `--only platforms`): what running arm64
 * containers on this amd64 machine costs, through Debian's qemu-aarch64-static registered
 * with binfmt_misc (by the engine at start).
 *
 *   - uncached `withExec(["true"])` on linux/arm64 against the same on linux/amd64 (the same
 *     engine, interleaved), and against `podman run --platform linux/arm64 … true`, which
 *     goes through the same binfmt_misc entry and so the same emulator;
 *   - an uncached 20-step chain (`withExec(["echo", "step N"])` × 20, a new value at its root
 *     on every run so that each step runs) on linux/arm64 against linux/amd64, and against 20
 *     `podman run --platform linux/arm64` in a row.
 *
 * The image is the test fixture's busybox for amd64 and arm64 (Debian's busybox-static for
 * each), pushed as one index.
 */
import * as path from "node:path";
import { engineGet, query } from "./engine.mjs";
import { podmanBase } from "./peers.mjs";
import { ratioRow } from "./report.mjs";
import { checkInterrupted, commandWorks, execFileP, NOFILE, summarize, timedRun, WARMUP } from "./util.mjs";

const CHAIN_STEPS = 20;

/** Push the two-platform busybox and measure on the bench's engine (`session`, `socket`). */
export async function benchPlatforms({ repo, dir, registryHost, session, socket, iterations, chainRuns, cleanup }) {
  const { pushMultiPlatformBusybox } = await import(path.join(repo, "dist/test/support/images.js"));
  const { FOREIGN_ARCHES } = await import(path.join(repo, "dist/test/support/foreign-busybox.js"));
  await pushMultiPlatformBusybox(
    registryHost,
    ["bench/multiarch:latest"],
    FOREIGN_ARCHES.filter((a) => a.deb === "arm64"),
  );
  const image = `${registryHost}/bench/multiarch:latest`;
  const notes = [];

  const stats = await engineGet(socket, "/v1/stats");
  if (!stats.platforms?.includes("linux/arm64"))
    throw new Error(`the engine cannot run linux/arm64 (it runs ${stats.platforms?.join(", ")}): is qemu-user-static installed?`);

  const nonce = `${process.pid}-${Date.now()}`;
  const container = (platform, i, inner) =>
    `{ container(platform: "${platform}") { from(address: "${image}") { withEnvVariable(name: "BENCH", value: "${nonce}-${i}") { ${inner} } } } }`;
  const tantoExec = (platform) => async (i) => {
    const t0 = performance.now();
    await query(session, container(platform, i, `withExec(args: ["true"]) { exitCode }`));
    return performance.now() - t0;
  };
  const chainDoc = (platform, i) => {
    let inner = "stdout";
    for (let step = CHAIN_STEPS - 1; step >= 0; step--) inner = `withExec(args: ["echo", "step ${step}"]) { ${inner} }`;
    return container(platform, `chain-${i}`, inner);
  };
  const tantoChain = (platform) => async (i) => {
    const t0 = performance.now();
    await query(session, chainDoc(platform, i));
    return performance.now() - t0;
  };
  // Pull and unpack both platforms before timing.
  for (const p of ["linux/amd64", "linux/arm64"]) await query(session, container(p, "warm", `withExec(args: ["true"]) { exitCode }`));

  const podman = await podmanArm64(dir, image, cleanup);
  if (podman.missing) notes.push(`podman --platform linux/arm64 skipped: ${podman.missing}`);

  const execContenders = [
    { name: "arm64", run: tantoExec("linux/arm64") },
    { name: "amd64", run: tantoExec("linux/amd64") },
    ...(podman.missing ? [] : [{ name: "podman arm64", run: () => podman.run(["true"]) }]),
  ];
  const chainContenders = [
    { name: "arm64", run: tantoChain("linux/arm64") },
    { name: "amd64", run: tantoChain("linux/amd64") },
    ...(podman.missing
      ? []
      : [
          {
            name: "podman arm64",
            run: async () => {
              let total = 0;
              for (let step = 0; step < CHAIN_STEPS; step++) total += await podman.run(["echo", `step ${step}`]);
              return total;
            },
          },
        ]),
  ];
  const before = await engineGet(socket, "/v1/stats");
  const exec = await interleaved(execContenders, iterations);
  const chain = await interleaved(chainContenders, chainRuns, 1);
  const after = await engineGet(socket, "/v1/stats");
  const expected = 2 * (iterations + WARMUP) + 2 * CHAIN_STEPS * (chainRuns + 1);
  const executed = (after.executed?.exec ?? 0) - (before.executed?.exec ?? 0);
  if (executed !== expected) notes.push(`expected ${expected} uncached execs in the platform rows, the engine counted ${executed}`);
  return {
    exec: Object.fromEntries(Object.entries(exec).map(([k, v]) => [k, summarize(v)])),
    chain: { steps: CHAIN_STEPS, runs: chainRuns, ...Object.fromEntries(Object.entries(chain).map(([k, v]) => [k, summarize(v)])) },
    executed,
    notes,
  };
}

/** Run each contender in turn, `runs` times after `warmup` discarded rounds. */
async function interleaved(contenders, runs, warmup = WARMUP) {
  const samples = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let i = -warmup; i < runs; i++) {
    for (const c of contenders) {
      checkInterrupted();
      const ms = await c.run(i);
      if (i >= 0) samples[c.name].push(ms);
    }
  }
  return samples;
}

/** podman with storage in the bench's directory, the arm64 image pulled; {run(args)} or {missing}. */
async function podmanArm64(dir, image, cleanup) {
  if (!(await commandWorks("podman", ["--version"]))) return { missing: "podman is not installed" };
  const base = podmanBase(dir, "podman-arm64");
  cleanup.defer("podman arm64 image", () => execFileP("podman", [...base, "rmi", "--all", "--force"]).catch(() => undefined));
  try {
    await execFileP("podman", [...base, "pull", "--quiet", "--tls-verify=false", "--platform", "linux/arm64", image]);
  } catch (err) {
    return { missing: `cannot pull ${image} for linux/arm64: ${String(err?.message ?? err).split("\n")[0]}` };
  }
  const limits = ["--ulimit", `nofile=${NOFILE}:${NOFILE}`, "--ulimit", "nproc=32768:32768"];
  return { run: (args) => timedRun("podman", [...base, "run", "--rm", "--network", "none", ...limits, "--platform", "linux/arm64", image, ...args]) };
}

/** The table rows (report.mjs): ratios without goals. */
export function platformRows(p) {
  const rows = [];
  const row = (label, mine, base) => {
    if (mine && base) rows.push(ratioRow(label, mine, base));
  };
  row('emulated linux/arm64 `withExec(["true"])` vs linux/amd64', p.exec["arm64"], p.exec["amd64"]);
  row("— vs `podman run --platform linux/arm64` (same qemu)", p.exec["arm64"], p.exec["podman arm64"]);
  row(`uncached ${p.chain.steps}-step chain on linux/arm64 vs linux/amd64`, p.chain["arm64"], p.chain["amd64"]);
  row(`— vs ${p.chain.steps} × \`podman run --platform linux/arm64\``, p.chain["arm64"], p.chain["podman arm64"]);
  return rows;
}
