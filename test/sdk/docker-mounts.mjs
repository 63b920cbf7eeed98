// Dockerfile RUN --mount through the official SDK: a cache shared between
// builds, a secret of dockerBuild(secrets), binds of the context and a stage.
import { connection, dag } from "@dagger.io/dagger";

const buildArgs = [{ name: "BASE", value: process.env.TANTO_TEST_IMAGE }];
const out = {};
const dockerfile = `ARG BASE
FROM $BASE AS tools
RUN echo tool > /tool.txt

FROM $BASE
RUN --mount=type=cache,target=/cache,id=counter echo x >> /cache/n && wc -l < /cache/n > /count
RUN --mount=type=secret,id=token cat /run/secrets/token | wc -c > /token-length && ls /run/secrets > /secrets-seen
RUN --mount=type=secret,id=token,target=/tok,mode=0444 ls -l /tok | cut -c1-10 > /tok-mode
RUN --mount=type=bind,source=src,target=/src cat /src/in.txt > /from-context
RUN --mount=type=bind,from=tools,source=/tool.txt,target=/t.txt cat /t.txt > /from-stage
RUN --mount=type=bind,target=/ctx,rw touch /ctx/written && ls /ctx > /ctx-list
RUN test ! -e /cache/n && test ! -e /src/in.txt && test ! -s /run/secrets/token && echo gone > /after
`;
const failure = async (p) => {
  try {
    await p;
    return "no error";
  } catch (err) {
    return String(err.message ?? err);
  }
};
await connection(async () => {
  const ctx = dag.directory().withNewFile("Dockerfile", dockerfile).withNewFile("src/in.txt", "context file\n");
  const token = dag.setSecret("token", "s3cret-value");
  const built = ctx.dockerBuild({ buildArgs, secrets: [token] });
  for (const f of ["count", "token-length", "secrets-seen", "tok-mode", "from-context", "from-stage", "ctx-list", "after"]) {
    out[f] = await built.file(`/${f}`).contents();
  }
  // A second build with a change before the cache RUN: the cache volume keeps its content.
  const again = dag
    .directory()
    .withNewFile("Dockerfile", `ARG BASE\nFROM $BASE\nRUN echo other > /other\nRUN --mount=type=cache,target=/c,id=counter wc -l < /c/n > /count\n`)
    .dockerBuild({ buildArgs });
  out.cacheAgain = await again.file("/count").contents();
  out.missingSecret = await failure(
    dag
      .directory()
      .withNewFile("Dockerfile", `ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=nope,required cat /run/secrets/nope\n`)
      .dockerBuild({ buildArgs })
      .sync(),
  );
  out.badMount = await failure(
    dag.directory().withNewFile("Dockerfile", `ARG BASE\nFROM $BASE\nRUN --mount=type=ssh true\n`).dockerBuild({ buildArgs }).sync(),
  );
});
console.log(JSON.stringify(out));
