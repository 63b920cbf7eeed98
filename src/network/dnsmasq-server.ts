/**
 * The network's DNS server: a dnsmasq of our own on the bridge address,
 * playing CNI's dnsname role. It answers the names registered here from an
 * `addn-hosts` file, answers NXDOMAIN for anything else in our domain, and
 * forwards the rest to the host's resolvers.
 *
 * dnsmasq runs in the host's network namespace, so the host's nameservers
 * are taken as they are, 127.0.0.53-style stub resolvers included: they are
 * reachable from dnsmasq even though they are not from a container. The host
 * file is read once at start (no `resolv-file` polling), as `server=` lines.
 *
 * Everything it owns lives in one directory: its config, its pid file and
 * the hosts file. It keeps running as root (`user=root`), like the engine
 * itself, so it can re-read the hosts file wherever the engine's state lives;
 * it listens on the bridge address only.
 *
 * Logs go to our pipe (`log-facility=-`); they are also how we know it is
 * serving ("read <hosts> - N names" after binding) and that a SIGHUP reload
 * is done, which is what lets `register` resolve only once a name answers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CancelledError, FailedPreconditionError, messageOf, UnavailableError } from "../errors.js";
import { checkHostname, checkIpv4, namesIn } from "./resolver-files.js";
import type { NameRegistry, NetworkLog } from "./types.js";

export interface DnsmasqOptions {
  /** Directory for dnsmasq.conf, dnsmasq.pid and hosts; private to this server. */
  dir: string;
  /** The one address it listens on (the bridge's). */
  listenAddress: string;
  /** Registered names are also answered as `<name>.<domain>`; the domain is never forwarded. */
  domain: string;
  /** Upstream servers for everything else. */
  upstreams: readonly string[];
  binary?: string;
  log?: NetworkLog;
}

const READY_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 2_000;
const TAIL_LINES = 20;

export class DnsmasqServer implements NameRegistry {
  readonly #opts: DnsmasqOptions;
  readonly #names = new Map<string, string>();
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #exitReason: string | undefined;
  #lineWaiters = new Set<(line: string) => void>();
  #tail: string[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  #pending: Promise<void> | undefined;

  constructor(opts: DnsmasqOptions) {
    this.#opts = { ...opts };
  }

  /** Upstream servers for the next start (they are read from the host when the network starts, not before). */
  setUpstreams(upstreams: readonly string[]): void {
    this.#opts.upstreams = [...upstreams];
  }

