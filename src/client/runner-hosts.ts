/**
 * Runner hosts that reach an engine inside a Docker container, as the
 * official Dagger CLI does with buildctl's `docker-container://`:
 *
 *   docker-container://NAME   every HTTP connection to the engine is one
 *                             `docker exec -i NAME tanto dial-stdio` child,
 *                             its stdin/stdout spliced to the engine's unix
 *                             socket inside the container
 *   docker-image://REF        the same, with a container of REF started first
 *                             when none of that image runs:
 *                             `docker run -d --restart always --privileged
 *                              -v tanto-engine:/var/lib/tanto --name tanto-engine-<hash> REF`
 *
 * The client's files and exports travel over the session's HTTP calls, so
 * nothing here assumes the container can see the client's disk. Connections
 * are kept alive by the engine client's agent, so a session pays for a few
 * `docker exec`s, not one per request.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { Duplex } from "node:stream";
import { FailedPreconditionError, InvalidArgumentError, messageOf, UnavailableError } from "../errors.js";
import { EngineClient } from "./engine-client.js";

export const DOCKER_CONTAINER_SCHEME = "docker-container://";
export const DOCKER_IMAGE_SCHEME = "docker-image://";

/** The Docker CLI; `TANTO_DOCKER` overrides it (a wrapper, or a docker with `-H`). */
const DOCKER = process.env["TANTO_DOCKER"] || "docker";
/** The state volume of engines started for docker-image:// (the seed's `dagger-engine` volume). */
const STATE_VOLUME = "tanto-engine";
const START_TIMEOUT_MS = 60_000;

export function isDockerRunnerHost(url: string): boolean {
  return url.startsWith(DOCKER_CONTAINER_SCHEME) || url.startsWith(DOCKER_IMAGE_SCHEME);
}

/**
 * An engine client for a docker-container:// or docker-image:// URL. For
 * docker-image:// the container is started (or found) first, and the client
 * waits until the engine in it answers.
 */
export async function dockerEngineClient(url: string, log: (line: string) => void): Promise<EngineClient> {
  if (url.startsWith(DOCKER_CONTAINER_SCHEME)) {
    const name = url.slice(DOCKER_CONTAINER_SCHEME.length);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new InvalidArgumentError(`invalid runner host "${url}": want docker-container://NAME`);
    return containerClient(url, name);
  }
  if (url.startsWith(DOCKER_IMAGE_SCHEME)) {
    const ref = url.slice(DOCKER_IMAGE_SCHEME.length);
    if (!ref || /\s/.test(ref)) throw new InvalidArgumentError(`invalid runner host "${url}": want docker-image://REF`);
    const { name, started } = await ensureEngineContainer(ref, log);
    const client = containerClient(`${DOCKER_CONTAINER_SCHEME}${name}`, name);
    if (started) await waitHealthy(client, url);
    return client;
  }
  throw new InvalidArgumentError(`runner host "${url}" is not a docker one`);
}

function containerClient(url: string, name: string): EngineClient {
  return new EngineClient(url, { createConnection: () => dialContainer(name) });
}

/** One connection to the engine in container `name`. */
export function dialContainer(name: string): Duplex {
  return dialCommand([DOCKER, "exec", "-i", name, "tanto", "dial-stdio"]);
}

/** One connection to an engine: a child (`docker exec`, `kubectl exec`) whose stdin/stdout reach its socket. */
export function dialCommand(argv: readonly string[]): Duplex {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  return new ChildStream(child, argv.join(" "));
}

/**
 * A child's stdin/stdout as one stream, shaped enough like a net.Socket for
 * http.Agent (setKeepAlive, setTimeout, ref/unref): an idle kept-alive
 * connection must not keep the CLI's process alive.
 */
class ChildStream extends Duplex {
  readonly #child: ChildProcess;
  readonly #what: string;
  #stderr = "";
  #writeError: Error | undefined;
  #timer: NodeJS.Timeout | undefined;
  timeout: number | undefined;

