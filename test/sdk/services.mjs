// Services through the official SDK: bindings by alias, one shared instance
// per session, services binding services, failures, and clean rootfs diffs.

import http from "node:http";
import { connection, dag } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const out = {};

async function fetchRetry(url) {
  for (let i = 0; ; i++) {
    try {
      return await (await fetch(url, { signal: AbortSignal.timeout(3000) })).text();
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
await connection(async () => {
  const base = dag.container().from(image);
  const web = base
    .withNewFile("/www/index.html", "hello from web\n")
    .withExposedPort(80)
    .asService({ args: ["sh", "-c", "echo $$ > /www/pid; exec httpd -f -p 80 -h /www"] });

  const fetch = (tag) =>
    base.withServiceBinding("web", web).withEnvVariable("TAG", tag).withExec(["sh", "-c", "wget -qO- http://web/; wget -qO- http://web/pid"]).stdout();
  const [a, b] = await Promise.all([fetch("a"), fetch("b")]);
  out.a = a;
  out.samePid = a.split("\n")[1] === b.split("\n")[1];
  out.hostname = await web.hostname();
  out.endpoint = await web.endpoint({ scheme: "http" });
  out.byHostname = await base
    .withServiceBinding("web", web)
    .withExec(["sh", "-c", `wget -qO- http://${out.hostname}/`])
    .stdout();

  const proxy = base
    .withServiceBinding("web", web)
    .withExposedPort(8080)
    .asService({ args: ["sh", "-c", "mkdir -p /www2 && wget -qO /www2/index.html http://web/ && exec httpd -f -p 8080 -h /www2"] });
  out.chained = await base.withServiceBinding("proxy", proxy).withExec(["wget", "-qO-", "http://proxy:8080/"]).stdout();

  const broken = base.withExposedPort(81).asService({ args: ["sh", "-c", "echo boom; exit 3"] });
  try {
    await base.withServiceBinding("broken", broken).withExec(["true"]).sync();
    out.broken = "no error";
  } catch (err) {
    out.broken = String(err.message);
  }

  // A service that ends while a bound command still runs fails that command, as in Dagger.
  const shortLived = base.withExposedPort(82).asService({ args: ["sh", "-c", "httpd -p 82 -h /; sleep 2; echo bye; exit 4"] });
  const started = Date.now();
  try {
    await base.withServiceBinding("short", shortLived).withExec(["sh", "-c", "sleep 20; echo survived"]).stdout();
    out.serviceEnded = "no error";
  } catch (err) {
    out.serviceEnded = String(err.message);
  }
  out.serviceEndedFast = Date.now() - started < 15000;

  out.etc = await base.withExec(["sh", "-c", "cat /etc/resolv.conf > /dev/null && echo ok"]).directory("/etc").entries();
  // up() serves until the session ends: not awaited.
  const upPort = Number(process.env.TANTO_UP_PORT);
  web.up({ ports: [{ frontend: upPort, backend: 80 }] }).catch(() => undefined);
  out.up = await fetchRetry(`http://127.0.0.1:${upPort}/`);
  const tunnel = dag.host().tunnel(web);
  out.tunnelEndpoint = await tunnel.endpoint({ scheme: "http" });
  out.tunnel = await fetchRetry(out.tunnelEndpoint);
  // A server on the client's machine, reached from a container through host().service.
  const laptop = http.createServer((_req, res) => res.end("from the client\n"));
  await new Promise((r) => laptop.listen(0, "127.0.0.1", r));
  const hostService = dag.host().service([{ frontend: 8000, backend: laptop.address().port }]);
  out.hostService = await base.withServiceBinding("laptop", hostService).withExec(["wget", "-qO-", "http://laptop:8000/"]).stdout();
  laptop.close();

  out.started = await web.start().then((s) => s.hostname());
  await web.stop();
});
console.log(JSON.stringify(out));
// up() is still waiting for the session to end, which waits for us: leave.
process.exit(0);
