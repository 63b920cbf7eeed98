// Other platforms through the official SDK: execs of emulated platforms, a
// multi-platform publish and export (pulled and imported back per
// platform), a Dockerfile built for another platform with
// `FROM --platform=$BUILDPLATFORM`, and platforms the engine cannot run.
// Run with a scratch directory as cwd (holding the Dockerfile for "build");
// prints a JSON report.
//   node platforms.mjs uname      uname -m and Container.platform for each platform
//   node platforms.mjs images     publish / export of three platforms, pulled and imported back
//   node platforms.mjs build      dockerBuild for arm64 and riscv64
//   node platforms.mjs errors     a platform without an emulator, and one the image lacks
import { dag, ImageMediaTypes } from "@dagger.io/dagger";
import { report } from "./common.mjs";

const image = process.env.TANTO_MULTI_IMAGE;
const registry = process.env.TANTO_TEST_REGISTRY;
const mode = process.argv[2];
const PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/riscv64", "linux/s390x", "linux/ppc64le", "linux/386"];
const THREE = ["linux/amd64", "linux/arm64", "linux/riscv64"];

const errorOf = async (fn) => {
  try {
    await fn();
    return "no error";
  } catch (err) {
    return err.message;
  }
};
const trimmed = (p) => p.then((s) => s.trim());

await report(async (out) => {
  if (mode === "uname") {
    out.defaultPlatform = await dag.defaultPlatform();
    const rows = await Promise.all(
      PLATFORMS.map(async (p) => {
        const c = dag.container({ platform: p }).from(image);
        // The same recipe on every platform: only the platform tells them apart.
        const ran = c.withExec(["sh", "-c", "uname -m > /arch"]);
        return [
          p,
          {
            // Through the shell: busybox picks the applet by argv[0], which the P flag keeps.
            uname: await trimmed(ran.withExec(["sh", "-c", "cat /arch"]).stdout()),
            platform: await c.platform(),
            file: (await ran.file("/arch").contents()).trim(),
            // ELF class of the binary that ran: 1 is 32-bit, 2 is 64-bit.
            elfClass: await trimmed(ran.withExec(["od", "-An", "-tu1", "-j4", "-N1", "/bin/busybox"]).stdout()),
          },
        ];
      }),
    );
    out.platforms = Object.fromEntries(rows);
  } else if (mode === "images") {
    const variants = THREE.map((p) => dag.container({ platform: p }).from(image).withExec(["sh", "-c", "uname -m > /arch"]).withEnvVariable("BUILT_FOR", p));
    const [first, ...rest] = variants;
    out.published = await first.publish(`${registry}/tanto-platforms:1`, { platformVariants: rest });
    out.publishedDocker = await first.publish(`${registry}/tanto-platforms:docker`, { platformVariants: rest, mediaTypes: ImageMediaTypes.DockerMediaTypes });
    out.pulled = {};
    out.imported = {};
    await first.export("multi.tar", { platformVariants: rest });
    for (const p of THREE) {
      const pulled = dag.container({ platform: p }).from(out.published);
      out.pulled[p] = {
        arch: await trimmed(pulled.file("/arch").contents()),
        uname: await trimmed(pulled.withExec(["uname", "-m"]).stdout()),
        env: await pulled.envVariable("BUILT_FOR"),
      };
      const imported = dag.container({ platform: p }).import_(dag.host().file("multi.tar"));
      out.imported[p] = {
        arch: await trimmed(imported.file("/arch").contents()),
        uname: await trimmed(imported.withExec(["uname", "-m"]).stdout()),
        platform: await imported.platform(),
      };
    }
  } else if (mode === "build") {
    const context = dag.host().directory(".");
    const buildArgs = [{ name: "BASE", value: image }];
    for (const p of ["linux/arm64", "linux/riscv64"]) {
      const built = context.dockerBuild({ platform: p, buildArgs });
      out[p] = { msg: await trimmed(built.file("/msg").contents()), arch: await trimmed(built.file("/arch").contents()), platform: await built.platform() };
    }
  } else if (mode === "errors") {
    const rootfs = dag.container().from(image).rootfs();
    out.noEmulator = await errorOf(() => dag.container({ platform: "linux/sparc64" }).withRootfs(rootfs).withExec(["true"]).sync());
    out.notInImage = await errorOf(() => dag.container({ platform: "linux/mips64le" }).from(image).sync());
    out.windows = await errorOf(() => dag.container({ platform: "windows/amd64" }).withRootfs(rootfs).withExec(["true"]).sync());
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
});
