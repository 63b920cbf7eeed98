/**
 * Directory.dockerBuild through the official SDK: a two-stage Dockerfile built
 * on tanto's own solver from the client's directory (FROM the test registry's
 * busybox through a build arg), run, inspected, rebuilt from the cache, and a
 * Dockerfile that uses what a build here cannot do.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const DOCKERFILE = `# syntax=docker/dockerfile:1
ARG BASE
FROM --platform=$BUILDPLATFORM \${BASE} AS build
ARG GREETING=hello
WORKDIR /work
COPY greeting.txt ./
RUN echo "$GREETING from $(cat greeting.txt)" > out.txt \\
 && mkdir -p /out \\
 && cp out.txt /out/message.txt
RUN ["sh", "-c", "echo exec-form > /out/exec.txt"]

FROM $BASE AS final
ENV APP_HOME=/app \\
    MODE=test
LABEL org.example.name="demo app" org.example.mode=\${MODE:-none}
WORKDIR $APP_HOME
COPY --from=build /out/ ./
COPY --chmod=755 run.sh /usr/local/bin/
COPY --from=build --chown=nobody:nogroup /work/out.txt owned.txt
COPY . /ctx/
COPY greeting.txt /etc
COPY *.txt /txt/
USER nobody
EXPOSE 8080 53/udp
ENTRYPOINT ["/usr/local/bin/run.sh"]
CMD ["default-arg"]
`;

const RUN_SH = `#!/bin/sh
echo "args: $*"
echo "user: $(id -u) pwd: $(pwd) mode: $MODE"
cat message.txt exec.txt
`;

const BAD = `FROM busybox
RUN true
# the next one is not supported

ONBUILD RUN echo later
`;

describe("Directory.dockerBuild", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let workdir: string;
  const program = path.join(REPO, "test", "sdk", "docker-build.mjs");

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest` };
    workdir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-dockerbuild-"));
    await fs.writeFile(path.join(workdir, "Dockerfile"), DOCKERFILE);
    await fs.writeFile(path.join(workdir, "run.sh"), RUN_SH, { mode: 0o644 });
    await fs.writeFile(path.join(workdir, "greeting.txt"), "the context");
    await fs.writeFile(path.join(workdir, ".dockerignore"), "# not for the image\nsecret.txt\n*.log\n");
    await fs.writeFile(path.join(workdir, "secret.txt"), "secret\n");
    await fs.writeFile(path.join(workdir, "debug.log"), "log\n");
    await fs.mkdir(path.join(workdir, "bad"));
    await fs.writeFile(path.join(workdir, "bad", "Dockerfile"), BAD);
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(workdir, { recursive: true, force: true });
  });

  test("a two-stage build runs with its configuration; a rebuild is cached", async () => {
    const first = await run([CLI, "run", "node", program], { env, cwd: workdir });
    assert.equal(first.code, 0, first.stderr);
    const out = JSON.parse(first.stdout) as Record<string, unknown>;

    assert.equal(out["run"], "args: one two\nuser: 65534 pwd: /app mode: test\nhello from the context\nexec-form\n");
    assert.match(out["runDefault"] as string, /^args: default-arg\n/);
    assert.equal(out["user"], "nobody");
    assert.equal(out["workdir"], "/app");
    assert.deepEqual(out["entrypoint"], ["/usr/local/bin/run.sh"]);
    assert.deepEqual(out["defaultArgs"], ["default-arg"]);
    assert.equal(out["mode"], "test");
    assert.deepEqual(out["labels"], { "org.example.name": "demo app", "org.example.mode": "test" });
    assert.deepEqual(out["ports"], ["8080/TCP", "53/UDP"]);
    assert.equal(
      out["files"],
      "owned.txt 65534:65534 644\n/usr/local/bin/run.sh 0:0 755\n.dockerignore\nDockerfile\nbad\ngreeting.txt\nrun.sh\n/etc/greeting.txt\n\n/txt:\ngreeting.txt\n",
      "--chown, --chmod, .dockerignore, a file into an existing directory, a wildcard",
    );
    // GREETING was a build arg of the first stage: in its RUN, not in the image.
    assert.equal(out["buildArgInEnv"], 3);
    assert.equal(out["target"], "hello from the context\n");
    assert.match(out["bad"] as string, /Dockerfile:5: unsupported instruction ONBUILD/);

    assert.match(first.stderr, /WARN: Dockerfile:1: syntax directive "docker\/dockerfile:1" ignored/, "the # syntax= line is ignored with a warning");

    const before = await engine.client.stats();
    const second = await run([CLI, "run", "node", program], { env, cwd: workdir });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), out);
    const afterStats = await engine.client.stats();
    assert.equal(afterStats.executed["exec"] ?? 0, before.executed["exec"] ?? 0, "the rebuild ran no container");
    assert.ok(afterStats.cacheHits > before.cacheHits);
  });

  test("errors name the Dockerfile line: a missing build arg, an unknown stage, a missing source", async () => {
    const query = (dockerfile: string, extra = ""): string => `{ host { directory(path: ".") { dockerBuild(dockerfile: "${dockerfile}"${extra}) { id } } } }`;
    await fs.writeFile(path.join(workdir, "errors.Dockerfile"), "ARG BASE\nFROM $BASE\n");
    let r = await run([CLI, "query", query("errors.Dockerfile")], { env, cwd: workdir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /errors.Dockerfile:2: FROM names no image/);

    await fs.writeFile(path.join(workdir, "missing.Dockerfile"), `FROM ${env["TANTO_TEST_IMAGE"]}\nCOPY nope.txt /x\n`);
    r = await run([CLI, "query", query("missing.Dockerfile")], { env, cwd: workdir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing.Dockerfile:2: COPY source "nope.txt" not found in the build context/);

    r = await run([CLI, "query", query("missing.Dockerfile", ', target: "nope"')], { env, cwd: workdir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /target stage "nope" not found in missing.Dockerfile/);

    r = await run([CLI, "query", query("absent.Dockerfile")], { env, cwd: workdir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Dockerfile "absent.Dockerfile" not found in the build context/);

    assert.deepEqual(await leftovers(engine.root), { mounts: [], containers: [] });
  });

  test("heredocs: RUN scripts (shell and #!), a heredoc the shell reads, COPY heredocs with expansion, <<- and --chmod", async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "docker-heredocs.mjs")], { env, cwd: workdir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out["/run.txt"], "hello from heredoc\nsecond line\n", "a RUN that is one heredoc runs its body in the shell, with ENV and ARG");
    assert.equal(out["/compound.txt"], "keep $GREET\nafter\n", "the shell reads the heredoc of cat: <<- strips tabs, a quoted delimiter expands nothing");
    assert.equal(out["/script.txt"], "awk script\n", "a body starting with #! runs as a script file");
    assert.equal(out["/etc/copied.txt"], 'hello from heredoc "quoted" \\n\n', "COPY expands ARG and ENV, keeps quotes and escapes");
    assert.equal(out["/dst/RAW"], "raw $GREET\n");
    assert.equal(out["/dst/TABS"], "tabs heredoc\n");
    assert.equal(out["modes"], "/etc/copied.txt 644\n/dst/RAW 700\n/dst/TABS 700\n");
    assert.equal(out["pipesGone"], "gone\n", "the script's mount is for its RUN only");
    assert.match(String(out["unterminated"]), /Dockerfile:2: unterminated heredoc <<EOF in RUN: no line "EOF" ends it/);
  });
});
