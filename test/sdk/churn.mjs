// Snapshot churn: ROUNDS rounds of EXECS concurrent execs in one session,
// every other one failing (`false`), each distinct so that none is cached.
// Prints, per round, what each exec gave: its output, or its error as the SDK
// reports it (exit code for an ExecError, the message otherwise).
import { connection, dag, ExecError } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const rounds = Number(process.env.TANTO_TEST_ROUNDS ?? "20");
const execs = Number(process.env.TANTO_TEST_EXECS ?? "40");
const tag = process.env.TANTO_TEST_TAG ?? String(process.pid);
const out = [];
await connection(async () => {
  const base = dag.container().from(image);
  for (let r = 0; r < rounds; r++) {
    const results = await Promise.allSettled(
      Array.from({ length: execs }, (_, i) =>
        base
          .withEnvVariable("R", `${tag}-${r}-${i}`)
          .withExec(i % 2 === 1 ? ["sh", "-c", "echo $R; false"] : ["sh", "-c", "echo $R"])
          .stdout(),
      ),
    );
    out.push(
      results.map((s) =>
        s.status === "fulfilled"
          ? { ok: s.value }
          : s.reason instanceof ExecError
            ? { exit: s.reason.exitCode, stdout: s.reason.stdout }
            : { error: String(s.reason?.message ?? s.reason) },
      ),
    );
  }
});
console.log(JSON.stringify(out));
