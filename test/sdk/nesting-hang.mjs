// A nested exec that never ends by itself: the test cancels it by ending the session.
import { connection, dag } from "@dagger.io/dagger";

await connection(async () => {
  await dag
    .container()
    .from(process.env.TANTO_TEST_IMAGE)
    .withEnvVariable("NONCE", String(Date.now()))
    .withExec(["sleep", "600"], { experimentalPrivilegedNesting: true })
    .sync();
});
