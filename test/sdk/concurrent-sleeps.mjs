// Many distinct `sleep` execs at once in one session; prints how long they took together.
// The image is pulled (and a first exec run) before the clock starts.
import { connection, dag } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const tag = process.env.TANTO_TEST_TAG ?? String(process.pid);
const count = Number(process.env.TANTO_TEST_EXECS ?? "100");
const seconds = process.env.TANTO_TEST_SLEEP ?? "1";
await connection(async () => {
  await dag.container().from(image).withExec(["true"]).sync();
  const started = performance.now();
  const codes = await Promise.all(
    Array.from({ length: count }, (_, i) => dag.container().from(image).withEnvVariable("RUN", `${tag}-${i}`).withExec(["sleep", seconds]).exitCode()),
  );
  const ms = Math.round(performance.now() - started);
  console.log(JSON.stringify({ ms, execs: codes.length, failed: codes.filter((c) => c !== 0).length }));
});