  get confFile(): string {
    return path.join(this.#opts.dir, "dnsmasq.conf");
  }
  get pidFile(): string {
    return path.join(this.#opts.dir, "dnsmasq.pid");
  }
  get hostsFile(): string {
    return path.join(this.#opts.dir, "hosts");
  }
  get pid(): number | undefined {
    return this.#child?.exitCode === null ? this.#child.pid : undefined;
  }

  async start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const o = this.#opts;
    await fs.mkdir(o.dir, { recursive: true, mode: 0o711 });
    await fs.chmod(o.dir, 0o711);
    await this.#writeHosts();
    const conf = [
      "no-resolv",
      "no-hosts",
      "bind-interfaces",
      `listen-address=${o.listenAddress}`,
      "domain-needed",
      "bogus-priv",
      `local=/${o.domain}/`,
      `addn-hosts=${this.hostsFile}`,
      `pid-file=${this.pidFile}`,
      "log-facility=-",
      // Stay root: the state directory may sit under a private (0700) parent,
      // where `nobody` could not re-read the hosts file on reload.
      "user=root",
      ...o.upstreams.filter((s) => s !== o.listenAddress).map((s) => `server=${s}`),
    ];
    await fs.writeFile(this.confFile, conf.join("\n") + "\n", { mode: 0o644 });

    const child = spawn(o.binary ?? "dnsmasq", ["--keep-in-foreground", `--conf-file=${this.confFile}`], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.#child = child;
    this.#exitReason = undefined;
    this.#exited = new Promise((resolve) => {
      child.on("error", (err) => {
        this.#exitReason = `cannot start dnsmasq: ${messageOf(err)}`;
        this.#wake("");
        resolve();
      });
      child.on("close", (code, sig) => {
        this.#exitReason ??= `dnsmasq exited (${sig ?? `code ${code}`})`;
        if (this.#child === child) this.#opts.log?.warn("dnsmasq exited", { code, signal: sig, tail: this.#tail.join(" | ") });
        this.#wake("");
        resolve();
      });
    });
    let buffered = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.#tail.push(line);
        if (this.#tail.length > TAIL_LINES) this.#tail.shift();
        this.#opts.log?.debug("dnsmasq", { line });
        this.#wake(line);
      }
    });
    try {
      await this.#awaitHostsRead(() => undefined, opts.signal);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async register(name: string, ip: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    checkHostname(name, "service name");
    checkIpv4(ip, `address of "${name}"`);
    const key = name.toLowerCase();
    const current = this.#names.get(key);
    if (current === ip) return;
    if (current !== undefined) throw new FailedPreconditionError(`name "${name}" is already registered for ${current}, cannot register it for ${ip}`);
    this.#names.set(key, ip);
    await this.#reload(opts.signal);
  }

  async unregister(name: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.#names.delete(name.toLowerCase())) return;
    await this.#reload(opts.signal);
  }

  /** Stop the process (SIGTERM, then SIGKILL) and remove its files. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    await fs.rm(this.#opts.dir, { recursive: true, force: true });
  }

  /** Kill a dnsmasq left by a crashed engine, found by the pid file in `dir` and checked against its command line. */
  static async killLeftover(dir: string): Promise<number | undefined> {
    const confFile = path.join(dir, "dnsmasq.conf");
    const pid = Number((await fs.readFile(path.join(dir, "dnsmasq.pid"), "utf8").catch(() => "")).trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    // A recycled pid belongs to someone else: only a dnsmasq started with our config is ours.
    if (!cmdline.includes(`--conf-file=${confFile}`)) return undefined;
    for (const [sig, wait] of [
      ["SIGTERM", STOP_GRACE_MS],
      ["SIGKILL", STOP_GRACE_MS],
    ] as const) {
      try {
        process.kill(pid, sig);
      } catch {
        return pid;
      }
      for (const deadline = Date.now() + wait; Date.now() < deadline; ) {
        if (!(await isRunning(pid))) return pid;
        await sleep(10);
      }
    }
    throw new UnavailableError(`cannot stop leftover dnsmasq (pid ${pid}) of ${dir}`);
  }

  /** One reload at a time; changes made while one is queued ride along with it. */
  #reload(signal: AbortSignal | undefined): Promise<void> {
    if (this.#pending === undefined) {
      const run = this.#chain.then(() => {
        this.#pending = undefined;
        return this.#reloadNow();
      });
      this.#pending = run;
      this.#chain = run.catch(() => undefined);
    }
    const pending = this.#pending;
    if (signal === undefined) return pending;
    // The reload goes on for the others; only this caller stops waiting.
    return Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        const onAbort = (): void => reject(new CancelledError("DNS name update cancelled", { cause: signal.reason }));
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
        void pending.finally(() => signal.removeEventListener("abort", onAbort)).catch(() => undefined);
      }),
    ]);
  }

  async #reloadNow(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      throw new UnavailableError(`DNS server of ${this.#opts.listenAddress} is not running: ${this.#exitReason ?? "not started"}`);
    }
    await this.#writeHosts();
    await this.#awaitHostsRead(() => child.kill("SIGHUP"));
  }

  async #writeHosts(): Promise<void> {
    const lines = [...this.#names].map(([name, ip]) => `${ip}\t${namesIn(name, this.#opts.domain).join(" ")}`);
    const tmp = `${this.hostsFile}.tmp`;
    await fs.writeFile(tmp, lines.join("\n") + (lines.length ? "\n" : ""), { mode: 0o644 });
    await fs.chmod(tmp, 0o644);
    await fs.rename(tmp, this.hostsFile);
  }

  /** Do `trigger`, then wait for dnsmasq to report (re)reading the hosts file. */
  #awaitHostsRead(trigger: () => void, signal?: AbortSignal): Promise<void> {
    const file = this.hostsFile;
    return new Promise((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#lineWaiters.delete(onLine);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onLine = (line: string): void => {
        if (line.includes(`read ${file} - `)) return finish();
        if (line.includes(`failed to load names from ${file}`)) {
          const why = line.replace(/^.*?: failed/, "failed");
          return finish(
            new UnavailableError(`dnsmasq cannot read its hosts file ${file} (it runs as nobody: every directory above must be searchable by others): ${why}`),
          );
        }
        if (this.#exitReason !== undefined) {
          finish(new UnavailableError(`DNS server on ${this.#opts.listenAddress}: ${this.#exitReason}: ${this.#tail.join(" | ")}`));
        }
      };
      const onAbort = (): void => finish(new CancelledError("starting the DNS server cancelled", { cause: signal?.reason }));
      const timer = setTimeout(
        () =>
          finish(
            new UnavailableError(`DNS server on ${this.#opts.listenAddress} did not load ${file} within ${READY_TIMEOUT_MS} ms: ${this.#tail.join(" | ")}`),
          ),
        READY_TIMEOUT_MS,
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#lineWaiters.add(onLine);
      if (signal?.aborted) return onAbort();
      if (this.#exitReason !== undefined) return onLine("");
      trigger();
    });
  }

  #wake(line: string): void {
    for (const w of [...this.#lineWaiters]) w(line);
  }
}

async function isRunning(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // A zombie is as good as gone: its parent (not us) will reap it.
  return stat !== "" && !/^\d+ \(.*\) Z /.test(stat);
}
