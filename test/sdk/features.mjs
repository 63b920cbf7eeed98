// A tour of the container API through the official SDK; prints what it saw as JSON.
import { CacheSharingMode, dag } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

const run = process.env.TANTO_TEST_RUN ?? "1";
await report(async (out) => {
  const base = dag.container().from(image);
  const cache = dag.cacheVolume(`features-${process.env.TANTO_TEST_CACHE_KEY ?? "k"}`);
  out.cache = await base
    .withMountedCache("/cache", cache, { sharing: CacheSharingMode.Locked })
    .withEnvVariable("RUN", run)
    .withExec(["sh", "-c", "echo run$RUN >> /cache/log; cat /cache/log"])
    .stdout();

  const c = base
    .withWorkdir("/work")
    .withUser("nobody")
    .withEnvVariable("FOO", "bar")
    .withNewFile("/work/hello.txt", "hi there\n")
    .withExec(["sh", "-c", "id -u; pwd; cat hello.txt; echo err >&2"]);
  out.stdout = await c.stdout();
  out.stderr = await c.stderr();
  out.exitCode = await c.exitCode();
  out.workdir = await c.workdir();
  out.user = await c.user();
  out.env = await c.envVariable("FOO");
  const vars = await c.envVariables();
  out.envNames = await Promise.all(vars.map((v) => v.name()));
  out.fileContents = await c.file("/work/hello.txt").contents();
  out.fileSize = await c.file("hello.txt").size();
  out.entries = await c.directory("/work").entries();
  out.glob = await c.rootfs().glob("etc/*");

  const written = base.withExec(["sh", "-c", "mkdir -p /out && echo made > /out/x"]);
  out.written = await written.file("/out/x").contents();
  out.redirect = await base.withExec(["echo", "to-file"], { redirectStdout: "/tmp/o.txt" }).file("/tmp/o.txt").contents();
  out.combined = await base.withExec(["sh", "-c", "echo a; sleep 0.2; echo b >&2"]).combinedOutput();
  out.temp = await base.withMountedTemp("/scratch").withExec(["sh", "-c", "mount | grep -c ' /scratch '"]).stdout();
  out.mounts = await base.withMountedTemp("/scratch").mounts();
  out.labels = await base.withLabel("a", "1").withLabel("b", "2").withoutLabel("a").label("b");
  out.platform = await base.platform();
  out.entrypoint = await base.withEntrypoint(["sh", "-c"]).withExec(["echo via-entrypoint"], { useEntrypoint: true }).stdout();

  const id = await c.id();
  out.fromId = await dag.loadContainerFromID(id).stdout();
});
