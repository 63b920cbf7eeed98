// Raw GraphQL with variables through the official SDK's own client: `$id: ID!`
// where a ContainerID is expected and the reverse, a list variable for an exec,
// and the operationName the client sends. Prints what it saw as JSON.
import { connection, dag } from "@dagger.io/dagger";
import { image } from "./common.mjs";

const out = {};
await connection(async () => {
  const id = await dag.container().from(image).withEnvVariable("GREETING", "hello vars").id();
  const gql = dag.getGQLClient();
  const ran = await gql.request(
    `query Greet($id: ID!, $args: [String!]!) {
      __schemaVersion
      loadContainerFromID(id: $id) { withExec(args: $args) { stdout } }
    }`,
    { id, args: ["sh", "-c", 'echo "$GREETING"'] },
  );
  out.schemaVersion = ran.__schemaVersion;
  out.stdout = ran.loadContainerFromID.withExec.stdout;
  const viaNode = await gql.request(`query ByNode($cid: ContainerID!, $name: String!) { node(id: $cid) { ... on Container { envVariable(name: $name) } } }`, {
    cid: id,
    name: "GREETING",
  });
  out.env = viaNode.node.envVariable;
  const wrong = await gql.request(`query Wrong($id: String!) { loadContainerFromID(id: $id) { id } }`, { id }).then(
    () => "accepted",
    (err) => err.message,
  );
  out.wrongType = wrong;
});
process.stdout.write(JSON.stringify(out) + "\n");
