/**
 * Servers on the client's side for the SDK tests, shared by the TypeScript,
 * Python and Go clients: the git servers with credentials (git http-backend
 * behind HTTP Basic, and Debian's sshd with a key only an ssh-agent holds),
 * and a unix socket that speaks enough of the Docker API for the docker CLI
 * (a static binary) in a busybox container to be its client.
 *
 *   const git = await startGitAuthServers(dir, "readme\n"); // git.env: GIT_HTTP, GIT_USER, GIT_PASS, [GIT_SSH_URL, SSH_AGENT, SSH_KNOWN_HOSTS]
 *   const sock = await startDockerApiSocket(dir);          // sock.env: APP_SOCK, DOCKER_CLI, APP_VERSION
 *   await gitAuthCase((env) => runCase([python, SMOKE, "git-auth"], { ...engine.env, ...env }));
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { makeRepoWithBranches, startGitHttp, startSshd } from "./git-servers.js";

export interface ClientServers {
  /** What the client program reads: URLs, credentials, socket paths. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export const HAVE_SSHD = existsSync("/usr/sbin/sshd");
const GIT_USER = "alice";

/** A repository with branches main and feature (FIRST_COMMIT is their common ancestor) behind both git servers. */
export async function startGitAuthServers(dir: string, readme: string): Promise<ClientServers> {
  const { bare, first } = await makeRepoWithBranches(dir, readme);
  const password = `pass-${randomBytes(6).toString("hex")}`;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers) await c();
  };
  try {
    const server = await startGitHttp(dir, GIT_USER, password);
    closers.push(server.close);
    const env: Record<string, string> = { GIT_HTTP: `http://127.0.0.1:${server.port}`, GIT_USER, GIT_PASS: password, FIRST_COMMIT: first };
    if (HAVE_SSHD) {
      const sshd = await startSshd(path.join(dir, "ssh"));
      closers.push(sshd.close);
      Object.assign(env, { GIT_SSH_URL: `ssh://root@127.0.0.1:${sshd.port}${bare}`, SSH_AGENT: sshd.agentSocket, SSH_KNOWN_HOSTS: sshd.knownHosts });
    }
    return { env, close };
  } catch (err) {
    await close();
    throw err;
  }
}

const DOCKER_CLI = "/usr/local/bin/docker";

/**
 * A unix socket at `<dir>/app.sock` answering the docker CLI's `version`
 * (GET /_ping, GET /v…/version) with a server version made here, so the
 * answer can only have come through this socket.
 */
export async function startDockerApiSocket(dir: string): Promise<ClientServers> {
  if (!existsSync(DOCKER_CLI)) throw new Error(`no docker CLI at ${DOCKER_CLI}: the unix socket tests use it as the client`);
  const version = `sock-${randomBytes(6).toString("hex")}`;
  const socket = path.join(dir, "app.sock");
  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    if (url === "/_ping") res.writeHead(200, { "API-Version": "1.43", "Content-Type": "text/plain" }).end("OK");
    else if (url.endsWith("/version"))
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ Version: version, ApiVersion: "1.43", Os: "linux" }));
    else res.writeHead(404, { "Content-Type": "application/json" }).end(`{"message":"not served here: ${url}"}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, resolve);
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }).then(() => fs.rm(socket, { force: true }));
  return { env: { APP_SOCK: socket, DOCKER_CLI, APP_VERSION: version }, close };
}

type RunCase = (env: Record<string, string>) => Promise<{ out: Record<string, unknown> }>;

/** Run `fn` with the servers' env, closing them after, whatever happens. */
async function withServers<T>(started: Promise<ClientServers>, fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const servers = await started;
  try {
    return await fn(servers.env);
  } finally {
    await servers.close();
  }
}

/** The Python and Go `git-auth` case (run by `run` with the servers' env) against fresh git servers. */
export async function gitAuthCase(run: RunCase): Promise<void> {
  const readme = `private readme ${randomBytes(4).toString("hex")}\n`;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-sdk-git-"));
  try {
    const { out } = await withServers(startGitAuthServers(dir, readme), run);
    assert.deepEqual(out["branches"], ["feature", "main"]);
    assert.equal(out["readme"], readme);
    assert.match(String(out["badAuth"]), /authentication failed for git repository ".*\/smart\/repo\.git"/);
    if (HAVE_SSHD) assert.equal(out["sshReadme"], readme, "ssh with the client's agent socket");
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The Python and Go `unix-socket` case against a fresh Docker API socket. */
export async function unixSocketCase(run: RunCase): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-sdk-sock-"));
  try {
    await withServers(startDockerApiSocket(dir), async (env) => {
      const { out } = await run(env);
      assert.equal(out["version"], `${env["APP_VERSION"]}\n`, "the docker CLI in the container reached the client's socket");
      assert.equal(out["without"], "absent\n");
      assert.match(String(out["missing"]), /cannot connect to the client's unix socket \/nonexistent\/x\.sock/);
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
