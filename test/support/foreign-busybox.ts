/**
 * Debian's busybox-static for other architectures, the binaries of the
 * multi-platform test image. apt fetches the packages with a private
 * configuration (its own sources, lists and cache in a temporary directory),
 * so the host's apt and dpkg state are not touched: no `dpkg
 * --add-architecture` on the machine. The .deb files are kept in
 * ${TANTO_CACHE_DIR:-~/.cache/tanto}/busybox-debs, so this downloads once.
 *
 * riscv64 became a release architecture with Debian 13 (trixie); the others
 * come from bookworm, like the host's own busybox-static.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A Debian architecture and the OCI platform its binaries run on. */
export interface ForeignArch {
  deb: string;
  architecture: string;
  variant?: string;
  suite: "bookworm" | "trixie";
}

export const FOREIGN_ARCHES: readonly ForeignArch[] = [
  { deb: "arm64", architecture: "arm64", variant: "v8", suite: "bookworm" },
  { deb: "armhf", architecture: "arm", variant: "v7", suite: "bookworm" },
  { deb: "riscv64", architecture: "riscv64", suite: "trixie" },
  { deb: "s390x", architecture: "s390x", suite: "bookworm" },
  { deb: "ppc64el", architecture: "ppc64le", suite: "bookworm" },
  { deb: "i386", architecture: "386", suite: "bookworm" },
];

const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
const MIRROR = process.env["TANTO_DEBIAN_MIRROR"] ?? "http://deb.debian.org/debian";

function cacheDir(): string {
  const base = process.env["TANTO_CACHE_DIR"] ?? path.join(process.env["XDG_CACHE_HOME"] ?? path.join(os.homedir(), ".cache"), "tanto");
  return path.join(base, "busybox-debs");
}

/** The cached .deb of busybox-static for each of `arches`, fetching the missing ones. */
export async function foreignBusyboxDebs(arches: readonly ForeignArch[] = FOREIGN_ARCHES): Promise<Map<string, string>> {
  const dir = cacheDir();
  await fs.mkdir(dir, { recursive: true });
  const file = (a: ForeignArch) => path.join(dir, `busybox-static_${a.suite}_${a.deb}.deb`);
  const have = await Promise.all(
    arches.map((a) =>
      fs.access(file(a)).then(
        () => true,
        () => false,
      ),
    ),
  );
  const missing = arches.filter((_, i) => !have[i]);
  if (missing.length > 0) {
    await download(missing, dir, file).catch((err: unknown) => {
      const what = missing.map((a) => `${a.deb} (${a.suite})`).join(", ");
      throw new Error(`cannot fetch Debian's busybox-static for ${what} from ${MIRROR} (set TANTO_DEBIAN_MIRROR for another mirror): ${String(err)}`);
    });
  }
  return new Map(arches.map((a) => [a.deb, file(a)]));
}

async function download(arches: readonly ForeignArch[], dir: string, file: (a: ForeignArch) => string): Promise<void> {
  const work = await fs.mkdtemp(path.join(dir, ".apt-"));
  try {
    for (const d of ["lists/partial", "cache/archives/partial", "etc/sources.list.d", "out"]) await fs.mkdir(path.join(work, d), { recursive: true });
    await fs.writeFile(path.join(work, "status"), "");
    const suites = [...new Set(arches.map((a) => a.suite))];
    await fs.writeFile(path.join(work, "etc/sources.list"), suites.map((s) => `deb [signed-by=${KEYRING}] ${MIRROR} ${s} main\n`).join(""));
    const opts = [
      `Dir::Etc::SourceList=${work}/etc/sources.list`,
      `Dir::Etc::SourceParts=${work}/etc/sources.list.d`,
      `Dir::State::Lists=${work}/lists`,
      `Dir::State::status=${work}/status`,
      `Dir::Cache=${work}/cache`,
      `APT::Architectures=${arches.map((a) => a.deb).join(",")}`,
      "APT::Sandbox::User=root",
      "Acquire::Languages=none",
    ].flatMap((o) => ["-o", o]);
    await run("apt-get", ["-qq", ...opts, "update"], { maxBuffer: 16 << 20 });
    const out = path.join(work, "out");
    await run("apt-get", ["-qq", ...opts, "download", ...arches.map((a) => `busybox-static:${a.deb}/${a.suite}`)], { cwd: out, maxBuffer: 16 << 20 });
    for (const name of await fs.readdir(out)) {
      const arch = arches.find((a) => name.endsWith(`_${a.deb}.deb`));
      if (arch) await fs.rename(path.join(out, name), file(arch));
    }
    for (const a of arches) await fs.access(file(a)).catch(() => Promise.reject(new Error(`apt did not download busybox-static:${a.deb} from ${a.suite}`)));
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Unpack the busybox binary of a busybox-static .deb to `dest`. */
export async function extractBusybox(deb: string, dest: string): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-deb-"));
  try {
    await run("dpkg-deb", ["-x", deb, work]);
    for (const candidate of ["bin/busybox", "usr/bin/busybox"]) {
      const p = path.join(work, candidate);
      if (
        await fs.access(p).then(
          () => true,
          () => false,
        )
      ) {
        await fs.copyFile(p, dest);
        return;
      }
    }
    throw new Error(`${deb} has no busybox binary`);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
