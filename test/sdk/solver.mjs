// The solver as sessions see it (test/solver.test.ts). TANTO_TEST_MODE picks:
//   slow     an exec that sleeps, then writes and prints a line (joined by a second session)
//   gated    as slow, then waits for the file TANTO_TEST_GATE and reads the exec's file again
//   waiting  an exec binding a service that takes a while to come up (killed while it waits)
//   service  an exec binding a service whose container needs a built rootfs
//   content  two different recipes making identical files, an exec on each
//   copied   the same, copied into the container (withDirectory, withFile) instead of mounted
import * as fs from "node:fs";
import { dag } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

const tag = process.env.TANTO_TEST_TAG ?? String(process.pid);
const mode = process.env.TANTO_TEST_MODE;

await report(async (out) => {
  const base = dag.container().from(image);
  if (mode === "slow" || mode === "gated") {
    const slow = base.withEnvVariable("TAG", tag).withExec(["sh", "-c", `sleep ${process.env.TANTO_TEST_SLEEP ?? "3"}; echo slow-$TAG | tee /out.txt`]);
    out.stdout = await slow.stdout();
    if (mode === "gated") {
      console.log(JSON.stringify({ step: 1 }));
      while (!fs.existsSync(process.env.TANTO_TEST_GATE)) await new Promise((r) => setTimeout(r, 50));
      out.file = await slow.file("/out.txt").contents();
    }
  } else if (mode === "waiting") {
    const late = base.withExposedPort(80).asService({ args: ["sh", "-c", "sleep 8; mkdir -p /www; echo up > /www/index.html; exec httpd -f -p 80 -h /www"] });
    out.stdout = await base
      .withServiceBinding("late", late)
      .withEnvVariable("TAG", tag)
      .withExec(["sh", "-c", "wget -qO- http://late/; echo after-$TAG"])
      .stdout();
  } else if (mode === "service") {
    const web = base
      .withEnvVariable("TAG", tag)
      .withExec(["sh", "-c", "mkdir -p /www && echo served-$TAG > /www/index.html"])
      .withExposedPort(80)
      .asService({ args: ["httpd", "-f", "-p", "80", "-h", "/www"] });
    out.stdout = await base.withServiceBinding("web", web).withEnvVariable("TAG", tag).withExec(["wget", "-qO-", "http://web/"]).stdout();
  } else if (mode === "content") {
    const one = dag.directory().withNewFile("a.txt", `same-${tag}\n`).withNewFile("b.txt", "b\n");
    const two = dag.directory().withNewFile("b.txt", "b\n").withNewFile("a.txt", `same-${tag}\n`);
    const cat = (dir) => base.withMountedDirectory("/src", dir).withExec(["sh", "-c", "cat /src/a.txt /src/b.txt"]).stdout();
    out.ids = [await one.id(), await two.id()].map((id) => id.slice(-16));
    out.one = await cat(one);
    out.two = await cat(two);
  } else if (mode === "copied") {
    const one = dag.directory().withNewFile("a.txt", `same-${tag}\n`).withNewFile("b.txt", "b\n");
    const two = dag.directory().withNewFile("b.txt", "b\n").withNewFile("a.txt", `same-${tag}\n`);
    const cat = (dir) =>
      base.withDirectory("/src", dir).withFile("/a.txt", dir.file("a.txt")).withExec(["sh", "-c", "cat /src/a.txt /src/b.txt /a.txt"]).stdout();
    out.ids = [await one.id(), await two.id()].map((id) => id.slice(-16));
    out.one = await cat(one);
    out.two = await cat(two);
  } else {
    throw new Error(`unknown TANTO_TEST_MODE ${mode}`);
  }
});
