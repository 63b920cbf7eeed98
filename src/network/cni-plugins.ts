/**
 * A CNI plugin list invoked the way the CNI spec (1.0) asks of a runtime,
 * without libcni: each plugin is an executable found in `cniPath`, called
 * with the command in its environment and its network configuration on
 * stdin, and answers with a JSON result on stdout (or a JSON error and a
 * non-zero exit).
 *
 *   ADD: plugins in order; each gets the previous plugin's result as
 *        `prevResult`, the last result is the attachment's.
 *   DEL: plugins in reverse order, each given the ADD result as `prevResult`
 *        (the firewall plugin needs it to know which rules to remove), which
 *        is why callers keep that result until the DEL.
 */

import { EngineError } from "../errors.js";
import { formatIpv4, parseCidr } from "./cidr.js";
import { runCommand } from "./command.js";
import { withHostLock } from "./host-lock.js";
import { SHARED_CHAINS_LOCK } from "./iptables.js";

export const CNI_VERSION = "1.0.0";

export interface CniPluginConf {
  type: string;
  [key: string]: unknown;
}

export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: CniPluginConf[];
}

export interface CniResult {
  cniVersion: string;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
  routes?: Array<{ dst: string; gw?: string }>;
  dns?: unknown;
}

export interface Attachment {
  containerId: string;
  /** Namespace path; "" on a DEL for a namespace that is gone (plugins then only release what lives outside it). */
  netns: string;
  ifName: string;
}

export class CniPlugins {
  constructor(
    readonly conf: CniConfList,
    readonly cniPath: string,
  ) {}

  async add(a: Attachment, opts: { signal?: AbortSignal } = {}): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const plugin of this.conf.plugins) {
      prev = await this.#invokeLocked("ADD", plugin, a, prev, opts);
    }
    if (prev === undefined) throw new EngineError(`CNI network "${this.conf.name}" has no plugins`);
    return prev;
  }

  /** Detach; keeps going after a plugin fails so that the others still release what they hold, then reports the first failure. */
  async del(a: Attachment, prevResult: CniResult | undefined, opts: { signal?: AbortSignal } = {}): Promise<void> {
    let first: unknown;
    for (const plugin of [...this.conf.plugins].reverse()) {
      try {
        await this.#invokeLocked("DEL", plugin, a, prevResult, opts);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }

  /** The firewall plugin creates chains shared by every engine: never at the same time as a cleanup removes them. */
  #invokeLocked(...args: Parameters<CniPlugins["invoke"]>): ReturnType<CniPlugins["invoke"]> {
    const plugin = args[1] as { type?: string };
    return plugin.type === "firewall" ? withHostLock(SHARED_CHAINS_LOCK, () => this.invoke(...args)) : this.invoke(...args);
  }

  async invoke(
    command: "ADD" | "DEL",
    plugin: CniPluginConf,
    a: Attachment,
    prevResult: CniResult | undefined,
    opts: { signal?: AbortSignal },
  ): Promise<CniResult> {
    const stdin = { cniVersion: this.conf.cniVersion, name: this.conf.name, ...plugin, ...(prevResult ? { prevResult } : {}) };
    const env: NodeJS.ProcessEnv = {
      // Plugins run iptables and friends themselves.
      PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      CNI_COMMAND: command,
      CNI_CONTAINERID: a.containerId,
      CNI_NETNS: a.netns,
      CNI_IFNAME: a.ifName,
      CNI_PATH: this.cniPath,
    };
    const bin = `${this.cniPath}/${plugin.type}`;
    const r = await runCommand(bin, [], { input: JSON.stringify(stdin), env, ...opts });
    const what = `CNI ${command} of "${a.containerId}" by plugin "${plugin.type}" on network "${this.conf.name}"`;
    if (r.code !== 0) throw new EngineError(`${what} failed: ${pluginError(r.stdout, r.stderr, r.code)}`);
    if (command === "DEL") return prevResult ?? { cniVersion: this.conf.cniVersion };
    try {
      return JSON.parse(r.stdout) as CniResult;
    } catch {
      throw new EngineError(`${what} printed no JSON result: ${JSON.stringify(r.stdout.slice(0, 200))}`);
    }
  }
}

/** A plugin's error: the spec's `{code, msg, details}` on stdout, else whatever it said. */
function pluginError(stdout: string, stderr: string, exit: number): string {
  try {
    const e = JSON.parse(stdout) as { code?: number; msg?: string; details?: string };
    if (typeof e.msg === "string") return `${e.msg}${e.details ? ` (${e.details})` : ""} [code ${e.code ?? "?"}]`;
  } catch {
    // not the spec's error format
  }
  return stderr.trim() || stdout.trim() || `exit code ${exit}`;
}

/** The attachment's IPv4 address on `ifName` (or the first one), without the prefix length. */
export function ipv4Of(result: CniResult, ifName: string): string | undefined {
  const ifaces = result.interfaces ?? [];
  const ips = result.ips ?? [];
  const onIf = ips.filter((i) => i.interface !== undefined && ifaces[i.interface]?.name === ifName);
  for (const entry of [...onIf, ...ips]) {
    const parsed = parseCidr(entry.address);
    if (parsed !== undefined) return formatIpv4(parsed.ip);
  }
  return undefined;
}

/** The host end of the attachment's link: the interface outside any namespace that is not the bridge itself. */
export function hostPortOf(result: CniResult, bridge: string): string | undefined {
  return (result.interfaces ?? []).find((i) => i.sandbox === undefined && i.name !== bridge)?.name;
}
