// Cached results whose parts the collector may remove, through the official SDK.
// Mode (argv[2]): "small" makes small results of every kind, "bulk" fills the
// cache with volumes, a download and an export and then uses the small results
// again, "check" reads every result back, "busy" keeps a cache volume mounted
// for a few seconds. Prints a JSON report.
import { dag, ImageLayerCompression } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

const mode = process.argv[2];
const httpBase = process.env.TANTO_HTTP_BASE;
const hostDir = process.env.TANTO_HOST_DIR;
const gitUrl = process.env.TANTO_GIT_URL;
// Sizes scale together with the test's policy (1: 100 MB policy; 3: the 300 MB over ~1 GB).
const scale = Number(process.env.TANTO_GC_SCALE ?? "1");

const base = () => dag.container().from(image);
// An exec with a writable mounted directory: its output is a snapshot the record owns.
const withMount = () =>
  base()
    .withMountedDirectory("/out", dag.directory().withNewFile("seed", "seed\n"))
    .withExec(["sh", "-c", `dd if=/dev/urandom of=/out/data bs=1M count=${70 * scale} 2>/dev/null; cd /out && md5sum data > sum`]);
// A later exec on top of that one's rootfs: its snapshot keeps the rootfs (its parent) alive.
const onTop = () => withMount().withoutMount("/out").withExec(["sh", "-c", "echo on top"]);
const smallMount = () => base().withMountedDirectory("/w", dag.directory().withNewFile("in", "small\n")).withExec(["sh", "-c", "cp /w/in /w/out"]);
const smallExport = () => base().withNewFile("/marker", "exported\n").asTarball({ forcedCompression: ImageLayerCompression.Uncompressed });
const volumeFill = (key, mb) =>
  base()
    .withMountedCache("/cache", dag.cacheVolume(key))
    .withExec(["sh", "-c", `dd if=/dev/zero of=/cache/fill bs=1M count=${mb} 2>/dev/null; echo ${key}`]);

const small = async (out) => {
  out.mountEntries = await withMount().directory("/out").entries();
  out.onTop = await onTop().stdout();
  out.smallEntries = await smallMount().directory("/w").entries();
  out.smallDownload = await dag.http(`${httpBase}/small.txt`).contents();
  out.smallExportSize = await smallExport().size();
  out.hostEntries = await dag.host().directory(hostDir).entries();
  out.smallVolume = await volumeFill("gc-small", 1).stdout();
  out.gitEntries = await dag.git(gitUrl).branch("main").tree({ discardGitDir: true }).entries();
};

await report(async (out) => {
  if (mode === "small") await small(out);
  if (mode === "bulk") {
    out.volumeA = await volumeFill("gc-a", 100 * scale).stdout();
    out.volumeB = await volumeFill("gc-b", 100 * scale).stdout();
    out.bigDownloadSize = await dag.http(`${httpBase}/big.bin`).size();
    out.bigExportSize = await base()
      .withExec(["sh", "-c", `dd if=/dev/urandom of=/layer bs=1M count=${40 * scale} 2>/dev/null`])
      .asTarball({ forcedCompression: ImageLayerCompression.Uncompressed })
      .size();
    // The small results are used again (cache hits), so they are the most recent.
    out.onTop = await onTop().stdout();
    out.smallEntries = await smallMount().directory("/w").entries();
    out.smallDownload = await dag.http(`${httpBase}/small.txt`).contents();
    out.smallExportSize = await smallExport().size();
  }
  if (mode === "check") {
    // Cached or recomputed, every result is whole.
    out.onTop = await onTop().stdout();
    out.smallEntries = await smallMount().directory("/w").entries();
    out.smallOut = await smallMount().directory("/w").file("out").contents();
    out.smallDownload = await dag.http(`${httpBase}/small.txt`).contents();
    out.smallExportSize = await smallExport().size();
    out.mountEntries = await withMount().directory("/out").entries();
    out.mountDataSize = await withMount().directory("/out").file("data").size();
    out.bigDownloadSize = await dag.http(`${httpBase}/big.bin`).size();
    out.gitEntries = await dag.git(gitUrl).branch("main").tree({ discardGitDir: true }).entries();
  }
  if (mode === "busy") {
    out.busy = await base()
      .withMountedCache("/cache", dag.cacheVolume("gc-busy"))
      .withEnvVariable("RUN", String(Date.now()))
      .withExec(["sh", "-c", "echo kept > /cache/f; touch /cache/started; sleep 5; cat /cache/f"])
      .stdout();
  }
});
