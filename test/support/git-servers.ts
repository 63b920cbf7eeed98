/**
 * Git servers for the credential tests, on 127.0.0.1: `git http-backend`
 * run as CGI behind HTTP Basic auth (smart HTTP), the same repository as
 * plain files (dumb HTTP, which cannot serve shallow fetches), and Debian's
 * sshd with a key that only an ssh-agent holds.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { freePort, waitForPort } from "./ports.js";

const GIT_ENV = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", HOME: "/nonexistent" };

/**
 * A bare repository `<dir>/repo.git`: a first commit (README says `text`),
 * then one more commit on main and one on branch feature. Returns its path
 * and the first commit (their common ancestor).
 */
export async function makeRepo(dir: string, text: string): Promise<string> {
  return (await makeRepoWithBranches(dir, text)).bare;
}

export async function makeRepoWithBranches(dir: string, text: string): Promise<{ bare: string; first: string }> {
  const work = path.join(dir, "work");
  await fs.mkdir(work, { recursive: true });
  const git = (...args: string[]) => execFileSync("git", args, { cwd: work, env: { ...process.env, ...GIT_ENV } });
  git("init", "-q", "-b", "main");
  await fs.writeFile(path.join(work, "README"), text);
  git("add", "README");
  const commit = (msg: string) => git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", msg);
  commit("first");
  const first = git("rev-parse", "HEAD").toString().trim();
  git("tag", "v1.0.0");
  git("checkout", "-q", "-b", "feature");
  await fs.writeFile(path.join(work, "feature.txt"), "feature\n");
  git("add", "feature.txt");
  commit("feature");
  git("checkout", "-q", "main");
  await fs.writeFile(path.join(work, "main.txt"), "main\n");
  git("add", "main.txt");
  commit("main");
  const bare = path.join(dir, "repo.git");
  execFileSync("git", ["clone", "-q", "--bare", work, bare], { env: { ...process.env, ...GIT_ENV } });
  execFileSync("git", ["--git-dir", bare, "update-server-info"], { env: { ...process.env, ...GIT_ENV } });
  return { bare, first };
}

/**
 * An HTTP server on 127.0.0.1 for the repositories under `root`: /smart/… is
 * git http-backend, /dumb/… the files; both want Basic `user:password` (no user: open).
 */
export async function startGitHttp(root: string, user: string, password: string): Promise<{ port: number; close(): Promise<void> }> {
  const want = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const server = http.createServer((req, res) => {
    if (user !== "" && req.headers.authorization !== want) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end("unauthorized\n");
      return;
    }
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.startsWith("/dumb/")) {
      const file = path.join(root, path.normalize(url.pathname.slice(6)));
      fs.readFile(file).then(
        (body) => res.writeHead(200).end(body),
        () => res.writeHead(404).end(),
      );
      return;
    }
    if (!url.pathname.startsWith("/smart/")) {
      res.writeHead(404).end();
      return;
    }
    const cgi = spawn("git", ["http-backend"], {
      env: {
        ...GIT_ENV,
        PATH: process.env["PATH"] ?? "/usr/bin:/bin",
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: url.pathname.slice(6),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
        GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
        REMOTE_USER: user,
        REMOTE_ADDR: "127.0.0.1",
      },
      stdio: ["pipe", "pipe", "inherit"],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let sent = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (sent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString().split("\r\n")) {
        const i = line.indexOf(":");
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === "status") status = Number.parseInt(v, 10);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
      sent = true;
    });
    cgi.on("close", () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * Debian's sshd on 127.0.0.1 (its own config, host key and authorized key),
 * and an ssh-agent holding the only key it accepts. `knownHosts` is the line
 * a client needs to trust the host key; `userKey` is the file of the accepted private key.
 */
export async function startSshd(
  dir: string,
): Promise<{ port: number; agentSocket: string; knownHosts: string; userKey: string; hostPublicKey: string; close(): Promise<void> }> {
  await fs.mkdir(dir, { recursive: true });
  const hostKey = path.join(dir, "host_key");
  const userKey = path.join(dir, "user_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", userKey]);
  const authorized = path.join(dir, "authorized_keys");
  await fs.copyFile(`${userKey}.pub`, authorized);
  await fs.chmod(authorized, 0o600);
  const port = await freePort();
  const config = path.join(dir, "sshd_config");
  await fs.writeFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorized}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      // SFTP for sshfs clients (Query.sshfsVolume).
      "Subsystem sftp internal-sftp",
      `PidFile ${path.join(dir, "sshd.pid")}`,
      "",
    ].join("\n"),
  );
  await fs.mkdir("/run/sshd", { recursive: true });
  const sshd: ChildProcess = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  sshd.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const agentSocket = path.join(dir, "agent.sock");
  const agent: ChildProcess = spawn("ssh-agent", ["-D", "-a", agentSocket], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((r) => {
      const c = net.connect(port, "127.0.0.1", () => {
        c.end();
        r(true);
      });
      c.on("error", () => r(false));
    });
    const agentUp = await fs.stat(agentSocket).then(
      () => true,
      () => false,
    );
    if (up && agentUp) break;
    if (sshd.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  execFileSync("ssh-add", ["-q", userKey], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
  const hostPub = (await fs.readFile(`${hostKey}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
  const close = async () => {
    for (const child of [sshd, agent]) {
      if (child.exitCode === null && child.pid) {
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await done;
      }
    }
  };
  return { port, agentSocket, knownHosts: `[127.0.0.1]:${port} ${hostPub}`, userKey, hostPublicKey: hostPub, close };
}

/**
 * `git daemon` on 127.0.0.1 serving every repository under `basePath` (git://127.0.0.1:PORT/<path>),
 * with `env`; stop() ends it.
 */
export interface GitDaemon {
  port: number;
  stop(): Promise<void>;
}

export async function startGitDaemon(basePath: string, env: NodeJS.ProcessEnv): Promise<GitDaemon> {
  const port = await freePort();
  const daemon = spawn("git", ["daemon", "--reuseaddr", `--base-path=${basePath}`, "--export-all", `--port=${port}`, "--listen=127.0.0.1"], {
    env,
    stdio: "ignore",
  });
  const stop = async (): Promise<void> => {
    if (daemon.pid === undefined || daemon.exitCode !== null || daemon.signalCode !== null) return;
    const exited = new Promise((r) => daemon.once("exit", r));
    process.kill(daemon.pid, "SIGTERM");
    await exited;
  };
  try {
    await waitForPort(port, "git daemon", daemon);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop };
}
