// Exports that must fail on the client's side, each in this one session;
// every outcome is reported so the test can check the message and that the
// engine stayed up for the next one. Run with a workdir holding a regular
// file "blocker".
import { connection, dag } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const out = {};
const outcome = async (name, fn) => {
  try {
    out[name] = { ok: await fn() };
  } catch (err) {
    out[name] = { error: String(err?.message ?? err) };
  }
};
await connection(async () => {
  const base = dag.container().from(image);
  await outcome("containerUnderFile", () => base.export("blocker/image.tar"));
  await outcome("containerParent", () => base.export("../tanto-fault-image.tar"));
  await outcome("tarballUnderFile", () => base.asTarball().export("blocker/tarball.tar"));
  await outcome("tarballParent", () => base.asTarball().export("../tanto-fault-tarball.tar"));
  await outcome("fileUnderFile", () => base.file("/etc/passwd").export("blocker/passwd"));
  await outcome("dirUnderFile", () => dag.directory().withNewFile("x", "x").export("blocker/dir"));
  await outcome("dirParent", () => dag.directory().withNewFile("x", "x").export("../tanto-fault-dir"));
  await outcome("after", () => base.withExec(["echo", "still here"]).stdout());
});
console.log(JSON.stringify(out));
