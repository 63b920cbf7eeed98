// Container settings that go into images: annotations and HEALTHCHECK, read
// back from the exported archive and from a re-imported container.
import { execFileSync } from "node:child_process";
import { dag } from "@dagger.io/dagger";
import { failure, image, report } from "./common.mjs";

const blob = (tar, digest) => JSON.parse(execFileSync("tar", ["-xOf", tar, `blobs/sha256/${digest.slice(7)}`], { encoding: "utf8" }));
await report(async (out) => {
  const c = dag
    .container()
    .from(image)
    .withAnnotation("org.example.one", "1")
    .withAnnotation("org.example.two", "2")
    .withoutAnnotation("org.example.two")
    .withDockerHealthcheck(["wget", "-q", "http://localhost/"], { interval: "10s", timeout: "1m30s", retries: 4 });
  const hc = c.dockerHealthcheck();
  out.hc = [await hc.args(), await hc.shell(), await hc.interval(), await hc.timeout(), await hc.startPeriod(), await hc.retries()];
  await c.asTarball().export("./img.tar");
  const index = JSON.parse(execFileSync("tar", ["-xOf", "img.tar", "index.json"], { encoding: "utf8" }));
  const manifest = blob("img.tar", index.manifests[0].digest);
  out.annotations = manifest.annotations;
  out.configHealthcheck = blob("img.tar", manifest.config.digest).config.Healthcheck;

  const back = dag.container().import_(dag.host().file("img.tar"));
  const hc2 = back.dockerHealthcheck();
  out.imported = [await hc2.args(), await hc2.interval(), await hc2.timeout(), await hc2.retries()];
  const shell = c.withDockerHealthcheck(["curl -f http://localhost/ || exit 1"], { shell: true });
  await shell.asTarball().export("./img2.tar");
  const index2 = JSON.parse(execFileSync("tar", ["-xOf", "img2.tar", "index.json"], { encoding: "utf8" }));
  const manifest2 = blob("img2.tar", index2.manifests[0].digest);
  out.shellTest = blob("img2.tar", manifest2.config.digest).config.Healthcheck.Test;
  out.removed = await c.withoutDockerHealthcheck().dockerHealthcheck().args();
  out.none = await dag
    .container()
    .from(image)
    .dockerHealthcheck()
    .args()
    .catch((e) => `error: ${e.message}`);
  const probe = ["sh", "-c", "echo $V $W $(cat /proc/sys/kernel/random/uuid)"];
  const v1 = await dag.container().from(image).withVolatileVariable("V", "one").withExec(probe).stdout();
  const v2 = await dag.container().from(image).withVolatileVariable("V", "two").withExec(probe).stdout();
  const fresh = await dag.container().from(image).withVolatileVariable("V", "three").withEnvVariable("W", "w").withExec(probe).stdout();
  const gone = await dag.container().from(image).withVolatileVariable("V", "x").withoutVolatileVariable("V").withExec(["sh", "-c", "echo [$V]"]).stdout();
  out.volatile = { v1, v2, fresh, gone };
  out.badDuration = await failure(dag.container().withDockerHealthcheck(["true"], { interval: "soon" }).sync());
  // from() keeps what was set before it, as Dagger's does: env, labels and ports merged (the image wins), mounts kept.
  const before = dag
    .container()
    .withEnvVariable("KEEP", "1")
    .withEnvVariable("PATH", "/mine")
    .withLabel("mine", "1")
    .withExposedPort(9999)
    .withMountedDirectory("/m", dag.directory().withNewFile("f", "mounted"))
    .withEntrypoint(["false"])
    .from(image);
  out.fromKeeps = {
    keep: await before.envVariable("KEEP"),
    path: await before.envVariable("PATH"),
    label: await before.label("mine"),
    ports: await Promise.all((await before.exposedPorts()).map((p) => p.port())),
    mounted: await before.withExec(["cat", "/m/f"]).stdout(),
    entrypoint: await before.entrypoint(),
  };
});