  constructor(child: ChildProcess, what: string) {
    super({ allowHalfOpen: false });
    this.#child = child;
    this.#what = what;
    const stdout = child.stdout!;
    const stdin = child.stdin!;
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      if (this.#stderr.length < 4096) this.#stderr += d;
    });
    stdout.on("data", (chunk: Buffer) => {
      this.#touch();
      if (!this.push(chunk)) stdout.pause();
    });
    stdin.on("error", () => undefined); // the exit below says what went wrong
    child.on("error", (err) => this.destroy(new UnavailableError(`cannot run ${this.#what}: ${messageOf(err)}`, { cause: err })));
    // The end of the stream waits for the exit status, so that a failed
    // `docker exec` (no such container, no tanto in it) is reported as such
    // rather than as a connection that hung up.
    child.on("close", (code, signal) => {
      if (this.destroyed) return;
      if (code === 0) return void (this.#writeError ? this.destroy(this.#writeError) : this.push(null));
      const why = this.#stderr.trim() || (signal ? `killed by ${signal}` : `exit ${code}`);
      this.destroy(new UnavailableError(`${this.#what}: ${why}`));
    });
  }

  override _read(): void {
    this.#child.stdout!.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#touch();
    // A child that exits early breaks the pipe (EPIPE); its exit status and
    // stderr, reported when it closes, say why, so keep the error until then.
    this.#child.stdin!.write(chunk, (err) => {
      if (err) this.#writeError ??= err;
      callback();
    });
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#child.stdin!.end(callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    clearTimeout(this.#timer);
    // Closing stdin ends `tanto dial-stdio` inside the container; the signal ends `docker exec`.
    this.#child.stdin!.destroy();
    this.#child.stdout!.destroy();
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGTERM");
    callback(err);
  }

  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    this.timeout = ms;
    if (onTimeout) this.once("timeout", onTimeout);
    this.#touch();
    return this;
  }

  #touch(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.timeout) this.#timer = setTimeout(() => this.emit("timeout"), this.timeout).unref();
  }

  ref(): this {
    for (const h of this.#handles()) h?.ref?.();
    return this;
  }

  unref(): this {
    for (const h of this.#handles()) h?.unref?.();
    return this;
  }

  /** The child and its pipes (net.Sockets, though typed as plain streams). */
  #handles(): Array<{ ref?: () => unknown; unref?: () => unknown } | null> {
    const c = this.#child;
    return [c, c.stdin, c.stdout, c.stderr] as Array<{ ref?: () => unknown; unref?: () => unknown } | null>;
  }
}

/** The container name for engines of image `ref`: stable, and valid whatever the ref holds. */
export function engineContainerName(ref: string): string {
  return `tanto-engine-${createHash("sha256").update(ref).digest("hex").slice(0, 12)}`;
}

/**
 * A running container of `ref`: ours by name (started again if stopped), or
 * any other running container of that image, or a new one.
 */
async function ensureEngineContainer(ref: string, log: (line: string) => void): Promise<{ name: string; started: boolean }> {
  const name = engineContainerName(ref);
  const state = (await docker(["container", "inspect", "--format", "{{.State.Status}}", name], { allowFailure: true })).trim();
  if (state === "running") return { name, started: false };
  if (state) {
    log(`starting the engine container ${name} (${state})`);
    await docker(["start", name]);
    return { name, started: true };
  }
  const others = (await docker(["ps", "--filter", `ancestor=${ref}`, "--filter", "status=running", "--format", "{{.Names}}"], { allowFailure: true }))
    .split("\n")
    .filter(Boolean);
  if (others[0]) return { name: others[0], started: false };
  log(`starting an engine container ${name} from ${ref}`);
  await docker(["run", "-d", "--restart", "always", "--privileged", "-v", `${STATE_VOLUME}:/var/lib/tanto`, "--name", name, ref]);
  return { name, started: true };
}

async function waitHealthy(client: EngineClient, url: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      await client.health();
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        client.close();
        throw new UnavailableError(`the engine at ${url} did not answer within ${START_TIMEOUT_MS / 1000}s: ${messageOf(err)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function docker(args: string[], opts: { allowFailure?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err) => reject(new FailedPreconditionError(`cannot run ${DOCKER}: ${messageOf(err)} (is Docker installed?)`, { cause: err })));
    child.on("close", (code) => {
      if (code === 0 || opts.allowFailure) resolve(code === 0 ? stdout : "");
      else reject(new UnavailableError(`${DOCKER} ${args.join(" ")} failed (exit ${code}): ${stderr.trim()}`));
    });
  });
}
