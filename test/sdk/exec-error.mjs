// Exec failures through the official SDK: ExecError for a failed command,
// the exit code instead with expect: ANY.
import { connection, dag, ExecError, ReturnType } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const report = {};
await connection(async () => {
  try {
    await dag.container().from(image).withExec(["false"]).sync();
    report.failed = "no error";
  } catch (err) {
    report.errorClass = err?.constructor?.name;
    report.isExecError = err instanceof ExecError;
    report.exitCode = err.exitCode;
    report.cmd = err.cmd;
  }
  try {
    await dag.container().from(image).withExec(["sh", "-c", "echo out; echo oops >&2; exit 4"]).stdout();
  } catch (err) {
    report.stdout = err.stdout;
    report.stderr = err.stderr;
    report.message = err.message;
  }
  try {
    await dag.container().from(image).withExec(["nope-not-here"]).sync();
  } catch (err) {
    report.missingExitCode = err.exitCode;
    report.missingStderr = err.stderr;
  }
  report.anyExitCode = await dag.container().from(image).withExec(["sh", "-c", "exit 3"], { expect: ReturnType.Any }).exitCode();
});
console.log(JSON.stringify(report));
