/**
 * The namespaces attached to one bridge network, each from ADD to DEL:
 * `ip netns add`, CNI ADD (its result kept in the state directory until the
 * DEL, which needs it), and a directory for the resolver files handed to
 * its containers. CniNetwork pools them; this tracks them and times the
 * CNI calls.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EngineError } from "../errors.js";
import { IFNAME } from "./bridge-state.js";
import { type CniPlugins, type CniResult, ipv4Of } from "./cni-plugins.js";
import { addNetns, deleteNetns, netnsPath, netnsPids } from "./netns.js";
import type { NetworkLog } from "./types.js";

/** Recent CNI durations kept for stats. */
const SAMPLES = 32;

export /** One attached namespace, from ADD to DEL. */
interface Attachment {
  id: string;
  path: string;
  ip: string;
  prefix: number;
  dir: string;
  result: CniResult;
  inUse: boolean;
  /** The files handed to containers, with the text last written (undefined: unknown, rewrite). */
  resolvConf: { path: string; text: string | undefined };
  hosts: { path: string; text: string | undefined };
}

export interface AttachmentsOptions {
  /** The network's name, for messages. */
  network: string;
  /** Names of the namespaces start with it. */
  prefix: string;
  stateDir: string;
  subnetPrefix: number;
  plugins: CniPlugins;
  /** Run on each new attachment before it is handed out (writing its resolver files). */
  prepare: (a: Attachment) => Promise<void>;
  log?: NetworkLog;
}

export class Attachments {
  /** Recent CNI ADD / DEL durations in ms, oldest first. */
  readonly addMs: number[] = [];
  readonly delMs: number[] = [];
  readonly #net: AttachmentsOptions;
  readonly #attached = new Map<string, Attachment>();
  #seq = 0;
  #pidsBatch: { names: string[]; asked: Promise<Map<string, number[]>> } | undefined;

  constructor(net: AttachmentsOptions) {
    this.#net = net;
  }

  get(id: string): Attachment | undefined {
    return this.#attached.get(id);
  }

  values(): IterableIterator<Attachment> {
    return this.#attached.values();
  }

  /** ip netns add + CNI ADD + the files handed to containers; undone if anything fails. */
  async attach(opts: { signal?: AbortSignal } = {}): Promise<Attachment> {
    const id = `${this.#net.prefix}${++this.#seq}`;
    const nsPath = await addNetns(id, opts);
    const resultFile = path.join(this.#net.stateDir, "cni", "results", `${id}.json`);
    const dir = path.join(this.#net.stateDir, "netns", id);
    let result: CniResult | undefined;
    try {
      const started = performance.now();
      result = await this.#net.plugins.add({ containerId: id, netns: nsPath, ifName: IFNAME }, opts);
      sample(this.addMs, performance.now() - started);
      await fs.mkdir(path.dirname(resultFile), { recursive: true });
      await fs.writeFile(resultFile, JSON.stringify(result));
      const ip = ipv4Of(result, IFNAME);
      if (ip === undefined) throw new EngineError(`CNI ADD of "${id}" on network "${this.#net.network}" gave no IPv4 address: ${JSON.stringify(result)}`);
      await fs.mkdir(dir, { recursive: true, mode: 0o755 });
      const a: Attachment = {
        id,
        path: nsPath,
        ip,
        prefix: this.#net.subnetPrefix,
        dir,
        result,
        inUse: false,
        resolvConf: { path: path.join(dir, "resolv.conf"), text: undefined },
        hosts: { path: path.join(dir, "hosts"), text: undefined },
      };
      await this.#net.prepare(a);
      this.#attached.set(id, a);
      return a;
    } catch (err) {
      await this.#net.plugins.del({ containerId: id, netns: nsPath, ifName: IFNAME }, result).catch(() => undefined);
      await deleteNetns(id).catch(() => undefined);
      await fs.rm(resultFile, { force: true });
      await fs.rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** CNI DEL + remove the namespace and its files. */
  async detach(a: Attachment): Promise<void> {
    this.#attached.delete(a.id);
    const started = performance.now();
    try {
      await this.#net.plugins.del({ containerId: a.id, netns: a.path, ifName: IFNAME }, a.result);
      sample(this.delMs, performance.now() - started);
    } finally {
      await deleteNetns(a.id);
      await fs.rm(path.join(this.#net.stateDir, "cni", "results", `${a.id}.json`), { force: true });
      await fs.rm(a.dir, { recursive: true, force: true });
    }
  }

  /** Forget every attachment and hand them back, for a caller that removes them all at once (and their files with the state directory). */
  takeAll(): Attachment[] {
    const all = [...this.#attached.values()];
    this.#attached.clear();
    return all;
  }

  /**
   * A returned namespace is reusable when nothing runs in it. Its links and
   * addresses need no check: a container that could change them (CAP_NET_ADMIN,
   * i.e. insecureRootCapabilities) has its namespace discarded on release, and
   * one without that capability cannot touch them.
   */
  async isClean(a: Attachment): Promise<boolean> {
    const pids = await this.#pidsIn(a.id);
    if (pids === undefined) throw new EngineError(`network namespace "${a.id}" does not exist (no ${netnsPath(a.id)})`);
    if (pids.length > 0) {
      this.#net.log?.warn(`network ${this.#net.network}: namespace returned with processes still in it`, { id: a.id, pids: pids.join(",") });
      return false;
    }
    return true;
  }

  /**
   * The processes in `name` (undefined: no such namespace), found together with
   * those of the other namespaces returned within PIDS_BATCH_MS: one pass over
   * /proc for all of them (a burst of a hundred execs returns a hundred).
   */
  async #pidsIn(name: string): Promise<number[] | undefined> {
    if (this.#pidsBatch === undefined) {
      const names: string[] = [];
      const asked = (async () => {
        await sleep(PIDS_BATCH_MS);
        this.#pidsBatch = undefined;
        return netnsPids(names);
      })();
      this.#pidsBatch = { names, asked };
    }
    this.#pidsBatch.names.push(name);
    return (await this.#pidsBatch.asked).get(name);
  }
}

/** How long a recycle waits for others to ask with it. */
const PIDS_BATCH_MS = 10;

function sample(list: number[], ms: number): void {
  list.push(Math.round(ms * 10) / 10);
  if (list.length > SAMPLES) list.shift();
}
