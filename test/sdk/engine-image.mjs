// A pipeline for an engine in the engine image, reached through a
// docker-container:// runner host: an image pulled through the engine's
// registry mirror, the client's files in, a file exported back out — the
// client's files travel over the session, not through the container's disk.
//   node engine-image.mjs SRC_DIR EXPORT_PATH   → prints a JSON report
import { connection, dag } from "@dagger.io/dagger";

const [srcDir, exportPath] = process.argv.slice(2);
const out = {};

await connection(async () => {
  const built = dag
    .container()
    .from("busybox:latest")
    .withDirectory("/src", dag.host().directory(srcDir))
    .withExec(["sh", "-c", "cat /src/greeting.txt; echo made in the engine image > /out.txt; uname -s"]);
  out.stdout = await built.stdout();
  out.exported = await built.file("/out.txt").export(exportPath);
});

process.stdout.write(JSON.stringify(out) + "\n");
