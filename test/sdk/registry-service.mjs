// Services the engine itself uses, through the official SDK: Container.from /
// publish with registryService (a registry, Debian's docker-registry with its
// binary and libc taken from the host into a busybox container, reached for
// one push and one pull under an address whose host resolves nowhere), and
// http and git with experimentalServiceHost (busybox httpd, by its endpoint;
// for git, serving the bare repository GIT_BARE over dumb HTTP).
import { randomBytes } from "node:crypto";
import { realpathSync } from "node:fs";
import { dag } from "@dagger.io/dagger";
import { failure, image, report } from "./common.mjs";

const config = [
  "version: 0.1",
  "log:",
  "  level: error",
  "storage:",
  "  filesystem:",
  "    rootdirectory: /var/lib/registry",
  "http:",
  "  addr: :5000",
  "",
].join("\n");
const hostFile = (p) => dag.host().file(realpathSync(p));
await report(async (out) => {
  const nonce = randomBytes(6).toString("hex");
  const registry = dag
    .container()
    .from(image)
    .withFile("/usr/bin/docker-registry", hostFile("/usr/bin/docker-registry"))
    .withFile("/lib/x86_64-linux-gnu/libc.so.6", hostFile("/lib/x86_64-linux-gnu/libc.so.6"))
    .withFile("/lib64/ld-linux-x86-64.so.2", hostFile("/lib64/ld-linux-x86-64.so.2"))
    .withNewFile("/etc/registry.yml", config)
    // Its storage outlives each start: the service runs for one pull or push at a time.
    .withMountedCache("/var/lib/registry", dag.cacheVolume(`registry-${nonce}`))
    .withExposedPort(5000)
    .asService({ args: ["/usr/bin/docker-registry", "serve", "/etc/registry.yml"] });

  const address = "registry.invalid:5000/tanto/pushed:v1";
  out.published = await dag.container().from(image).withNewFile("/marker", `marker ${nonce}\n`).publish(address, { registryService: registry });
  out.pulled = await dag.container().from(address, { registryService: registry }).file("/marker").contents();
  out.byDigest = await dag.container().from(out.published, { registryService: registry }).withExec(["cat", "/marker"]).stdout();
  out.nonce = nonce;
  out.withoutService = await failure(dag.container().from("registry.invalid:5000/tanto/pushed:v2").sync());
  out.noPort = await failure(
    dag
      .container()
      .from("registry.invalid/tanto/pushed:v1", {
        registryService: dag
          .container()
          .from(image)
          .asService({ args: ["sleep", "60"] }),
      })
      .sync(),
  );

  const web = dag
    .container()
    .from(image)
    .withNewFile("/www/f.txt", `served ${nonce}\n`)
    .withExposedPort(8080)
    .asService({ args: ["httpd", "-f", "-p", "8080", "-h", "/www"] });
  const url = `${await web.endpoint({ scheme: "http" })}/f.txt`;
  out.httpViaService = await dag.http(url, { experimentalServiceHost: web }).contents();
  out.httpWithoutService = await failure(dag.http(url.replace("/f.txt", "/g.txt")).contents());

  const gitWeb = dag
    .container()
    .from(image)
    .withDirectory("/www/repo.git", dag.host().directory(process.env.GIT_BARE))
    .withExposedPort(8080)
    .asService({ args: ["httpd", "-f", "-p", "8080", "-h", "/www"] });
  const gitUrl = `${await gitWeb.endpoint({ scheme: "http" })}/repo.git`;
  const repo = dag.git(gitUrl, { experimentalServiceHost: gitWeb });
  out.gitBranches = await repo.branches();
  out.gitReadme = await repo.branch("main").tree().file("README").contents();
  out.gitFeature = await repo.branch("feature").tree({ discardGitDir: true }).entries();
  out.gitWithout = await failure(dag.git(gitUrl).head().commit());
});
