// Secrets through the official SDK: masked in output and errors, usable as
// variables and files, resolved from the client's env/files/commands.
import { dag } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

const value = process.env.TANTO_SECRET_VALUE;
await report(async (out) => {
  const secret = dag.setSecret("tok", value);
  const base = dag.container().from(image).withSecretVariable("TOK", secret);
  const echoed = base.withExec(["sh", "-c", 'echo "token=$TOK"; sleep 0.2; echo "err=$TOK" >&2']);
  out.stdout = await echoed.stdout();
  out.stderr = await echoed.stderr();
  out.combined = await echoed.combinedOutput();
  out.file = await dag
    .container()
    .from(image)
    .withMountedSecret("/run/secrets/tok", secret, { mode: 0o440 })
    .withExec(["sh", "-c", "cat /run/secrets/tok; echo; stat -c %a /run/secrets/tok"])
    .stdout();
  try {
    await base.withExec(["sh", "-c", 'echo "leak $TOK"; echo "leak $TOK" >&2; exit 3']).sync();
  } catch (err) {
    out.errStdout = err.stdout;
    out.errStderr = err.stderr;
    out.errMessage = err.message;
  }
  out.split = await dag
    .container()
    .from(image)
    .withSecretVariable("TOK", secret)
    // Print the value one character at a time, so it arrives in pieces.
    .withExec(["sh", "-c", 'i=0; while [ $i -lt ${#TOK} ]; do printf "%s" "${TOK:$i:1}"; i=$((i+1)); done; echo'])
    .stdout();
  out.name = await secret.name();
  out.plaintext = (await secret.plaintext()) === value;
  out.env = await dag.secret("env://TANTO_CLIENT_SECRET").plaintext();
  out.fileSecret = await dag.secret("file://./secret.txt").plaintext();
  out.cmd = await dag.secret("cmd://echo from-command").plaintext();
  // An image built with the secret as a variable and as a file carries neither.
  out.exported = await base
    .withMountedSecret("/run/secrets/tok", secret)
    .withExec(["sh", "-c", 'test -n "$TOK" && cat /run/secrets/tok > /dev/null && echo used > /used'])
    .export("./image.tar");
  out.withoutVar = await base.withoutSecretVariable("TOK").withExec(["sh", "-c", 'echo "[$TOK]"']).stdout();
});
