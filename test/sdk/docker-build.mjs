// Dockerfile builds through the official SDK: a two-stage Dockerfile from the
// client's working directory (the test writes it), the result run and
// inspected, a target stage, and a Dockerfile with an unsupported instruction.
import { dag } from "@dagger.io/dagger";
import { report } from "./common.mjs";

const buildArgs = [{ name: "BASE", value: process.env.TANTO_TEST_IMAGE }];
await report(async (out) => {
  const context = dag.host().directory(".");
  const built = context.dockerBuild({ buildArgs });
  out.run = await built.withExec(["one", "two"], { useEntrypoint: true }).stdout();
  out.runDefault = await built.withExec([], { useEntrypoint: true }).stdout();
  out.user = await built.user();
  out.workdir = await built.workdir();
  out.entrypoint = await built.entrypoint();
  out.defaultArgs = await built.defaultArgs();
  out.mode = await built.envVariable("MODE");
  out.labels = Object.fromEntries(await Promise.all((await built.labels()).map(async (l) => [await l.name(), await l.value()])));
  out.ports = await Promise.all((await built.exposedPorts()).map(async (p) => `${await p.port()}/${await p.protocol()}`));
  out.files = await built.withExec(["sh", "-c", "stat -c '%n %u:%g %a' owned.txt /usr/local/bin/run.sh && ls -A /ctx && ls /txt /etc/greeting.txt"]).stdout();
  out.buildArgInEnv = (await built.envVariables()).length;
  out.target = await context.dockerBuild({ buildArgs, target: "build" }).file("/out/message.txt").contents();
  try {
    await context.dockerBuild({ dockerfile: "bad/Dockerfile", buildArgs }).sync();
    out.bad = "no error";
  } catch (err) {
    out.bad = err.message;
  }
});
