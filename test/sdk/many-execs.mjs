// Several execs at once in one session; each distinct so none is cached.
import { connection, dag } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const tag = process.env.TANTO_TEST_TAG ?? String(process.pid);
const count = Number(process.env.TANTO_TEST_EXECS ?? "5");
await connection(async () => {
  const outs = await Promise.all(
    Array.from({ length: count }, (_, i) => dag.container().from(image).withEnvVariable("I", `${tag}-${i}`).withExec(["sh", "-c", "echo $I"]).stdout()),
  );
  console.log(JSON.stringify(outs.map((o) => o.trim())));
});
