// The sample pipeline: an unmodified program using the official Dagger SDK.
import { connection, dag } from "@dagger.io/dagger";

const image = process.env.TANTO_SAMPLE_IMAGE ?? "127.0.0.1:5000/busybox:latest";
await connection(async () => {
  const out = await dag.container().from(image).withEnvVariable("NAME", "world").withExec(["sh", "-c", "echo hello $NAME"]).stdout();
  console.log(out);
});
