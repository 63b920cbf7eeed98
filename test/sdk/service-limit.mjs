// An engine with max-services = 1 (test/services.test.ts): a second service of
// the session waits to start until the first stops, then starts and serves.
import { dag } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

const tag = process.env.TANTO_TEST_TAG ?? String(process.pid);

await report(async (out) => {
  const base = dag.container().from(image).withEnvVariable("TAG", tag);
  const web = (text) =>
    base
      .withNewFile("/www/index.html", `${text}\n`)
      .withExposedPort(80)
      .asService({ args: ["httpd", "-f", "-p", "80", "-h", "/www"] });
  const first = web("first");
  const second = web("second");
  await first.start();
  let secondUpAt;
  const starting = second.start().then(() => (secondUpAt = Date.now()));
  await new Promise((r) => setTimeout(r, 3000));
  out.waitedWhileFirstRan = secondUpAt === undefined;
  const stoppedAt = Date.now();
  await first.stop({ kill: true });
  await starting;
  out.startedAfterStop = secondUpAt >= stoppedAt;
  out.second = await base.withServiceBinding("web", second).withExec(["wget", "-qO-", "http://web/"]).stdout();
  await second.stop({ kill: true });
});
