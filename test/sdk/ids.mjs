// IDs through the official SDK. argv[2] is the mode:
//   make  — build objects, evaluate them, print their IDs and results as JSON
//   load  — load the IDs in $TANTO_IDS_FILE (from `make`, maybe on another engine) and evaluate them
//   host-elsewhere — load only the host directory's ID (run as another client machine)
//   bad   — corrupt and forged IDs: print each error message
//   node  — node(id:) for an object of every type: print each __typename
import { readFileSync } from "node:fs";
import { dag } from "@dagger.io/dagger";
import { image, query as raw, report } from "./common.mjs";

const mode = process.argv[2];

async function evaluate(ids) {
  const nested = dag.loadContainerFromID(ids.nested);
  const exec = dag.loadContainerFromID(ids.exec);
  return {
    nestedEntries: await nested.directory("/a").entries(),
    execStdout: await exec.stdout(),
    hostEntries: await dag.loadDirectoryFromID(ids.host).entries(),
    fileContents: await dag.loadFileFromID(ids.file).contents(),
  };
}

await report(async (out) => {
  if (mode === "make") {
    let c = dag.container().from(image).withNewFile("/b/deep.txt", "deep\n");
    for (let i = 0; i < 50; i++) c = c.withDirectory("/a", c.directory("/b")).withNewFile(`/b/f${i}`, `${i}`);
    const exec = dag.container().from(image).withEnvVariable("WHO", "ids").withExec(["sh", "-c", "echo hello $WHO; date +%s%N > /stamp"]);
    const ids = {
      nested: await c.id(),
      exec: await exec.id(),
      host: await dag.host().directory(process.env.TANTO_HOST_DIR).id(),
      file: await dag.directory().withNewFile("x.txt", "file contents").file("x.txt").id(),
    };
    out.ids = ids;
    out.nestedIdBytes = ids.nested.length;
    out.results = await evaluate(ids);
    out.stamp = await exec.file("/stamp").contents();
  } else if (mode === "load") {
    const ids = JSON.parse(readFileSync(process.env.TANTO_IDS_FILE, "utf8"));
    out.results = await evaluate(ids);
    out.stamp = await dag.loadContainerFromID(ids.exec).file("/stamp").contents();
  } else if (mode === "host-elsewhere") {
    const ids = JSON.parse(readFileSync(process.env.TANTO_IDS_FILE, "utf8"));
    try {
      out.entries = await dag.loadDirectoryFromID(ids.host).entries();
    } catch (err) {
      out.error = err.message;
    }
  } else if (mode === "bad") {
    const good = await dag.container().from(image).withExec(["true"]).id();
    const cases = {
      notOurs: "Q29udGFpbmVyOjE=",
      truncated: good.slice(0, good.length - 9),
      wrongType: good,
    };
    for (const [name, id] of Object.entries(cases)) {
      try {
        if (name === "wrongType") await dag.loadDirectoryFromID(id).entries();
        else await dag.loadContainerFromID(id).stdout();
        out[name] = "no error";
      } catch (err) {
        out[name] = err.message;
      }
    }
    out.engineStillAnswers = (await dag.container().from(image).withExec(["echo", "alive"]).stdout()).trim();
  } else if (mode === "node") {
    const ctr = dag.container().from(image).withEnvVariable("E", "1").withLabel("l", "v").withExposedPort(8080);
    const dir = dag.directory().withNewFile("a.txt", "a");
    const objects = {
      Container: ctr,
      Directory: dir,
      File: dir.file("a.txt"),
      CacheVolume: dag.cacheVolume("ids-test"),
      Host: dag.host(),
      Secret: dag.setSecret("ids-secret", "s3cret"),
      Service: ctr.withExec(["true"]).asService(),
      GitRepository: dag.git("http://127.0.0.1:9/none.git"),
      GitRef: dag.git("http://127.0.0.1:9/none.git").commit("0123456789abcdef0123456789abcdef01234567"),
    };
    const ids = {};
    for (const [type, obj] of Object.entries(objects)) ids[type] = await obj.id();
    ids.EnvVariable = (await raw(`{ loadContainerFromID(id: "${ids.Container}") { envVariables { id } } }`)).data.loadContainerFromID.envVariables[0].id;
    ids.Label = (await raw(`{ loadContainerFromID(id: "${ids.Container}") { labels { id } } }`)).data.loadContainerFromID.labels[0].id;
    ids.Port = (await raw(`{ loadContainerFromID(id: "${ids.Container}") { exposedPorts { id } } }`)).data.loadContainerFromID.exposedPorts[0].id;
    ids.Stat = (await raw(`{ loadDirectoryFromID(id: "${ids.Directory}") { stat(path: "a.txt") { id } } }`)).data.loadDirectoryFromID.stat.id;
    out.types = {};
    for (const [type, id] of Object.entries(ids)) {
      const r = await raw(`{ node(id: "${id}") { __typename id } }`);
      out.types[type] = r.errors ? `error: ${r.errors[0].message}` : r.data.node.__typename;
      const again = r.data?.node?.id;
      if (again !== undefined && again !== id) {
        const r2 = await raw(`{ node(id: "${again}") { __typename } }`);
        if (r2.errors) out.types[type] += ` (its own id does not load: ${r2.errors[0].message})`;
      }
    }
  }
});
