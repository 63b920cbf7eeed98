/**
 * What the network layer's root tests share: probes of the host (links,
 * processes), waiting for a condition, a busybox rootfs ready for runc with
 * a network (mount targets for the resolver files), and a network started
 * in a child process that a test kills as a crash would.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CniNetworkOptions } from "../../src/network/cni-settings.js";
import { busyboxRootfs } from "./images.js";

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8" });
}

export function linkExists(dev: string): boolean {
  return spawnSync("ip", ["link", "show", "dev", dev], { stdio: "ignore" }).status === 0;
}

/** Whether `pid` runs (a zombie does not count). */
export function alive(pid: number): boolean {
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return stat !== "" && !/^\d+ \(.*\) Z /.test(stat);
}

/** Poll `ok` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, ok: () => boolean, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A busybox rootfs in `dir` whose /www/index.html is `page`, with empty /etc/resolv.conf and /etc/hosts (so runc need not create the mount targets). */
export async function webRootfs(dir: string, page: string): Promise<void> {
  await busyboxRootfs(dir);
  mkdirSync(join(dir, "www"));
  writeFileSync(join(dir, "www/index.html"), page);
  writeFileSync(join(dir, "etc/resolv.conf"), "");
  writeFileSync(join(dir, "etc/hosts"), "");
}

/** What a network in a child process says about itself once it is up. */
export interface ShownNetwork {
  prefix: string;
  bridge: string;
  name: string;
  subnet: string;
  dnsPid: number;
}

/**
 * A CniNetwork started with `opts` in a child process, which then runs `steps`
 * (module code, with `net` in scope) and waits; `kill()` kills it with
 * SIGKILL, leaving everything it made behind, as an engine's crash does.
 */
export async function networkToCrash(opts: CniNetworkOptions, steps: string): Promise<{ shown: ShownNetwork; kill(): Promise<void> }> {
  const moduleUrl = new URL("../../src/network/cni-network.js", import.meta.url).href;
  const program = `
    const { CniNetwork } = await import(${JSON.stringify(moduleUrl)});
    const net = new CniNetwork(${JSON.stringify(opts)});
    await net.start();
    ${steps}
    console.log(JSON.stringify({ dnsPid: net.dnsPid, prefix: net.prefix, bridge: net.bridge, name: net.name, subnet: net.subnet }));
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", program], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
    });
    child.on("exit", (code) => reject(new Error(`engine stand-in exited with ${code} before it was ready`)));
  });
  return {
    shown: JSON.parse(line) as ShownNetwork,
    kill: async () => {
      const closed = new Promise((r) => child.once("close", r));
      child.kill("SIGKILL");
      await closed;
    },
  };
}
