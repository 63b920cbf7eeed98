/**
 * Every argument the schema accepts does what it says, and the results
 * Dagger gives, through the official Node SDK on a real engine; and sessions
 * are isolated: services are not reachable by name or address from another
 * session (an nftables table of the engine's drops it), and
 * a LOCKED cache volume is exclusive across sessions.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";

const program = (name: string): string => path.join(REPO, "test", "sdk", name);
/** The nftables table an engine on `root` isolates services in (network/service-firewall.ts). */
const firewallTable = (root: string): string => `tanto-${createHash("sha256").update(path.resolve(root, "network")).digest("hex").slice(0, 8)}`;
type Report = Record<string, unknown>;

/** Bits of a CapEff hex mask. */
const caps = (hex: unknown): bigint => BigInt(`0x${String(hex).trim()}`);
const CAP_SYS_ADMIN = 1n << 21n;

describe("arguments and results", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let out: Report;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest`, TANTO_SECRET_ONE: "one", TANTO_SECRET_TWO: "two" };
    const r = await run([CLI, "run", "node", program("arguments.mjs")], { env, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    out = JSON.parse(r.stdout) as Report;
  });
  after(() => engine.destroy());

  test("withExec(redirectStdin): the file is the command's stdin; a missing one is named", () => {
    assert.equal(out["redirectStdin"], "from a file\n");
    assert.equal(out["redirectExpanded"], "expanded\n", "with expand, redirect paths are expanded");
    assert.match(String((out["redirectStdinMissing"] as Report)["error"]), /redirectStdin: open \/nope\.txt: no such file or directory/);
  });

  test("withExec(insecureRootCapabilities) and asService(insecureRootCapabilities) grant every capability", () => {
    assert.equal(caps(out["capsDefault"]) & CAP_SYS_ADMIN, 0n, "no CAP_SYS_ADMIN by default");
    assert.notEqual(caps(out["capsInsecure"]) & CAP_SYS_ADMIN, 0n, `CAP_SYS_ADMIN with insecureRootCapabilities: ${String(out["capsInsecure"])}`);
    assert.ok(caps(out["capsInsecure"]) > caps(out["capsDefault"]));
    assert.equal(out["mountDefault"], "", "mount is refused without the capability");
    assert.equal(out["mountInsecure"], "mounted\n");
    assert.notEqual(caps(out["serviceCapsInsecure"]) & CAP_SYS_ADMIN, 0n);
    assert.equal(caps(out["serviceCapsDefault"]) & CAP_SYS_ADMIN, 0n);
  });

  test("withMountedCache(source, owner) seeds a new volume and owns it; later mounts keep its contents", () => {
    assert.equal(out["mountedCacheSeeded"], "1000:1000 /c\n1000:1000 /c/seed.txt\n1000:1000 /c/sub\nseeded\nseed.txt\nsub\n");
    assert.equal(out["mountedCacheKept"], "more\n1000:1000\n");
  });

  test("cacheVolume(source, owner, sharing) are the defaults of its mounts", () => {
    assert.equal(out["cacheVolumeDefaults"], "1234:1234 /c\n1234:1234 /c/seed.txt\n1234:1234 /c/sub\nseeded\nseed.txt\nsub\n");
    assert.equal(out["cacheVolumeOwnerOnly"], "nobody\n");
    const log = String(out["lockedFromVolume"]).trim().split("\n");
    assert.equal(log.length, 4, log.join(" "));
    assert.match(log.join(" "), /^start-(a|b) end-\1 start-(a|b) end-\2$/, `LOCKED steps do not overlap: ${log.join(" ")}`);
  });

  test("withDirectory(gitignore, permissions) on Directory and Container", () => {
    assert.deepEqual(out["dirGitignore"], [".gitignore", "a.txt", "sub/", "sub/.gitignore", "sub/kept.txt"]);
    assert.deepEqual(out["dirNoGitignore"], [".gitignore", "a.txt", "b.log", "build/", "build/x", "sub/", "sub/.gitignore", "sub/kept.txt", "sub/secret.txt"]);
    assert.equal(out["ctrGitignore"], ".\n./.gitignore\n./a.txt\n./sub\n./sub/.gitignore\n./sub/kept.txt\n");
    assert.deepEqual(out["dirPermissions"], [0o700, 0o700]);
    assert.equal(out["ctrPermissions"], "750\n750\n");
  });

  test("File.digest(excludeMetadata): metadata counts by default, the bytes alone without", () => {
    const d = out["fileDigest"] as { withMeta: string[]; contentOnly: string[]; expected: string };
    assert.notEqual(d.withMeta[0], d.withMeta[1], "a chmod changes the digest");
    assert.deepEqual(d.contentOnly, [d.expected, d.expected]);
    assert.notEqual(d.withMeta[0], d.expected);
  });

  test("secret(cacheKey): secrets with one cache key hit the same cache; the value is still the secret's own", () => {
    const s = out["secretCacheKey"] as { keyed: string[]; unkeyed: string[]; value: string };
    assert.equal(s.keyed[0], s.keyed[1], "second exec answered from the cache");
    assert.notEqual(s.unkeyed[0], s.unkeyed[1], "different values without a cache key run again");
    assert.equal(s.value, "right\n");
  });

  test("Service.stop: SIGTERM first (the service's trap runs); kill: at once", () => {
    assert.equal(out["stopGraceful"], "graceful\nno-hard\n");
  });

  test("withExposedPort(experimentalSkipHealthcheck): reported, and a service with nothing listening starts", () => {
    assert.deepEqual(out["skipHealthcheck"], { ports: [true], started: true });
  });

  test("host().tunnel(ports: [{frontend}]) listens on that port, not a random one", () => {
    assert.deepEqual(out["tunnelFrontend"], { endpoint: true, body: "tunnelled\n", ports: true });
  });

  test("forcedCompression EStarGZ writes eStargz layers: TOC, footer, annotations; still plain gzip to readers", () => {
    assert.deepEqual(out["estargz"], {
      top: {
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        diffIdMatches: true,
        sizeMatches: true,
        tocDigestMatches: true,
        footerSize: 51,
        footerMagic: "STARGZ",
        tocName: "stargz.index.json",
        landmark: ".no.prefetch.landmark",
        helloAt: "hello stargz\n",
        link: "hello.txt",
      },
      all: true,
      imported: "hello stargz\n20000\n",
    });
  });

  test("Directory.sync of a missing sub-directory fails as Dagger does", () => {
    assert.match(String((out["syncMissingDir"] as Report)["error"]), /no such file or directory/);
    assert.match(String((out["syncFileAsDir"] as Report)["error"]), /is a file, not a directory/);
    assert.equal(out["syncPresentDir"], "synced");
  });

  test("Container.exists raises when the container fails to build; false only for a missing path", () => {
    assert.match(String((out["existsBroken"] as Report)["error"]), /exit code: 7/);
    assert.equal(out["existsMissing"], false);
  });

  test("platforms print as Dagger prints them; a single-platform image keeps its own platform", () => {
    assert.equal(out["platformPrinted"], "linux/arm64");
    assert.equal(out["foreignImagePlatform"], "linux/amd64");
  });

  test("an ExecError's stdout and stderr are trimmed as Dagger trims them", () => {
    assert.deepEqual(out["execErrorTrimmed"], { stdout: "out line", stderr: "err line" });
  });

  test("platformVariants on dag.container(): the empty receiver is not a variant", () => {
    assert.deepEqual(out["variantsFromEmpty"], ["linux/amd64", "linux/arm64"]);
  });
});

describe("sessions are isolated", () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest`, TANTO_ISO_RUN: Math.random().toString(36).slice(2, 10) };
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-iso-"));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
    await engine.destroy();
  });

  test("a service started by one session is not reachable by name or address from another session", async () => {
    const ready = path.join(dir, "ready.json");
    const done = path.join(dir, "done");
    const serving = run([CLI, "run", "node", program("isolation.mjs")], {
      env: { ...env, TANTO_ISO_MODE: "serve", TANTO_ISO_READY: ready, TANTO_ISO_DONE: done },
      timeoutMs: 180_000,
    });
    let names: Report | undefined;
    try {
      for (let i = 0; i < 1200 && !names; i++) {
        names = await fs.readFile(ready, "utf8").then(
          (t) => JSON.parse(t) as Report,
          () => undefined,
        );
        if (!names) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(names, "the serving session is ready");
      assert.equal(names["control"], "named\nauto\nfrom the client\n", "the session's own containers reach its services by name");
      assert.equal(names["controlByIp"], "named\nauto\nfrom the client\n", "and by address, without binding them");
      const ips = [names["namedIp"], names["autoIp"], names["hostIp"]].map(String);
      for (const ip of ips) assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
      const table = firewallTable(engine.root);
      assert.match(
        execFileSync("nft", ["list", "table", "bridge", table], { encoding: "utf8" }),
        new RegExp(ips[0]!.replaceAll(".", "\\.")),
        "isolated in the engine's table",
      );
      const probe = await run([CLI, "run", "node", program("isolation.mjs")], {
        env: {
          ...env,
          TANTO_ISO_MODE: "probe",
          TANTO_ISO_NAMES: `${String(names["named"])},${String(names["auto"])},${String(names["host"])}`,
          TANTO_ISO_IPS: ips.join(","),
        },
      });
      assert.equal(probe.code, 0, probe.stderr);
      const seen = JSON.parse(probe.stdout) as Report;
      assert.equal(seen["own"], "own\npinged\n", `the probing session reaches its own service by address (${String(seen["ownIp"])})`);
      assert.equal(seen["ipv6"], "0\n", "no IPv6 address on a container's link");
      for (const name of [names["named"], names["auto"], names["host"]])
        assert.match(String(seen[String(name)]), /unreachable/, `${String(name)} from another session`);
      for (const ip of ips) assert.equal(seen[ip], "unreachable\nno-ping\n", `${ip} by address from another session`);
    } finally {
      await fs.writeFile(done, "");
    }
    const r = await serving;
    assert.equal(r.code, 0, r.stderr);
  });

  test("a LOCKED cache volume is exclusive across sessions", async () => {
    const step = (mode: string) => run([CLI, "run", "node", program("isolation.mjs")], { env: { ...env, TANTO_ISO_MODE: mode } });
    const results = await Promise.all([step("a"), step("b")]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const log = await step("log");
    assert.equal(log.code, 0, log.stderr);
    const lines = String((JSON.parse(log.stdout) as Report)["log"])
      .trim()
      .split("\n");
    assert.equal(lines.length, 4, lines.join(" "));
    assert.match(lines.join(" "), /^start-(a|b) end-\1 start-(a|b) end-\2$/, `steps of two sessions do not overlap: ${lines.join(" ")}`);
  });
});
