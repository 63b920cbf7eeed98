// Images out and back in through the official SDK: publish to a registry and
// pull back, export to a tarball and import it, asTarball, several platforms,
// media types and compressions. Run with a scratch directory as cwd; prints
// a JSON report.
//   node images-out.mjs            the whole round trip
//   node images-out.mjs import F   import the tarball F (e.g. from docker save) and run it
import { dag, ImageLayerCompression, ImageMediaTypes } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

const registry = process.env.TANTO_TEST_REGISTRY;
const [mode, file] = process.argv.slice(2);

const errorOf = async (fn) => {
  try {
    await fn();
    return "no error";
  } catch (err) {
    return err.message;
  }
};

await report(async (out) => {
  if (mode === "import") {
    const imported = dag.container().import_(dag.host().file(file));
    out.stdout = await imported.withExec(["sh", "-c", "echo imported; cat /etc/os-marker 2>/dev/null || true"]).stdout();
    out.env = await imported.envVariables().then((vs) => Promise.all(vs.map(async (v) => `${await v.name()}=${await v.value()}`)));
    return;
  }

  const built = dag
    .container()
    .from(image)
    .withNewFile("/hello.txt", "hello from tanto\n")
    .withExec(["sh", "-c", "mkdir -p /work && echo made > /work/made && rm /etc/group"])
    .withEnvVariable("GREETING", "hi")
    .withWorkdir("/work")
    .withEntrypoint(["sh", "-c"])
    .withDefaultArgs(["cat /hello.txt"])
    .withLabel("org.example.label", "yes")
    .withExposedPort(8080)
    .withUser("root");
  const check = (c) => c.withExec(["sh", "-c", "cat /hello.txt /work/made; test -e /etc/group && echo group-back || echo group-gone; pwd"]).stdout();

  out.published = await built.publish(`${registry}/tanto-out:1`);
  out.republished = await built.publish(`${registry}/tanto-out:1`);
  const pulled = dag.container().from(out.published);
  out.pulledStdout = await check(pulled);
  out.pulledEnv = await pulled.envVariable("GREETING");
  out.pulledEntrypoint = await pulled.entrypoint();
  out.pulledDefaultArgs = await pulled.defaultArgs();
  out.pulledLabel = await pulled.label("org.example.label");
  out.pulledPorts = await Promise.all((await pulled.exposedPorts()).map((p) => p.port()));
  out.pulledUseEntrypoint = await pulled.withExec([], { useEntrypoint: true }).stdout();

  out.publishedDocker = await built.publish(`${registry}/tanto-out:docker`, { mediaTypes: ImageMediaTypes.Docker });
  out.dockerStdout = await check(dag.container().from(out.publishedDocker));
  out.publishedZstd = await built.publish(`${registry}/tanto-out:zstd`, { forcedCompression: ImageLayerCompression.Zstd });
  out.zstdStdout = await check(dag.container().from(out.publishedZstd));
  out.publishedPlain = await built.publish(`${registry}/tanto-out:plain`, { forcedCompression: ImageLayerCompression.Uncompressed });
  out.plainStdout = await check(dag.container().from(out.publishedPlain));

  // Two platforms: an index; pulling on this machine picks its own.
  const arm = dag.container({ platform: "linux/arm64" }).withNewFile("/arch.txt", "arm64\n");
  out.publishedMulti = await built.publish(`${registry}/tanto-out:multi`, { platformVariants: [arm] });
  out.multiStdout = await check(dag.container().from(out.publishedMulti));
  out.multiArm = await dag.container({ platform: "linux/arm64" }).from(out.publishedMulti).file("/arch.txt").contents();

  out.exported = await built.export("./image.tar");
  out.exportedDocker = await built.export("./image-docker.tar", { mediaTypes: ImageMediaTypes.Docker });
  out.exportedZstd = await built.export("./image-zstd.tar", { forcedCompression: ImageLayerCompression.Zstd });
  out.exportedMulti = await built.export("./image-multi.tar", { platformVariants: [arm] });
  const imported = dag.container().import_(dag.host().file("./image.tar"));
  out.importedStdout = await check(imported);
  out.importedEntrypoint = await imported.entrypoint();
  out.importedEnv = await imported.envVariable("GREETING");
  out.importedZstdStdout = await check(dag.container().import_(dag.host().file("./image-zstd.tar")));
  out.importedMultiStdout = await check(dag.container().import_(dag.host().file("./image-multi.tar")));

  const tarball = built.asTarball();
  out.tarballName = await tarball.name();
  out.tarballSize = await tarball.size();
  out.tarballStdout = await check(dag.container().import_(tarball));
  // Re-publishing what was imported shares every blob: the same digest.
  out.republishedImport = await imported.publish(`${registry}/tanto-out:reimported`);

  out.notAnImage = await errorOf(() => dag.container().import_(dag.directory().withNewFile("x.tar", "this is not a tarball").file("x.tar")).sync());
  const plainTar = dag.container().from(image).withExec(["sh", "-c", "cd / && tar -cf /t.tar etc/passwd bin/busybox"]).file("/t.tar");
  out.notAnImageTar = await errorOf(() => dag.container().import_(plainTar).sync());
});
