// Privileged nesting through the official SDK: a process inside a container
// reaches the engine at 127.0.0.1:$DAGGER_SESSION_PORT with its token, runs
// queries (also ones that run containers, and ones that nest again), and a
// container without nesting gets no such variables.
import { dag } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

/** A shell line that POSTs the GraphQL query in $1 to the nested session, with the token in $2 (default: the right one). */
const POST = `post() { tok=\${2:-$DAGGER_SESSION_TOKEN}; wget -q -O- --header "Authorization: Basic $(printf %s: "$tok" | base64)" --post-data "$1" http://127.0.0.1:$DAGGER_SESSION_PORT/query; }`;
const body = (query) => JSON.stringify({ query });
const gql = (s) => JSON.stringify(s);

await report(async (out) => {
  const base = dag.container().from(image);
  const nested = (script, env = {}) => {
    let c = base;
    for (const [k, v] of Object.entries(env)) c = c.withEnvVariable(k, v);
    return c.withExec(["sh", "-c", `${POST}\n${script}`], { experimentalPrivilegedNesting: true });
  };

  out.env = await nested('echo "port=$DAGGER_SESSION_PORT token=${#DAGGER_SESSION_TOKEN}"').stdout();
  out.version = await nested('post "$Q"', { Q: body("{ version }") }).stdout();
  out.wrongToken = await nested('post "$Q" nope 2>&1 || echo "denied"', { Q: body("{ version }") }).stdout();
  out.nestedExec = await nested('post "$Q"', {
    Q: body(`{ container { from(address: ${gql(image)}) { withExec(args: ["echo", "x"]) { stdout } } } }`),
  }).stdout();
  // Nested twice: the inner exec nests again and asks for the version.
  const inner = `${POST}\npost '${body("{ version }")}'`;
  out.twice = await nested('post "$Q"', {
    Q: body(`{ container { from(address: ${gql(image)}) { withExec(args: ["sh", "-c", ${gql(inner)}], experimentalPrivilegedNesting: true) { stdout } } } }`),
  }).stdout();
  // Host files through the parent session's client.
  out.hostFile = await nested('post "$Q"', { Q: body(`{ host { file(path: "package.json") { name } } }`) }).stdout();
  out.plain = await base.withExec(["sh", "-c", "env | grep ^DAGGER_ || echo none"]).stdout();
  try {
    await nested('post "$Q" >/dev/null; exit 3', { Q: body("{ version }") }).sync();
    out.failed = "no error";
  } catch (err) {
    out.failed = err.message;
  }
  // A service with nesting: it asks the engine first, then serves the answer.
  out.service = await base
    .withServiceBinding(
      "nest",
      base
        .withEnvVariable("Q", body("{ version }"))
        .withNewFile("/www/.keep", "")
        .withExposedPort(80)
        .asService({ args: ["sh", "-c", `${POST}\npost "$Q" > /www/index.html; exec httpd -f -p 80 -h /www`], experimentalPrivilegedNesting: true }),
    )
    .withExec(["wget", "-q", "-O-", "http://nest/"])
    .stdout();
});
