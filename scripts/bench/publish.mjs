/**
 * `--only publish`: `publish` of an image with a fresh 50 MB layer against `buildah push` of the
 * same image to the same registry.
 */
import { readFileSync } from "node:fs";
import { withSdk } from "./engine.mjs";
import { buildahTool } from "./peers.mjs";
import { GOALS, ratioRow } from "./report.mjs";
import { checkInterrupted, log, summarize, timedRun } from "./util.mjs";

/** The layer a publish uploads; random, so that gzip cannot shrink it and no registry has it. */
const PUBLISH_LAYER_MB = 50;

export async function runPublish(ctx) {
  const buildah = await buildahTool(ctx.dir, ctx.cleanup);
  if (buildah.missing) {
    ctx.notes.push(`publish vs buildah push skipped: ${buildah.missing}`);
    return { publish: null };
  }
  log(`publish of a fresh ${PUBLISH_LAYER_MB} MB layer vs buildah push, ${ctx.publishRuns} runs`);
  const publish = await benchPublish({
    session: ctx.session,
    image: ctx.image,
    registryHost: ctx.registryHost,
    buildah,
    runs: ctx.publishRuns,
    enginePid: ctx.engine.pid,
  });
  if (publish.sameLayer > 0)
    ctx.notes.push(
      `in ${publish.sameLayer} publish run(s) buildah pushed a layer digest identical to tanto's: it may have mounted the blob rather than uploaded it`,
    );
  const cpu = { tanto: summarize(publish.tantoCpu), buildahPush: summarize(publish.buildahCpu) };
  ctx.notes.push(
    `publish CPU time (median, whatever the load): the engine ${cpu.tanto.median} ms, buildah push ${cpu.buildahPush.median} ms (the registry's own CPU in neither)`,
  );
  return { publish: { layerMb: PUBLISH_LAYER_MB, tanto: summarize(publish.tanto), buildahPush: summarize(publish.buildah), cpu } };
}

/**
 * publish vs buildah push: the same image, the same registry, each to a repository that
 * holds none of its new layer. Each run builds an image with a fresh random layer (not timed),
 * times tanto's publish, then has buildah pull that image and times its push to another
 * repository. buildah pulls through `localhost:PORT`, the same registry under another name: its
 * blob-info cache then knows the layer only on "localhost", so it cannot skip the upload by
 * mounting the blob from tanto's repository (tanto gets no such chance either: its layer is new).
 * tanto is timed from the SDK call (no process start), buildah from spawn to exit. CPU time
 * too, which a busy machine changes less than wall time: the engine process's (all its threads, and
 * children it ran, as a compressor) around the publish, and buildah's (with its children) from
 * this process's reaped-children total.
 */
async function benchPublish({ session, image, registryHost, buildah, runs, enginePid }) {
  const port = registryHost.split(":")[1];
  const tanto = [];
  const peer = [];
  const tantoCpu = [];
  const buildahCpu = [];
  let sameLayer = 0;
  await withSdk(session, async (dag) => {
    for (let run = 0; run < runs; run++) {
      checkInterrupted();
      const nonce = `${process.pid}-${Date.now()}-${run}`;
      const ctr = dag
        .container()
        .from(image)
        .withExec(["sh", "-c", `head -c ${PUBLISH_LAYER_MB * 2 ** 20} /dev/urandom > /layer-${nonce}`]);
      await ctr.sync();
      const c0 = cpuMs(enginePid).all;
      const t0 = performance.now();
      await ctr.publish(`${registryHost}/bench-tanto-${run}:latest`);
      tanto.push(performance.now() - t0);
      tantoCpu.push(cpuMs(enginePid).all - c0);

      const pulled = `localhost:${port}/bench-tanto-${run}:latest`;
      await buildah.run(["pull", "--quiet", "--tls-verify=false", pulled]);
      const b0 = cpuMs("self").children;
      peer.push(
        await timedRun("buildah", [...buildah.base, "push", "--quiet", "--tls-verify=false", pulled, `docker://${registryHost}/bench-buildah-${run}:latest`]),
      );
      buildahCpu.push(cpuMs("self").children - b0);

      // buildah compresses anew, so its top layer has a digest of its own. The same digest
      // would mean the blob may have been mounted from tanto's repository instead of uploaded.
      const [mine, theirs] = await Promise.all([`bench-tanto-${run}`, `bench-buildah-${run}`].map((repo) => topLayer(registryHost, repo)));
      if (mine === theirs) sameLayer++;
    }
  });
  return { tanto, buildah: peer, sameLayer, tantoCpu, buildahCpu };
}

/** CPU time of process `pid` ("self": this one) in ms: that of its reaped children, and in all its own too (all threads). */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The fields after the command name, from the state (field 3) on; times are in clock ticks (100 a second).
  const f = stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
  const children = (f[13] + f[14]) * 10;
  return { all: (f[11] + f[12]) * 10 + children, children };
}

/** The digest of the last layer of `repo:latest`, from the registry's manifest. */
async function topLayer(registryHost, repo) {
  const res = await fetch(`http://${registryHost}/v2/${repo}/manifests/latest`, {
    headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
  });
  if (!res.ok) throw new Error(`GET ${repo} manifest: ${res.status}`);
  return (await res.json()).layers.at(-1).digest;
}

export function publishRows(r) {
  const pb = r.publish;
  return pb ? [ratioRow(`publish (${pb.layerMb} MB new layer) vs \`buildah push\``, pb.tanto, pb.buildahPush, GOALS.publishRatio)] : [];
}
