// One exec holding a secret as a variable and as a file for TANTO_TEST_SLEEP seconds;
// prints the length of the value it saw each way, so the test knows the secret reached it.
import { connection, dag } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const value = process.env.TANTO_SECRET_VALUE;
const sleep = process.env.TANTO_TEST_SLEEP ?? "4";
await connection(async () => {
  const secret = dag.setSecret("tok", value);
  const out = await dag
    .container()
    .from(image)
    .withSecretVariable("TOK", secret)
    .withMountedSecret("/run/tok", secret)
    .withEnvVariable("NONCE", String(Date.now()))
    .withExec(["sh", "-c", `sleep ${sleep}; printf %s "$TOK" | wc -c; wc -c < /run/tok`])
    .stdout();
  console.log(out.trim());
});
