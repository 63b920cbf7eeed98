/**
 * Where the engine cannot run it refuses at start with one line naming what
 * is missing and how to fix it; and a dead engine that is still an unreaped
 * zombie does not keep its state directory locked.
 */

import assert from "node:assert/strict";
import { type ChildProcessByStdio, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { isProcessAlive } from "../src/util/process.js";
import { REPO, run, startEngine } from "./support/engine.js";

const MAIN = path.join(REPO, "dist/src/cli/main.js");

describe("start refusals", () => {
  let dir: string;
  const mounts: string[] = [];

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-refuse-"));
    await fs.chmod(dir, 0o755);
  });
  after(async () => {
    for (const m of mounts.reverse()) await run(["umount", "-l", m]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Start `tanto engine` (argv prefix wraps it), expect exit 1 within 20 s and one stderr line matching `want`. */
  async function refused(name: string, want: RegExp, opts: { prefix?: string[]; root?: string; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
    const root = opts.root ?? path.join(dir, `${name}-root`);
    const started = Date.now();
    const r = await run([...(opts.prefix ?? []), process.execPath, MAIN, "engine", "--root", root, "--addr", `unix://${path.join(dir, `${name}.sock`)}`], {
      timeoutMs: 20_000,
      ...(opts.env ? { env: opts.env } : {}),
    });
    const lines = r.stderr.trim().split("\n");
    console.log(`${name}: exit ${r.code} in ${Date.now() - started} ms: ${lines.join(" | ")}`);
    assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
    assert.equal(lines.length, 1, `${name}: one line, got ${r.stderr}`);
    assert.match(lines[0]!, want);
    assert.doesNotMatch(r.stdout + r.stderr, /engine started/);
  }

  test("without root", async () => {
    await refused("nonroot", /^tanto: cannot start: tanto engine must run as root \(uid 65534\): start it with sudo/, {
      prefix: ["runuser", "-u", "nobody", "--"],
      root: path.join(dir, "nonroot-root"),
    });
  });

  test("without runc on PATH", async () => {
    const bin = path.join(dir, "bin");
    await fs.mkdir(bin, { recursive: true });
    await fs.symlink(process.execPath, path.join(bin, "node")).catch(() => undefined);
    await refused("norunc", /^tanto: cannot start: runc not found .*: install it \(apt-get install runc\)$/, { env: { ...process.env, PATH: bin } });
  });

  test("without nft on PATH (networking on)", async () => {
    const bin = path.join(dir, "bin-nonft");
    await fs.mkdir(bin, { recursive: true });
    await fs.symlink(process.execPath, path.join(bin, "node")).catch(() => undefined);
    const runc = execFileSync("sh", ["-c", "command -v runc"], { encoding: "utf8" }).trim();
    await fs.symlink(runc, path.join(bin, "runc")).catch(() => undefined);
    await refused("nonft", /^tanto: cannot start: nft not found on PATH=.*: install it \(apt-get install nftables\), or set \[network\] enabled = false/, {
      env: { ...process.env, PATH: bin },
    });
  });

  test("without the CNI plugins", async () => {
    // A private mount namespace where /usr/lib/cni is empty; the host's stays as it is.
    await refused(
      "nocni",
      /^tanto: cannot start: CNI plugins missing in \/usr\/lib\/cni: bridge, host-local, loopback, tuning, firewall: install them \(apt-get install containernetworking-plugins\), or set \[network\] enabled = false/,
      {
        prefix: ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount -t tmpfs empty /usr/lib/cni && exec "$@"', "sh"],
      },
    );
  });

  test("on an unwritable state directory", async () => {
    const ro = path.join(dir, "ro");
    await fs.mkdir(ro);
    await run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", ro]);
    mounts.push(ro);
    await fs.mkdir(path.join(ro, "root"));
    await run(["mount", "-o", "remount,ro", ro]);
    await refused("readonly", /^tanto: cannot start: state directory .*\/ro\/root is not writable \(EROFS.*\): pass a writable --root/, {
      root: path.join(ro, "root"),
    });
  });

  test("on a filesystem that cannot hold overlay upper directories", async () => {
    // An overlay mount itself: overlayfs does not take another overlay as its upper layer.
    const o = path.join(dir, "ovl");
    for (const d of ["lower", "upper", "work", "merged"]) await fs.mkdir(path.join(o, d), { recursive: true });
    const m = await run(["mount", "-t", "overlay", "overlay", "-o", `lowerdir=${o}/lower,upperdir=${o}/upper,workdir=${o}/work`, `${o}/merged`]);
    assert.equal(m.code, 0, m.stderr);
    mounts.push(`${o}/merged`);
    await refused(
      "overlay-on-overlay",
      /^tanto: cannot start: state directory .*\/merged\/root is on overlayfs, which cannot hold overlayfs upper directories .*: put --root on ext4, xfs or btrfs/,
      {
        root: path.join(o, "merged", "root"),
      },
    );
  });

  test("refused half-way (a subnet the host routes already): nothing left mounted under the state directory", async (t) => {
    const host = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a?.family === "IPv4" && !a.internal && a.netmask === "255.255.255.0");
    if (!host) return t.skip("no IPv4 /24 host interface to overlap");
    const cidr = `${host.address.split(".").slice(0, 3).join(".")}.0/24`;
    const root = path.join(dir, "overlap-root");
    const r = await run(
      [
        process.execPath,
        MAIN,
        "engine",
        "--root",
        root,
        "--addr",
        `unix://${path.join(dir, "overlap.sock")}`,
        "--network-name",
        "ttrefuse",
        "--network-cidr",
        cidr,
      ],
      {
        timeoutMs: 30_000,
      },
    );
    const mounted = (await fs.readFile("/proc/self/mountinfo", "utf8"))
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter((p) => p.startsWith(root));
    console.log(`overlapping subnet ${cidr}: exit ${r.code}; mounts left ${mounted.length}`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr.trim().split("\n").pop()!, /overlaps/);
    assert.deepEqual(mounted, [], "the bundles tmpfs went with the refused start");
  });
});

/**
 * A process whose child exits at once and is never reaped: perl forks, the
 * child _exits, the parent prints the child's pid and sleeps without waiting.
 * (A shell is no good here: dash may reap a finished background job before it
 * execs.)
 */
function zombieParent(): ChildProcessByStdio<null, Readable, null> {
  const script = '$| = 1; my $p = fork(); if ($p == 0) { POSIX::_exit(0) } print "$p\\n"; sleep 30';
  return spawn("perl", ["-MPOSIX", "-e", script], { stdio: ["ignore", "pipe", "ignore"] });
}

async function zombiePid(parent: ChildProcessByStdio<null, Readable, null>): Promise<number> {
  return Number(await new Promise<string>((r) => parent.stdout.once("data", (d: Buffer) => r(d.toString()))));
}

describe("restart right after kill -9 while the dead engine is a zombie", () => {
  test("a zombie is not alive", async () => {
    const parent = zombieParent();
    try {
      const pid = await zombiePid(parent);
      let state = "";
      for (let i = 0; i < 100 && state !== "Z"; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
        state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      }
      assert.equal(state, "Z", "the child is a zombie");
      assert.equal(isProcessAlive(pid), false);
      assert.equal(isProcessAlive(parent.pid!), true);
    } finally {
      parent.kill("SIGKILL");
    }
  });

  test("an engine killed with -9 and left unreaped does not block the next start on its root", async () => {
    const engine = await startEngine({ configText: "[network]\nenabled = false\n" });
    try {
      await engine.stop();
      // The dead owner: an unreaped child of a process that never waits, named in the pid file.
      const parent = zombieParent();
      try {
        const zombie = await zombiePid(parent);
        await new Promise((r) => setTimeout(r, 200));
        await fs.writeFile(path.join(engine.root, "engine.pid"), `${zombie}\n`);
        const started = Date.now();
        await engine.restart();
        console.log(`zombie owner ${zombie}: restart took ${Date.now() - started} ms, 0 refusals`);
        assert.ok((await engine.client.health()).version.length > 0);
      } finally {
        parent.kill("SIGKILL");
      }
    } finally {
      await engine.destroy();
    }
  });
});
