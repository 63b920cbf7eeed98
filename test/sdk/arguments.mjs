// Every argument does what it says, through the official SDK: each case
// records what the engine answered (or the error it gave) under its name.
import { execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { CacheSharingMode, connection, dag } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const run = randomUUID();
const out = {};

async function attempt(name, fn) {
  try {
    out[name] = await fn();
  } catch (err) {
    out[name] = { error: String(err?.message ?? err) };
  }
}

await connection(async () => {
  const base = dag.container().from(image).withEnvVariable("RUN", run);

  // withExec(redirectStdin)
  await attempt("redirectStdin", () => base.withNewFile("/in.txt", "from a file\n").withExec(["cat"], { redirectStdin: "/in.txt" }).stdout());
  await attempt("redirectExpanded", () =>
    base
      .withEnvVariable("D", "/tmp")
      .withNewFile("/tmp/in.txt", "expanded\n")
      .withExec(["cat"], { redirectStdin: "$D/in.txt", redirectStdout: "${D}/out.txt", expand: true })
      .file("/tmp/out.txt")
      .contents(),
  );
  await attempt("redirectStdinMissing", () => base.withExec(["cat"], { redirectStdin: "/nope.txt" }).stdout());

  // withExec(insecureRootCapabilities) and the same on asService
  const capEff = "grep CapEff /proc/self/status | cut -f2";
  await attempt("capsDefault", () => base.withExec(["sh", "-c", capEff]).stdout());
  await attempt("capsInsecure", () => base.withExec(["sh", "-c", capEff], { insecureRootCapabilities: true }).stdout());
  await attempt("mountDefault", () => base.withExec(["sh", "-c", "mkdir -p /m && mount -t tmpfs none /m && echo mounted"], { expect: "ANY" }).stdout());
  await attempt("mountInsecure", () =>
    base.withExec(["sh", "-c", "mkdir -p /m && mount -t tmpfs none /m && echo mounted"], { insecureRootCapabilities: true }).stdout(),
  );
  const capsService = (insecure) =>
    base
      .withExposedPort(80)
      .asService({ args: ["sh", "-c", `mkdir -p /www && ${capEff} > /www/index.html && exec httpd -f -p 80 -h /www`], insecureRootCapabilities: insecure });
  await attempt("serviceCapsInsecure", () => base.withServiceBinding("caps", capsService(true)).withExec(["wget", "-qO-", "http://caps/"]).stdout());
  await attempt("serviceCapsDefault", () => base.withServiceBinding("caps", capsService(false)).withExec(["wget", "-qO-", "http://caps/"]).stdout());

  // withMountedCache(source, owner) and cacheVolume(source, sharing, owner)
  const seed = dag.directory().withNewFile("seed.txt", "seeded\n").withNewDirectory("sub");
  const show = "stat -c '%u:%g %n' /c /c/seed.txt /c/sub; cat /c/seed.txt; ls /c";
  await attempt("mountedCacheSeeded", () =>
    base
      .withMountedCache("/c", dag.cacheVolume(`seeded-${run}`), { source: seed, owner: "1000:1000" })
      .withExec(["sh", "-c", `${show}; echo more > /c/more.txt`])
      .stdout(),
  );
  await attempt("mountedCacheKept", () =>
    base
      .withEnvVariable("AGAIN", "1")
      .withMountedCache("/c", dag.cacheVolume(`seeded-${run}`), { source: seed, owner: "1000:1000" })
      .withExec(["sh", "-c", "cat /c/more.txt; stat -c '%u:%g' /c"])
      .stdout(),
  );
  await attempt("cacheVolumeDefaults", () =>
    base
      .withMountedCache("/c", dag.cacheVolume(`defaults-${run}`, { source: seed, owner: "1234" }))
      .withExec(["sh", "-c", show])
      .stdout(),
  );
  await attempt("cacheVolumeOwnerOnly", () =>
    base
      .withMountedCache("/c", dag.cacheVolume(`owner-${run}`, { owner: "nobody" }))
      .withExec(["stat", "-c", "%U", "/c"])
      .stdout(),
  );
  const locked = dag.cacheVolume(`locked-${run}`, { sharing: CacheSharingMode.Locked });
  const logStep = (tag) =>
    base
      .withMountedCache("/c", locked)
      .withEnvVariable("TAG", tag)
      .withExec(["sh", "-c", "echo start-$TAG >> /c/log; sleep 1; echo end-$TAG >> /c/log"])
      .sync();
  await attempt("lockedFromVolume", async () => {
    await Promise.all([logStep("a"), logStep("b")]);
    return base.withMountedCache("/c", locked).withEnvVariable("READ", "1").withExec(["cat", "/c/log"]).stdout();
  });

  // withDirectory(gitignore, permissions), on Directory and Container
  const tree = dag
    .directory()
    .withNewFile(".gitignore", "*.log\nbuild/\n")
    .withNewFile("a.txt", "a\n", { permissions: 0o644 })
    .withNewFile("b.log", "b\n")
    .withNewFile("build/x", "x\n")
    .withNewFile("sub/.gitignore", "secret.txt\n")
    .withNewFile("sub/secret.txt", "s\n")
    .withNewFile("sub/kept.txt", "k\n");
  await attempt("dirGitignore", () => dag.directory().withDirectory("/", tree, { gitignore: true }).glob("**"));
  await attempt("dirNoGitignore", () => dag.directory().withDirectory("/", tree).glob("**"));
  await attempt("ctrGitignore", () => base.withDirectory("/g", tree, { gitignore: true }).withExec(["sh", "-c", "cd /g && find . | sort"]).stdout());
  await attempt("dirPermissions", async () => {
    const d = dag.directory().withDirectory("/p", tree, { permissions: 0o700 });
    return [await d.stat("p/a.txt").permissions(), await d.stat("p/sub").permissions()];
  });
  await attempt("ctrPermissions", () => base.withDirectory("/p", tree, { permissions: 0o750 }).withExec(["stat", "-c", "%a", "/p/a.txt", "/p/sub"]).stdout());

  // File.digest(excludeMetadata)
  await attempt("fileDigest", async () => {
    const f1 = dag.directory().withNewFile("f", "same", { permissions: 0o644 }).file("f");
    const f2 = dag.directory().withNewFile("f", "same", { permissions: 0o600 }).file("f");
    return {
      withMeta: [await f1.digest(), await f2.digest()],
      contentOnly: [await f1.digest({ excludeMetadata: true }), await f2.digest({ excludeMetadata: true })],
      expected: `sha256:${createHash("sha256").update("same").digest("hex")}`,
    };
  });

  // secret(cacheKey)
  const uuidWith = (secret) => base.withSecretVariable("S", secret).withExec(["cat", "/proc/sys/kernel/random/uuid"]).stdout();
  await attempt("secretCacheKey", async () => ({
    keyed: [
      await uuidWith(dag.secret("env://TANTO_SECRET_ONE", { cacheKey: `key-${run}` })),
      await uuidWith(dag.secret("env://TANTO_SECRET_TWO", { cacheKey: `key-${run}` })),
    ],
    unkeyed: [await uuidWith(dag.secret("env://TANTO_SECRET_ONE")), await uuidWith(dag.secret("env://TANTO_SECRET_TWO"))],
    value: await base
      .withSecretVariable("S", dag.secret("env://TANTO_SECRET_TWO", { cacheKey: `other-${run}` }))
      .withExec(["sh", "-c", 'test "$S" = two && echo right'])
      .stdout(),
  }));

  // Service.stop(kill): graceful (SIGTERM, the trap runs) or killed at once
  const trapper = (file) =>
    base
      .withMountedCache("/c", dag.cacheVolume(`stop-${run}`))
      .asService({ args: ["sh", "-c", `trap 'echo graceful > /c/${file}; exit 0' TERM; touch /c/started-${file}; while :; do sleep 0.1; done`] });
  await attempt("stopGraceful", async () => {
    // Stopped once running (its trap set): a signal sent before the process starts is not what is tested here.
    const running = (file) =>
      base
        .withMountedCache("/c", dag.cacheVolume(`stop-${run}`))
        .withEnvVariable("WAIT", file)
        .withExec(["sh", "-c", `until [ -e /c/started-${file} ]; do sleep 0.1; done`])
        .sync();
    const svc = await trapper("soft").start();
    await running("soft");
    await svc.stop();
    const hard = await trapper("hard").start();
    await running("hard");
    await hard.stop({ kill: true });
    return base
      .withMountedCache("/c", dag.cacheVolume(`stop-${run}`))
      .withEnvVariable("CHECK", "1")
      .withExec(["sh", "-c", "cat /c/soft; test -e /c/hard && echo hard-too || echo no-hard"])
      .stdout();
  });

  // withExposedPort(experimentalSkipHealthcheck): a port nothing listens on
  await attempt("skipHealthcheck", async () => {
    const c = base.withExposedPort(8080, { experimentalSkipHealthcheck: true });
    const ports = await Promise.all((await c.exposedPorts()).map((p) => p.experimentalSkipHealthcheck()));
    const svc = c.asService({ args: ["sleep", "30"] });
    await svc.start();
    await svc.stop({ kill: true });
    return { ports, started: true };
  });

  // host().tunnel(ports: [{frontend}]) listens on that port of the client
  await attempt("tunnelFrontend", async () => {
    const free = await new Promise((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address();
        server.close(() => resolve(port));
      });
    });
    const web = base
      .withNewFile("/www/index.html", "tunnelled\n")
      .withExposedPort(80)
      .asService({ args: ["httpd", "-f", "-p", "80", "-h", "/www"] });
    const tunnel = dag.host().tunnel(web, { ports: [{ frontend: free, backend: 80 }] });
    await tunnel.start();
    const endpoint = await tunnel.endpoint();
    const body = await (await fetch(`http://127.0.0.1:${free}/`)).text();
    const ports = await Promise.all((await tunnel.ports()).map(async (p) => [await p.port(), await p.protocol()]));
    return { endpoint: endpoint === `localhost:${free}`, body, ports: JSON.stringify(ports) === JSON.stringify([[free, "TCP"]]) };
  });

  // EStarGZ: real eStargz layers (TOC, footer, annotations), still read as plain gzip
  await attempt("estargz", async () => {
    const file = path.join(os.tmpdir(), `estargz-${run}.tar`);
    const built = base.withExec(["sh", "-c", "mkdir /data; echo hello stargz > /data/hello.txt; seq 1 20000 > /data/seq.txt; ln -s hello.txt /data/link"]);
    await built.export(file, { forcedCompression: "EStarGZ" });
    const blob = (digest) => execFileSync("tar", ["-xOf", file, `blobs/sha256/${digest.slice(7)}`], { maxBuffer: 1 << 28 });
    const json = (digest) => JSON.parse(blob(digest).toString("utf8"));
    const index = JSON.parse(execFileSync("tar", ["-xOf", file, "index.json"], { encoding: "utf8" }));
    const manifest = json(index.manifests[0].digest);
    const config = json(manifest.config.digest);
    const checks = manifest.layers.map((layer, i) => {
      const bytes = blob(layer.digest);
      const inflated = zlib.gunzipSync(bytes);
      const footer = bytes.subarray(bytes.length - 51);
      const extra = footer.subarray(16, 38).toString("ascii");
      const tocOffset = Number.parseInt(extra.slice(0, 16), 16);
      const tocTar = zlib.gunzipSync(bytes.subarray(tocOffset, bytes.length - 51));
      const tocName = tocTar.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
      const tocSize = Number.parseInt(tocTar.subarray(124, 136).toString("ascii"), 8);
      const tocJson = tocTar.subarray(512, 512 + tocSize);
      const toc = JSON.parse(tocJson.toString("utf8"));
      const sha = (b) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
      const hello = toc.entries.find((e) => e.name === "data/hello.txt");
      const helloAt = hello
        ? zlib
            .gunzipSync(bytes.subarray(hello.offset))
            .subarray(0, hello.chunkSize ?? hello.size)
            .toString("utf8")
        : undefined;
      return {
        mediaType: layer.mediaType,
        diffIdMatches: sha(inflated) === config.rootfs.diff_ids[i],
        sizeMatches: String(inflated.length) === layer.annotations?.["io.containers.estargz.uncompressed-size"],
        tocDigestMatches: sha(tocJson) === layer.annotations?.["containerd.io/snapshot/stargz/toc.digest"],
        footerSize: footer.length,
        footerMagic: extra.slice(16),
        tocName,
        landmark: toc.entries[0]?.name,
        helloAt,
        link: toc.entries.find((e) => e.name === "data/link")?.linkName,
      };
    });
    const imported = await dag.container().import_(dag.host().file(file)).withExec(["sh", "-c", "cat /data/hello.txt; wc -l < /data/seq.txt"]).stdout();
    fs.rmSync(file, { force: true });
    return { top: checks.at(-1), all: checks.every((c) => c.diffIdMatches && c.sizeMatches && c.tocDigestMatches), imported };
  });

  // Known wrong results
  await attempt("syncMissingDir", () =>
    dag
      .directory()
      .withNewFile("a/b", "x")
      .directory("nope")
      .sync()
      .then(() => "synced"),
  );
  await attempt("syncFileAsDir", () =>
    dag
      .directory()
      .withNewFile("a/b", "x")
      .directory("a/b")
      .sync()
      .then(() => "synced"),
  );
  await attempt("syncPresentDir", () =>
    dag
      .directory()
      .withNewFile("a/b", "x")
      .directory("a")
      .sync()
      .then(() => "synced"),
  );
  await attempt("existsBroken", () => base.withExec(["sh", "-c", "exit 7"]).exists("/etc"));
  await attempt("existsMissing", () => base.exists("/definitely-not-here"));
  await attempt("platformPrinted", () => dag.container({ platform: "linux/arm64/v8" }).platform());
  await attempt("foreignImagePlatform", () => dag.container({ platform: "linux/arm64" }).from(image).platform());
  await attempt("execErrorTrimmed", async () => {
    try {
      await base.withExec(["sh", "-c", "printf '  out line\\n\\n'; printf 'err line\\n' >&2; exit 2"]).sync();
      return "no error";
    } catch (err) {
      return { stdout: err.stdout, stderr: err.stderr };
    }
  });
  await attempt("variantsFromEmpty", async () => {
    const amd = base.withNewFile("/which", "amd64");
    const arm = dag.container({ platform: "linux/arm64" }).withRootfs(amd.rootfs());
    const file = path.join(os.tmpdir(), `variants-${run}.tar`);
    await dag.container().export(file, { platformVariants: [amd, arm] });
    const read = (name) => JSON.parse(execFileSync("tar", ["-xOf", file, name], { encoding: "utf8" }));
    let index = read("index.json");
    const first = index.manifests[0];
    if (index.manifests.length === 1 && first.mediaType.includes("index")) index = read(`blobs/sha256/${first.digest.slice(7)}`);
    fs.rmSync(file, { force: true });
    return index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`);
  });
});
console.log(JSON.stringify(out));
