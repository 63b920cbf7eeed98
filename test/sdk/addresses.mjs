// Query.address through the official SDK: one string read as each type.
import * as http from "node:http";
import { connection, dag } from "@dagger.io/dagger";
import { failure, image } from "./common.mjs";

const out = {};
const server = http.createServer((_req, res) => res.end("from the client\n"));
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;
await connection(async () => {
  out.value = await dag.address("./a.txt").value();
  out.container = await dag.address(image).container().withExec(["echo", "ran"]).stdout();
  out.directory = await dag
    .address(".")
    .directory({ include: ["*.txt"] })
    .entries();
  out.file = await dag.address("a.txt").file().contents();
  out.fileIncluded = await dag
    .address("./a.txt")
    .file({ include: ["*.txt"] })
    .contents();
  out.fileExcluded = await failure(
    dag
      .address("a.txt")
      .file({ exclude: ["*.txt"] })
      .contents(),
  );
  out.fileNotIncluded = await failure(
    dag
      .address("b.md")
      .file({ include: ["*.txt"] })
      .contents(),
  );
  out.fileIgnored = await failure(dag.address("b.md").file({ gitignore: true }).contents());
  out.fileNotIgnored = await dag.address("a.txt").file({ gitignore: true }).contents();
  out.urlFiltered = await failure(
    dag
      .address("http://127.0.0.1:1/x")
      .file({ exclude: ["x"] })
      .contents(),
  );
  out.secret = await dag.address("env://ADDR_SECRET").secret().plaintext();
  out.service = await dag
    .container()
    .from(image)
    .withServiceBinding("client", dag.address(`tcp://127.0.0.1:${port}`).service())
    .withExec(["wget", "-qO-", `http://client:${port}/`])
    .stdout();
  out.socket = (await dag.address("unix:///tmp/x.sock").socket().id()).length > 0;
  const git = dag.address(`${process.env.GIT_HTTP}/smart/repo.git#main`);
  out.gitUrl = await git.gitRepository().url();
  out.gitRef = (await git.gitRef().commit()).length;
  out.gitDir = await git.directory().file("README").contents();
  out.badService = await dag
    .address("nope")
    .service()
    .id()
    .then(
      () => "no error",
      (e) => String(e.message),
    );
});
server.close();
console.log(JSON.stringify(out));
