/**
 * The kube-pod:// runner host without a cluster. A stand-in for kubectl
 * (TANTO_KUBECTL) logs its arguments and runs the real `tanto dial-stdio`
 * against a test engine, so the client side (the kubectl command line, one
 * child per kept-alive connection, an SDK session over it) is checked for
 * real, as is picking the pod by label selector on the client's node; and the real kubectl, pointed at a kubeconfig whose API server does
 * not answer, shows that its own error reaches the user. What needs a cluster
 * (exec into a pod of the Helm chart) is not tested here.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const PROGRAM = path.join(REPO, "test", "sdk", "engine-image.mjs");

describe("kube-pod:// runner host (kubectl stood in for)", () => {
  let engine: TestEngine;
  let dir: string;
  let log: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    engine = await startEngine({ registry: await testRegistry() });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-kube-pod-"));
    log = path.join(dir, "kubectl.log");
    const standIn = path.join(dir, "kubectl");
    await fs.writeFile(
      standIn,
      [
        "#!/bin/sh",
        `echo "$*" >> '${log}'`,
        // `get pods` (a selector picking the pod): two running pods.
        'case " $* " in *" get pods "*) echo "tanto-engine-a tanto-engine-b"; exit 0 ;; esac',
        `exec '${process.execPath}' '${path.join(REPO, "dist/src/cli/main.js")}' dial-stdio --addr 'unix://${engine.socket}'`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    env = {
      ...process.env,
      TANTO_KUBECTL: standIn,
      _EXPERIMENTAL_DAGGER_RUNNER_HOST: "kube-pod://tanto-engine-x7k2p?namespace=ci&context=kind-ci&container=engine",
    };
  });
  after(async () => {
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("an SDK pipeline runs over kubectl exec connections", async () => {
    const src = path.join(dir, "src");
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, "greeting.txt"), "hello over kubectl\n");
    const res = await run([CLI, "run", "node", PROGRAM, src, path.join(dir, "out.txt")], { env, cwd: dir, timeoutMs: 180_000 });
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as { stdout: string }).stdout, "hello over kubectl\nLinux\n");
    const calls = (await fs.readFile(log, "utf8")).trim().split("\n");
    assert.ok(
      calls.every((c) => c === "--context kind-ci --namespace ci exec -i tanto-engine-x7k2p -c engine -- tanto dial-stdio"),
      calls.join("\n"),
    );
    assert.ok(calls.length <= 12, `${calls.length} connections`);
    const version = await run([CLI, "version"], { env });
    assert.match(version.stdout, /^engine \S+ at kube-pod:\/\/tanto-engine-x7k2p\?namespace=ci&context=kind-ci&container=engine$/m);
  });

  test("the real kubectl's error reaches the user; bad URLs are refused with the value named", async () => {
    const kubeconfig = path.join(dir, "kubeconfig");
    await fs.writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: nowhere, cluster: {server: 'https://127.0.0.1:1'}}]",
        "users: [{name: u, user: {token: t}}]",
        "contexts: [{name: nowhere, context: {cluster: nowhere, user: u}}]",
        "current-context: nowhere",
        "",
      ].join("\n"),
    );
    const real: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, _EXPERIMENTAL_DAGGER_RUNNER_HOST: "kube-pod://tanto-0?context=nowhere" };
    delete real["TANTO_KUBECTL"];
    const res = await run([CLI, "engine", "stats"], { env: real, timeoutMs: 60_000 });
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /no engine answers at kube-pod:\/\/tanto-0\?context=nowhere: .*kubectl --context nowhere exec -i tanto-0 -- tanto dial-stdio: .*127\.0\.0\.1:1/s,
    );

    const bad = await run([CLI, "engine", "stats"], { env: { ...env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: "kube-pod://p?namespace=Not_Valid" } });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid runner host "kube-pod:\/\/p\?namespace=Not_Valid": namespace "Not_Valid" is not a valid name/);
  });

  test("a selector picks a running pod, on the client's node when known", async () => {
    await fs.writeFile(log, "");
    const url = "kube-pod://?namespace=ci&selector=app.kubernetes.io/instance=tanto";
    const res = await run([CLI, "engine", "stats"], { env: { ...env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: url, NODE_NAME: "node-7" } });
    assert.equal(res.code, 0, res.stderr);
    assert.ok("cacheHits" in (JSON.parse(res.stdout) as object));
    const calls = (await fs.readFile(log, "utf8")).trim().split("\n");
    assert.equal(
      calls[0],
      "--namespace ci get pods -l app.kubernetes.io/instance=tanto --field-selector status.phase=Running,spec.nodeName=node-7 -o jsonpath={.items[*].metadata.name}",
    );
    assert.ok(
      calls.slice(1).every((c) => c === "--namespace ci exec -i tanto-engine-a -- tanto dial-stdio"),
      calls.join("\n"),
    );
    // node= in the URL wins over the environment.
    await fs.writeFile(log, "");
    const pinned = await run([CLI, "engine", "stats"], { env: { ...env, _EXPERIMENTAL_DAGGER_RUNNER_HOST: `${url}&node=node-2`, NODE_NAME: "node-7" } });
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.match(await fs.readFile(log, "utf8"), /--field-selector status\.phase=Running,spec\.nodeName=node-2 /);
  });
});
