/**
 * Query.sshfsVolume and Container.withMountedVolume through the official SDK,
 * against Debian's sshd on 127.0.0.1 started here (sshfs runs on the engine).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { HAVE_SSHD } from "./support/client-servers.js";
import { CLI, leftovers, REPO, run, startEngine, type TestEngine } from "./support/engine.js";
import { testRegistry } from "./support/fixtures.js";
import { startSshd } from "./support/git-servers.js";

const HAVE_SSHFS = existsSync("/usr/bin/sshfs") && existsSync("/dev/fuse");

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

describe("sshfs volumes through the SDK", { skip: !HAVE_SSHD || !HAVE_SSHFS ? "needs Debian's openssh-server and sshfs, and /dev/fuse" : false }, () => {
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let data: string;
  let sshd: Awaited<ReturnType<typeof startSshd>> | undefined;

  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-sshfs-"));
    data = path.join(dir, "data");
    await fs.mkdir(data);
    await fs.writeFile(path.join(data, "hello.txt"), "hello from sshd\n");
    sshd = await startSshd(path.join(dir, "ssh"));
    const other = path.join(dir, "other_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    env = {
      ...engine.env,
      TANTO_TEST_IMAGE: `${registry}/busybox:latest`,
      NODE_PATH: path.join(REPO, "node_modules"),
      SSHFS_ENDPOINT: `sshfs://root@127.0.0.1:${sshd.port}${data}`,
      SSHFS_DATA: data,
      SSH_KEY: await fs.readFile(sshd.userKey, "utf8"),
      OTHER_KEY: await fs.readFile(other, "utf8"),
      SSH_KNOWN_HOSTS: sshd.knownHosts,
      // The user's key where the host's should be: a host key that does not match.
      WRONG_KNOWN_HOSTS: `[127.0.0.1]:${sshd.port} ${(await fs.readFile(`${sshd.userKey}.pub`, "utf8")).split(" ").slice(0, 2).join(" ")}`,
      CLOSED_PORT: String(await closedPort()),
    };
  });
  after(async () => {
    await sshd?.close();
    await engine.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("read and write a directory of the sshd; readOnly; cached like any exec; IDs, addresses, cacheKey; clear errors", async () => {
    const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", "volumes.mjs")], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out["read"], "hello from sshd\n");
    assert.equal(out["written"], "from-exec\n", "a file written in the exec is on the sshd's side");
    assert.equal(await fs.readFile(path.join(data, "sub", "f"), "utf8"), "deep\n");
    assert.equal(out["afterUnmount"], "0\n", "the remote files never reach the container's filesystem");
    assert.notEqual(out["roWrite"], 0, "a readOnly volume refuses writes");
    assert.equal(out["roFileExists"], false);
    assert.equal(out["cachedRead"], "hello from sshd\n", "the same exec again is a cache hit, as in Dagger");
    assert.equal(out["freshRead"], "changed remotely\n");
    assert.equal(out["asUser"], "deep\n");
    assert.equal(out["fromId"], "from-exec\n");
    assert.equal(out["fromAddress"], "deep\n");
    assert.equal(out["insecure"], "deep\n");
    assert.equal(out["viaService"], "deep\n", "experimentalServiceHost: reached at the service's address, host key checked under the endpoint's name");
    assert.equal(out["cacheKeyB"], out["cacheKeyA"], "volumes with one cacheKey are one for the cache");
    assert.notEqual(out["noCacheKey"], out["cacheKeyA"]);
    assert.match(String(out["badScheme"]), /endpoint "ssh:\/\/root@127\.0\.0\.1\/tmp" must use the sshfs:\/\/ scheme/);
    assert.match(String(out["noUser"]), /endpoint .* must include a user/);
    assert.match(String(out["badHost"]), /endpoint .* has an invalid host/, "no sshfs option can ride in on the host");
    assert.match(String(out["relative"]), /endpoint .* must include an absolute path/);
    assert.match(String(out["noKnownHosts"]), /knownHosts is required unless insecureSkipHostKeyCheck is true/);
    assert.match(String(out["badKey"]), /withMountedVolume \/mnt: cannot mount sshfs:.*Permission denied.*\(check privateKey\)/s);
    assert.match(String(out["wrongHost"]), /cannot mount .*Host key verification failed.*knownHosts/s);
    assert.match(String(out["unreachable"]), /cannot mount .*Connection refused.*\(check the endpoint's host and port\)/s);
    assert.match(String(out["missingPath"]), /cannot mount .*No such file or directory.*endpoint's path/s);
    assert.equal(out["keyHidden"], true);
    const left = await leftovers(engine.root);
    assert.deepEqual(left.mounts, [], "sshfs mounts and key tmpfs are gone after the execs");
    const fuse = (await fs.readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.includes("fuse.sshfs") && l.includes(engine.root));
    assert.deepEqual(fuse, []);
  });
});
