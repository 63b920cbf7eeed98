// Container.up through the official SDK: the container as a service, forwarded to the client.
import { connection, dag } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const upPort = Number(process.env.TANTO_UP_PORT);
async function fetchRetry(url) {
  for (let i = 0; ; i++) {
    try {
      return await (await fetch(url, { signal: AbortSignal.timeout(3000) })).text();
    } catch (err) {
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
let body;
await connection(async () => {
  const web = dag.container().from(image).withNewFile("/www/index.html", "up from a container\n").withExposedPort(80);
  // up() serves until the session ends: not awaited.
  web.up({ ports: [{ frontend: upPort, backend: 80 }], args: ["httpd", "-f", "-p", "80", "-h", "/www"] }).catch(() => undefined);
  body = await fetchRetry(`http://127.0.0.1:${upPort}/`);
});
console.log(JSON.stringify({ body }));
process.exit(0);
