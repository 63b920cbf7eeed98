/**
 * The remote cache in a registry: engines with separate roots and networks,
 * one registry. Engine A exports as it runs a 20-step pipeline; engine B,
 * with an empty root, answers it from the registry with no exec run, then
 * after one env change re-runs exactly the steps from the change on (mode=max).
 * With mode=min (the default) only the result asked for is exported: B
 * answers it, but not a changed pipeline's unchanged steps. A record owning
 * several snapshots (an exec's writable directory mount) travels whole, and
 * so do records owning content blobs: B loads A's http() File with the HTTP
 * server gone, and A's image tarball without making it. Two
 * engines exporting one pipeline at once leave a cache B answers from. A
 * registry that is down during import costs a warning, and the pipeline runs.
 * A cache volume pushed by A without a REF goes to its export repository, and
 * B pulls it from its import repository.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs/promises";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const STEPS = 20;

interface Stats {
  executed: Record<string, number>;
  remoteHits: number;
  remoteCache?: { exported: number; exportsPending: number; exportsFailed: number; lookupErrors: number };
  clientRemoteCache?: { exported: number; exportsPending: number; exportsFailed: number; hits: number };
}

describe("remote cache in a registry", () => {
  let registry: string;
  let image: string;
  const engines: TestEngine[] = [];

  const engineWith = async (cache: string): Promise<TestEngine> => {
    const e = await startEngine({ configText: `[registry."${registry}"]\nhttp = true\n[network]\nenabled = false\n[cache]\n${cache}\n` });
    engines.push(e);
    return e;
  };

  before(async () => {
    registry = await testRegistry();
    image = `${registry}/busybox:latest`;
  });
  after(async () => {
    for (const e of engines) await e.destroy();
  });

  /** A pipeline of STEPS execs, each appending a line; `changeAt` sets an env var before that step. */
  const pipeline = (marker: string, changeAt?: { step: number; value: string }): string => {
    let chain = `container { from(address: "${image}") {`;
    let close = "} }";
    for (let i = 1; i <= STEPS; i++) {
      if (changeAt?.step === i) {
        chain += ` withEnvVariable(name: "CHANGED", value: "${changeAt.value}") {`;
        close = `} ${close}`;
      }
      chain += ` withExec(args: ["sh", "-c", "echo ${marker} step ${i} $CHANGED >> /log; cat /log | wc -l"]) {`;
      close = `} ${close}`;
    }
    return `{ ${chain} stdout ${close} }`;
  };

  const query = async (e: TestEngine, doc: string, env: NodeJS.ProcessEnv = {}): Promise<string> => {
    const r = await run([CLI, "query", doc], { env: { ...e.env, ...env } });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const stats = async (e: TestEngine): Promise<Stats> => JSON.parse((await e.client.request("GET", "/v1/stats")).body) as Stats;
  const execs = async (e: TestEngine): Promise<number> => (await stats(e)).executed["exec"] ?? 0;
  const exported = async (e: TestEngine): Promise<NonNullable<Stats["remoteCache"]>> => {
    for (let i = 0; ; i++) {
      const s = (await stats(e)).remoteCache!;
      if (s.exportsPending === 0) return s;
      if (i > 600) throw new Error(`exports still pending: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  test("engine B answers A's 20-step pipeline from the registry with no exec, then re-runs only the changed steps", async () => {
    const ref = `${registry}/tanto-cache/shared`;
    const a = await engineWith(`export = ["type=registry,ref=${ref},mode=max"]`);
    const b = await engineWith(`import = ["type=registry,ref=${ref}"]`);

    const fromA = await query(a, pipeline("p1"));
    assert.equal(await execs(a), STEPS);
    const report = await exported(a);
    assert.equal(report.exportsFailed, 0, a.logs());
    assert.ok(report.exported >= STEPS, JSON.stringify(report));

    const fromB = await query(b, pipeline("p1"));
    assert.equal(fromB, fromA);
    assert.equal(await execs(b), 0, "no exec ran on B");
    assert.equal((await stats(b)).remoteHits, 1, "the last step answers for the whole pipeline");

    // One env change before step 15: steps 15..20 run, 1..14 come from the registry.
    const changed = await query(b, pipeline("p1", { step: 15, value: "x" }));
    assert.match(changed, /"stdout": "20\\n"/);
    assert.equal(await execs(b), STEPS - 14);
    assert.equal((await stats(b)).remoteHits, 2);
  });

  test("mode=min (the default): only the result asked for is exported; B answers it, not a changed pipeline's unchanged steps", async () => {
    const ref = `${registry}/tanto-cache/min`;
    const a = await engineWith(`export = ["type=registry,ref=${ref}"]`);
    const b = await engineWith(`import = ["type=registry,ref=${ref}"]`);

    const fromA = await query(a, pipeline("m1"));
    assert.equal(await execs(a), STEPS);
    const report = await exported(a);
    assert.equal(report.exportsFailed, 0, a.logs());
    assert.equal(report.exported, 1, "only the last step's record: the result asked for");

    const fromB = await query(b, pipeline("m1"));
    assert.equal(fromB, fromA);
    assert.equal(await execs(b), 0, "no exec ran on B");
    assert.equal((await stats(b)).remoteHits, 1);

    // Steps 1..14 are unchanged, but only step 20 was exported: all 20 run.
    const changed = await query(b, pipeline("m1", { step: 15, value: "x" }));
    assert.match(changed, /"stdout": "20\\n"/);
    assert.equal(await execs(b), STEPS);
    assert.equal((await stats(b)).remoteHits, 1, "no intermediate record in the registry");

    // Asked again, A's answer from its local cache is not exported twice.
    await query(a, pipeline("m1"));
    assert.equal((await exported(a)).exported, 1);

    // An image tarball is not a record the registry keeps: the exec it is made from is exported instead.
    const tarball = `{ container { from(address: "${image}") { withExec(args: ["sh", "-c", "echo packed > /packed"]) { asTarball { size } } } } }`;
    const packedOnA = await query(a, tarball);
    assert.equal((await exported(a)).exported, 2);
    const before = await execs(b);
    assert.equal(await query(b, tarball), packedOnA);
    assert.equal(await execs(b), before, "the tarball's exec came from the registry");
  });

  test("a record owning several snapshots (an exec's writable directory mount) is exported and imported whole", async () => {
    const ref = `${registry}/tanto-cache/mounts`;
    const a = await engineWith(`export = ["type=registry,ref=${ref}"]`);
    const b = await engineWith(`import = ["type=registry,ref=${ref}"]`);
    const seed = JSON.parse(await query(a, `{ directory { withNewFile(path: "seed", contents: "from the client") { id } } }`)) as {
      directory: { withNewFile: { id: string } };
    };
    const exec = `container { from(address: "${image}") { withMountedDirectory(path: "/out", source: "${seed.directory.withNewFile.id}") {
      withExec(args: ["sh", "-c", "echo made > /out/made; echo in the rootfs > /rootfile"]) { MORE } } } }`;
    const out = `{ ${exec.replace("MORE", `directory(path: "/out") { entries file(path: "made") { contents } }`)} }`;
    const root = `{ ${exec.replace("MORE", `file(path: "/rootfile") { contents }`)} }`;

    const fromA = await query(a, out);
    assert.match(fromA, /"made\\n"/);
    const report = await exported(a);
    assert.equal(report.exportsFailed, 0, a.logs());
    assert.equal(report.exported, 1, JSON.stringify(report));

    const fromB = await query(b, out);
    assert.equal(fromB, fromA);
    assert.deepEqual(
      (JSON.parse(fromB) as { container: { from: { withMountedDirectory: { withExec: { directory: { entries: string[] } } } } } }).container.from
        .withMountedDirectory.withExec.directory.entries,
      ["made", "seed"],
    );
    assert.equal(await execs(b), 0, "the mount's snapshot came with the record");
    assert.equal((await stats(b)).remoteHits, 1);
    // The same record holds the exec's rootfs.
    assert.match(await query(b, root), /"in the rootfs\\n"/);
    assert.equal(await execs(b), 0);
  });

  test("records owning blobs: B loads A's http() File with the server stopped, and A's image tarball without making it", async () => {
    const ref = `${registry}/tanto-cache/blobs`;
    const a = await engineWith(`export = ["type=registry,ref=${ref}"]`);
    const b = await engineWith(`import = ["type=registry,ref=${ref}"]`);
    const body = `downloaded ${randomUUID()}\n`;
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/file.txt`;
    let fromA: { http: { id: string; contents: string } };
    try {
      fromA = JSON.parse(await query(a, `{ http(url: "${url}") { id contents } }`)) as typeof fromA;
    } finally {
      await new Promise((r) => server.close(r));
    }
    assert.equal(fromA.http.contents, body);
    assert.equal(requests, 1);
    const tarball = JSON.parse(await query(a, `{ container { from(address: "${image}") { asTarball { id size } } } }`)) as {
      container: { from: { asTarball: { id: string; size: number } } };
    };
    const report = await exported(a);
    assert.equal(report.exportsFailed, 0, a.logs());
    assert.equal(report.exported, 2, JSON.stringify(report));

    const fromB = JSON.parse(await query(b, `{ loadFileFromID(id: "${fromA.http.id}") { contents } }`)) as { loadFileFromID: { contents: string } };
    assert.equal(fromB.loadFileFromID.contents, body);
    assert.equal(requests, 1, "B did not fetch the URL");
    assert.equal((await stats(b)).remoteHits, 1);

    const tarballB = JSON.parse(await query(b, `{ loadFileFromID(id: "${tarball.container.from.asTarball.id}") { size } }`)) as {
      loadFileFromID: { size: number };
    };
    assert.equal(tarballB.loadFileFromID.size, tarball.container.from.asTarball.size);
    assert.equal((await stats(b)).remoteHits, 2);
    assert.equal((await stats(b)).executed["image-tarball"] ?? 0, 0, "B did not make the tarball");
  });

  test("two engines exporting one pipeline at once; a third answers from what they left", async () => {
    const ref = `${registry}/tanto-cache/racing`;
    // mode=max: every one of the 21 records is written by both at once.
    const both = `export = ["type=registry,ref=${ref},mode=max"]`;
    const [a, c] = await Promise.all([engineWith(both), engineWith(both)]);
    const [fromA, fromC] = await Promise.all([query(a, pipeline("p2")), query(c, pipeline("p2"))]);
    assert.equal(fromA, fromC);
    for (const e of [a, c]) assert.equal((await exported(e)).exportsFailed, 0, e.logs());
    const b = await engineWith(`import = ["type=registry,ref=${ref}"]`);
    assert.equal(await query(b, pipeline("p2")), fromA);
    assert.equal(await execs(b), 0);
    // Every intermediate record they both wrote is whole: a change at step 20 runs step 20 alone.
    assert.match(await query(b, pipeline("p2", { step: 20, value: "y" })), /"stdout": "20\\n"/);
    assert.equal(await execs(b), 1);
  });

  test("a cache volume through the remote cache: A pushes it to its export repository, B pulls it from its import one", async () => {
    const ref = `${registry}/tanto-cache/volumes`;
    const a = await engineWith(`export = ["type=registry,ref=${ref}"]`);
    const b = await engineWith(`import = ["type=registry,ref=${registry}/tanto-cache/empty", "type=registry,ref=${ref}"]`);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-volume-remote-"));
    try {
      const volume = JSON.parse(await query(a, `{ cacheVolume(key: "seeded") { id } }`)) as { cacheVolume: { id: string } };
      const fill = `for i in $(seq 1 40); do echo $i > /c/f$i; chown $((1000 + i % 3)):2000 /c/f$i; chmod $((600 + i % 2 * 155)) /c/f$i; done; ln -s f1 /c/link`;
      await query(
        a,
        `{ container { from(address: "${image}") { withMountedCache(path: "/c", cache: "${volume.cacheVolume.id}") { withExec(args: ["sh", "-c", "${fill}"]) { sync } } } } }`,
      );

      const pushed = await run([CLI, "cache-volume", "push", "seeded"], { env: a.env });
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.match(pushed.stderr, /cache volume "seeded" pushed to .*\/tanto-cache\/volumes:tanto-volume-[0-9a-f]{64} \(sha256:/);
      const pulled = await run([CLI, "cache-volume", "pull", "seeded"], { env: b.env });
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(pulled.stderr, /cache volume "seeded" made from .*\/tanto-cache\/volumes:tanto-volume-/);

      const listings = await Promise.all(
        [a, b].map(async (e, n) => {
          const out = path.join(dir, `${n}.tar`);
          const r = await run([CLI, "cache-volume", "export", "seeded", out], { env: e.env });
          assert.equal(r.code, 0, r.stderr);
          return (await run(["tar", "-t", "-v", "--numeric-owner", "--full-time", "-f", out])).stdout.trim().split("\n").sort();
        }),
      );
      assert.equal(listings[1]!.length, 42, listings[1]!.join("\n"));
      assert.deepEqual(listings[1], listings[0]);

      // Another owner is another volume: not in the cache. And B has nowhere to push to.
      const missing = await run([CLI, "cache-volume", "pull", "--owner", "1000", "seeded"], { env: b.env });
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /cache volume "seeded" \(owner "1000"\) is in none of the remote cache's import repositories/);
      const nowhere = await run([CLI, "cache-volume", "push", "seeded"], { env: b.env });
      assert.notEqual(nowhere.code, 0);
      assert.match(nowhere.stderr, /no REF given, and the engine's \[cache\] has no export entry/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test("a registry that is down during import: a warning (log and client), the pipeline runs, and the registry is left alone a while", async () => {
    const d = await engineWith(`import = ["type=registry,ref=127.0.0.1:1/tanto-cache/down"]\n[registry."127.0.0.1:1"]\nhttp = true`);
    const step = (n: number) => `{ container { from(address: "${image}") { withExec(args: ["echo", "still runs ${n}"]) { stdout } } } }`;
    const r = await run([CLI, "query", step(1)], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /still runs 1/);
    assert.match(r.stderr, /WARN: remote cache 127\.0\.0\.1:1\/tanto-cache\/down cannot be read .*ops run here; not asked again for 30 s/);
    assert.equal(await execs(d), 1);
    assert.match(d.logs(), /remote cache lookup failed; running the op/);
    // The exec's lookup failed; the image's, and the next pipeline's, did not ask.
    assert.match(await query(d, step(2)), /still runs 2/);
    assert.equal(await execs(d), 2);
    const s = (await stats(d)).remoteCache as { lookupErrors: number; lookups?: number };
    assert.equal(s.lookupErrors, 1);
    assert.equal(s.lookups, 1);
  });

  test("a client's _EXPERIMENTAL_DAGGER_CACHE_CONFIG, on engines without [cache]", async () => {
    const env = { _EXPERIMENTAL_DAGGER_CACHE_CONFIG: `type=registry,ref=${registry}/tanto-cache/client,mode=max` };
    const [e, f] = await Promise.all([engineWith(""), engineWith("")]);
    const fromE = await query(e, pipeline("p3"), env);
    for (let i = 0; ; i++) {
      const s = (await stats(e)).clientRemoteCache!;
      if (s.exportsPending === 0) {
        assert.equal(s.exportsFailed, 0, e.logs());
        assert.ok(s.exported >= STEPS, JSON.stringify(s));
        break;
      }
      assert.ok(i < 600, JSON.stringify(s));
      await new Promise((r) => setTimeout(r, 100));
    }
    // Without the variable, F has nothing to import from.
    assert.equal((await stats(f)).clientRemoteCache, undefined);
    assert.equal(await query(f, pipeline("p3"), env), fromE);
    assert.equal(await execs(f), 0);
    assert.equal((await stats(f)).clientRemoteCache?.hits, 1);

    const bad = await run([CLI, "query", "{ version }"], { env: { ...f.env, _EXPERIMENTAL_DAGGER_CACHE_CONFIG: "type=gha,scope=x" } });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /_EXPERIMENTAL_DAGGER_CACHE_CONFIG.*"type=gha,scope=x": type must be "registry"/);
  });
});
