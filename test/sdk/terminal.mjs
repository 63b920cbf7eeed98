// Interactive terminals from an SDK pipeline (test/terminal.test.ts drives it
// in tmux). TANTO_TERMINAL picks the kind: "container" (the pipeline's state,
// then a withExec after the terminal), "default" (withDefaultTerminalCmd),
// "directory" (a directory mounted at /src), "service" (a running service) or
// "fail" (a failing exec, for `tanto run -i`).
import { connection, dag } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const kind = process.env.TANTO_TERMINAL ?? "container";
await connection(async () => {
  const base = dag.container().from(image).withEnvVariable("MARK", "from-pipeline").withNewFile("/greeting", "hello from the pipeline\n");
  if (kind === "container") {
    const out = await base.terminal().withExec(["cat", "/greeting"]).stdout();
    process.stdout.write(`after the terminal: ${out}`);
  } else if (kind === "default") {
    await base.withDefaultTerminalCmd(["sh", "-c", "echo default-cmd-ran; exit 5"]).terminal().sync();
    process.stdout.write("default done\n");
  } else if (kind === "directory") {
    const dir = dag.directory().withNewFile("note.txt", "a note in the directory\n");
    await dir.terminal({ container: base }).sync();
    process.stdout.write("directory done\n");
  } else if (kind === "privileged") {
    // The default command's settings apply when terminal() is given none.
    await base.withDefaultTerminalCmd(["sh"], { experimentalPrivilegedNesting: true, insecureRootCapabilities: true }).terminal().sync();
    await base.terminal({ cmd: ["sh"] }).sync();
    process.stdout.write("privileged done\n");
  } else if (kind === "fail") {
    try {
      await base.withExec(["sh", "-c", "echo partial > /tmp/state; exit 9"]).sync();
    } catch (err) {
      process.stdout.write(`pipeline failed with exit code ${err.exitCode}\n`);
    }
  } else if (kind === "service") {
    const svc = base.withExposedPort(8080).asService({ args: ["sh", "-c", "echo service-state > /tmp/mark; exec httpd -f -p 8080"] });
    await svc.terminal().sync();
    process.stdout.write("service done\n");
  }
});
