// Dockerfile RUN --mount through the official SDK: a cache shared between
// builds, a secret of dockerBuild(secrets), binds of the context and a stage,
// and the client's ssh-agent (SSH_SOCK) through dockerBuild(ssh), used by
// Debian's ssh-add (copied from the host with the libraries it loads).
import { realpathSync } from "node:fs";
import { dag } from "@dagger.io/dagger";
import { failure, report } from "./common.mjs";

const buildArgs = [{ name: "BASE", value: process.env.TANTO_TEST_IMAGE }];
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
const sshDockerfile = `ARG BASE
FROM $BASE
COPY ssh-add /usr/bin/ssh-add
COPY lib/ /lib/x86_64-linux-gnu/
COPY ld.so /lib64/ld-linux-x86-64.so.2
RUN --mount=type=ssh ssh-add -l > /keys && echo "$SSH_AUTH_SOCK" > /sock
RUN --mount=type=ssh,id=default,target=/tmp/agent,uid=65534 stat -c '%u' /tmp/agent > /owner && ssh-add -l > /keys2
RUN test -z "$SSH_AUTH_SOCK" && test ! -S /run/buildkit/ssh_agent.0 && echo gone > /after-ssh
`;
await report(async (out) => {
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
    dag.directory().withNewFile("Dockerfile", `ARG BASE\nFROM $BASE\nRUN --mount=type=tmpfs,target=/t true\n`).dockerBuild({ buildArgs }).sync(),
  );

  const host = (p) => dag.host().file(realpathSync(p));
  let sshCtx = dag
    .directory()
    .withNewFile("Dockerfile", sshDockerfile)
    .withFile("ssh-add", host("/usr/bin/ssh-add"))
    .withFile("ld.so", host("/lib64/ld-linux-x86-64.so.2"));
  for (const lib of ["libselinux.so.1", "libcrypto.so.3", "libc.so.6", "libpcre2-8.so.0"])
    sshCtx = sshCtx.withFile(`lib/${lib}`, host(`/lib/x86_64-linux-gnu/${lib}`));
  const withSsh = sshCtx.dockerBuild({ buildArgs, ssh: dag.host().unixSocket(process.env.SSH_SOCK) });
  for (const f of ["keys", "sock", "owner", "keys2", "after-ssh"]) out[`ssh-${f}`] = await withSsh.file(`/${f}`).contents();
  const needsSsh = `ARG BASE\nFROM $BASE\nRUN --mount=type=ssh,required test -S "$SSH_AUTH_SOCK"\n`;
  out.sshMissing = await failure(dag.directory().withNewFile("Dockerfile", needsSsh).dockerBuild({ buildArgs }).sync());
  out.sshOptional = await failure(
    dag.directory().withNewFile("Dockerfile", `ARG BASE\nFROM $BASE\nRUN --mount=type=ssh test -z "$SSH_AUTH_SOCK"\n`).dockerBuild({ buildArgs }).sync(),
  );
  out.sshMode = await failure(
    dag.directory().withNewFile("Dockerfile", `ARG BASE\nFROM $BASE\nRUN --mount=type=ssh,mode=0600 true\n`).dockerBuild({ buildArgs }).sync(),
  );
});
