// A pipeline for the progress views: a step that is cached the second time,
// a step that runs for a few seconds printing as it goes, and a step that
// fails with output on both streams. TANTO_TEST_NONCE keeps the slow and
// failing steps out of the cache between runs.
import { connection, dag } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const nonce = process.env.TANTO_TEST_NONCE ?? String(Date.now());
let failed = false;
await connection(async () => {
  const base = dag.container().from(image);
  await base.withExec(["echo", "cached-step"]).sync();
  process.stdout.write("the program's own line\n");
  await base.withExec(["echo", "cached-step"]).sync();
  await base.withEnvVariable("NONCE", nonce).withExec(["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo tick-$i; sleep 0.5; done"]).sync();
  try {
    await base.withEnvVariable("NONCE", nonce).withExec(["sh", "-c", "echo boom-out; echo boom-err >&2; exit 3"]).sync();
  } catch {
    failed = true;
  }
});
process.exit(failed ? 3 : 0);
