// Ten mixed operations in one session: execs (one failing as expected), files,
// directories, a cache volume, env and a secret; prints how many succeeded.
import { connection, dag, ReturnType } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const tag = process.env.TANTO_TEST_TAG ?? String(process.pid);
let ok = 0;
await connection(async () => {
  const base = dag.container().from(image).withEnvVariable("T", tag);
  const ops = [
    () => base.withExec(["sh", "-c", "echo $T"]).stdout(),
    () => base.withExec(["sh", "-c", "exit 3"], { expect: ReturnType.Any }).exitCode(),
    () => base.withNewFile("/f", `file-${tag}`).file("/f").contents(),
    () => dag.directory().withNewFile("a", tag).withNewDirectory("d").entries(),
    () =>
      base
        .withMountedCache("/c", dag.cacheVolume(`load-${tag}`))
        .withExec(["sh", "-c", "echo $T >> /c/log; wc -l < /c/log"])
        .stdout(),
    () =>
      base
        .withSecretVariable("S", dag.setSecret(`s-${tag}`, tag))
        .withExec(["sh", "-c", 'test "$S" = "$T" && echo same'])
        .stdout(),
    () => base.withWorkdir("/tmp").withExec(["pwd"]).stdout(),
    () => base.withExec(["sh", "-c", "dd if=/dev/zero of=/z bs=1k count=64 2>/dev/null; echo $T"]).file("/z").size(),
    () => base.directory("/etc").entries(),
    () => base.withUser("nobody").withExec(["id", "-u"]).stdout(),
  ];
  const results = await Promise.all(ops.map((op) => op().then(() => 1)));
  ok = results.reduce((a, b) => a + b, 0);
});
console.log(JSON.stringify({ ok }));
