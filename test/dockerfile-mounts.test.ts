/** Dockerfile `RUN --mount` (cache, secret, bind, ssh) and dockerBuild(secrets, ssh) through the official SDK. */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { sdkEngine } from "./support/sdk-engine.js";

describe("Dockerfile RUN --mount through the SDK", () => {
  const t = sdkEngine();

  test("cache, secret, bind and ssh mounts hold for their RUN only", async () => {
    // An ssh-agent of the client's, holding one key.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-dfssh-"));
    const sock = path.join(dir, "agent.sock");
    const agent: ChildProcess = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    let out: Record<string, string>;
    let listed: string;
    try {
      for (let i = 0; i < 100 && !(await fs.stat(sock).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 50));
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tanto-build-key", "-f", path.join(dir, "key")]);
      const agentEnv = { ...process.env, SSH_AUTH_SOCK: sock };
      execFileSync("ssh-add", ["-q", path.join(dir, "key")], { env: agentEnv });
      listed = execFileSync("ssh-add", ["-l"], { env: agentEnv, encoding: "utf8" });
      out = await t.program<Record<string, string>>("docker-mounts.mjs", { env: { SSH_SOCK: sock } });
    } finally {
      const exited = new Promise((r) => agent.once("exit", r));
      agent.kill("SIGTERM");
      await exited;
      await fs.rm(dir, { recursive: true, force: true });
    }
    assert.match(listed, /tanto-build-key/);
    assert.equal(out["ssh-keys"], listed, "ssh-add in the RUN lists the client agent's key");
    assert.equal(out["ssh-sock"], "/run/buildkit/ssh_agent.0\n");
    assert.equal(out["ssh-owner"], "65534\n");
    assert.equal(out["ssh-keys2"], listed, "SSH_AUTH_SOCK names the first ssh mount's target");
    assert.equal(out["ssh-after-ssh"], "gone\n");
    assert.match(out["sshMissing"]!, /RUN --mount=type=ssh,id=default: no socket given to dockerBuild\(ssh\)/);
    assert.equal(out["sshOptional"], "no error", "an ssh mount that is not required is left out without a socket");
    assert.match(out["sshMode"]!, /mode= is not supported for ssh mounts/);
    assert.equal(out["count"], "1\n");
    assert.equal(out["token-length"], "12\n");
    assert.equal(out["secrets-seen"], "token\n");
    assert.equal(out["tok-mode"], "-r--r--r--\n");
    assert.equal(out["from-context"], "context file\n");
    assert.equal(out["from-stage"], "tool\n");
    assert.match(out["ctx-list"]!, /^Dockerfile\nsrc\nwritten\n$/);
    assert.equal(out["after"], "gone\n");
    assert.equal(out["cacheAgain"], "1\n", "the cache mount's volume outlives the build");
    assert.match(out["missingSecret"]!, /RUN --mount=type=secret,id=nope: no such secret given to dockerBuild\(secrets\)/);
    assert.match(out["badMount"]!, /--mount=type=tmpfs,target=\/t: type=tmpfs is not supported \(cache, secret, bind and ssh are\)/);
    assert.ok(!JSON.stringify(out).includes("s3cret-value"));
  });
});
