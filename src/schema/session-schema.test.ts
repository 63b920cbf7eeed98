import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GraphQLObjectType, GraphQLScalarType, getNamedType, isNonNullType } from "graphql";
import { buildApiSchema } from "./build.js";
import { coreParts } from "./core-parts.js";
import { parseRequest, runQuery as runRaw } from "./run-query.js";
import { SessionSchema } from "./session-schema.js";
import { pureContext, toyPart } from "./testing.js";

const core = buildApiSchema(coreParts);
const ctx = pureContext();
/** Results as JSON sees them (graphql-js builds objects without prototypes). */
const runQuery = async (...args: Parameters<typeof runRaw>) =>
  JSON.parse(JSON.stringify(await runRaw(...args))) as { data?: unknown; errors?: Array<Record<string, unknown>> };
const messages = (r: { errors?: ReadonlyArray<Record<string, unknown>> }): string => (r.errors ?? []).map((e) => e["message"]).join("\n");

describe("core schema", () => {
  test("every object type implements Node and has loadXxxFromID(id: XxxID!)", () => {
    const objects = Object.values(core.schema.getTypeMap()).filter(
      (t): t is GraphQLObjectType => t instanceof GraphQLObjectType && !t.name.startsWith("_") && t.name !== "Query",
    );
    const names = objects.map((t) => t.name).sort();
    assert.deepEqual(names, [...core.objectTypes].sort());
    for (const expected of [
      "Container",
      "Directory",
      "File",
      "CacheVolume",
      "Secret",
      "Service",
      "GitRepository",
      "GitRef",
      "Host",
      "Port",
      "EnvVariable",
      "Label",
      "Stat",
    ]) {
      assert.ok(names.includes(expected), `${expected} is an object type`);
    }
    const query = core.schema.getQueryType()!.getFields();
    for (const t of objects) {
      assert.ok(
        t.getInterfaces().some((i) => i.name === "Node"),
        `${t.name} implements Node`,
      );
      const load = query[`load${t.name}FromID`];
      assert.ok(load, `Query.load${t.name}FromID exists`);
      assert.equal(String(load.type), `${t.name}!`);
      const id = load.args.find((a) => a.name === "id");
      assert.ok(id && isNonNullType(id.type) && getNamedType(id.type) instanceof GraphQLScalarType);
      assert.equal(getNamedType(id.type).name, `${t.name}ID`);
      assert.ok(load.resolve, `Query.load${t.name}FromID has a resolver`);
    }
    assert.equal(String(query["node"]?.type), "Node");
  });

  test("IDs round-trip through loadXxxFromID and node, with ID and XxxID variables alike", async () => {
    const made = await runQuery(core, { query: '{ container(platform: "linux/riscv64") { id } }' }, ctx);
    const id = (made.data as { container: { id: string } }).container.id;
    const asId = await runQuery(core, { query: "query ($id: ID!) { loadContainerFromID(id: $id) { platform } }", variables: { id } }, ctx);
    assert.deepEqual(asId, { data: { loadContainerFromID: { platform: "linux/riscv64" } } });
    const reverse = await runQuery(core, { query: "query ($id: ContainerID!) { node(id: $id) { ... on Container { platform } } }", variables: { id } }, ctx);
    assert.deepEqual(reverse, { data: { node: { platform: "linux/riscv64" } } });
    const otherId = await runQuery(core, { query: "query ($id: DirectoryID!) { loadContainerFromID(id: $id) { platform } }", variables: { id } }, ctx);
    assert.deepEqual(otherId.data, { loadContainerFromID: { platform: "linux/riscv64" } }, "XxxID scalars are interchangeable in validation");
    const wrongType = await runQuery(core, { query: "query ($id: ID!) { loadDirectoryFromID(id: $id) { entries } }", variables: { id } }, ctx);
    assert.match(messages(wrongType), /ID is a Container, expected a Directory/);
  });

  test("variables keep the rest of validation: other types, nullability, lists", async () => {
    const run = (query: string) => runQuery(core, { query, variables: { id: "x", ids: ["x"] } }, ctx);
    assert.match(
      messages(await run("query ($id: String!) { loadContainerFromID(id: $id) { id } }")),
      /"\$id" of type "String!" used in position expecting type "ContainerID!"/,
    );
    assert.match(
      messages(await run("query ($id: ID) { loadContainerFromID(id: $id) { id } }")),
      /"\$id" of type "ID" used in position expecting type "ContainerID!"/,
    );
    assert.match(messages(await run('query ($ids: [ID!]) { directory { withFiles(path: "/", sources: $ids) { id } } }')), /expecting type "\[FileID!\]!"/);
    assert.doesNotMatch(messages(await run('query ($ids: [ID!]!) { directory { withFiles(path: "/", sources: $ids) { id } } }')), /expecting type/);
    assert.match(messages(await run("query ($n: Int!) { loadContainerFromID(id: $n) { id } }")), /"\$n" of type "Int!"/);
  });

  test("operationName picks the operation; variables reach the resolvers", async () => {
    const query = "query A { version } query B($p: Platform!) { container(platform: $p) { platform } }";
    assert.deepEqual(await runQuery(core, { query, operationName: "A" }, ctx), { data: { version: "0.1.0" } });
    assert.deepEqual(await runQuery(core, { query, operationName: "B", variables: { p: "linux/s390x" } }, ctx), {
      data: { container: { platform: "linux/s390x" } },
    });
    assert.match(messages(await runQuery(core, { query }, ctx)), /Must provide operation name/);
    assert.match(messages(await runQuery(core, { query, operationName: "B" }, ctx)), /Variable "\$p" of required type "Platform!" was not provided/);
  });

  test("request bodies: query, variables and operationName are checked", () => {
    assert.deepEqual(parseRequest({ query: "{ version }", variables: { a: 1 }, operationName: "X" }), {
      query: "{ version }",
      variables: { a: 1 },
      operationName: "X",
    });
    assert.deepEqual(parseRequest({ query: "{ version }", variables: null, operationName: null }), { query: "{ version }" });
    assert.match(String(parseRequest({})), /needs a "query" string/);
    assert.match(String(parseRequest({ query: "{ version }", variables: [1] })), /"variables" must be a JSON object, not \[1\]/);
    assert.match(String(parseRequest({ query: "{ version }", operationName: 3 })), /"operationName" must be a string, not 3/);
  });
});

describe("session schemas", () => {
  test("without extensions a session shares the core schema object", () => {
    const a = new SessionSchema(() => core);
    const b = new SessionSchema(() => core);
    assert.equal(a.current, core);
    assert.equal(b.current, core);
  });

  test("an extension is queryable in its session only, built once and cached", async () => {
    const mine = new SessionSchema(() => core);
    const other = new SessionSchema(() => core);
    mine.extend(toyPart);
    const built = mine.current;
    assert.notEqual(built, core);
    assert.equal(mine.current, built, "the build is cached");
    assert.equal(other.current, core);

    const made = await runQuery(mine.current, { query: '{ toy(name: "bear") { id name rename(name: "ted") { name } } }' }, ctx);
    assert.deepEqual(made, { data: { toy: { id: "toy:bear", name: "bear", rename: { name: "ted" } } } });
    const loaded = await runQuery(mine.current, { query: "query ($id: ID!) { loadToyFromID(id: $id) { name } }", variables: { id: "toy:bear" } }, ctx);
    assert.deepEqual(loaded, { data: { loadToyFromID: { name: "bear" } } });
    const viaNode = await runQuery(mine.current, { query: '{ node(id: "toy:owl") { ... on Toy { name } } }' }, ctx);
    assert.deepEqual(viaNode, { data: { node: { name: "owl" } } });
    const coreStill = await runQuery(mine.current, { query: '{ container(platform: "linux/amd64") { id } }' }, ctx);
    const cid = (coreStill.data as { container: { id: string } }).container.id;
    const coreNode = await runQuery(mine.current, { query: `{ node(id: "${cid}") { ... on Container { platform } } }` }, ctx);
    assert.deepEqual(coreNode, { data: { node: { platform: "linux/amd64" } } });
    assert.match(messages(await runQuery(mine.current, { query: '{ node(id: "nope") { id } }' }, ctx)), /invalid ID "nope"/);

    assert.match(messages(await runQuery(other.current, { query: '{ toy(name: "bear") { id } }' }, ctx)), /Cannot query field "toy" on type "Query"/);
    assert.match(messages(await runQuery(core, { query: '{ loadToyFromID(id: "toy:x") { name } }' }, ctx)), /Cannot query field "loadToyFromID"/);
  });

  test("a document valid against one schema is remembered for that schema only; variables are checked on every run", async () => {
    const mine = new SessionSchema(() => core);
    mine.extend(toyPart);
    const query = "query ($name: String!) { toy(name: $name) { name } }";
    for (const name of ["a", "b"]) assert.deepEqual(await runQuery(mine.current, { query, variables: { name } }, ctx), { data: { toy: { name } } });
    assert.match(messages(await runQuery(mine.current, { query, variables: { name: 3 } }, ctx)), /Variable "\$name" got invalid value 3/);
    assert.match(messages(await runQuery(core, { query, variables: { name: "a" } }, ctx)), /Cannot query field "toy" on type "Query"/);
  });

  test("a part that does not build is dropped with an error naming it; the session keeps its schema", async () => {
    const s = new SessionSchema(() => core);
    s.extend(toyPart);
    const good = s.current;
    assert.throws(() => s.extend({ name: "broken", sdl: "type {" }), /schema part "broken": Syntax Error/);
    s.extend({ name: "no-node", sdl: "type Lonely { name: String! }" });
    assert.throws(() => s.current, /object type Lonely must implement Node/);
    assert.equal(s.current, good);
    s.extend({ name: "clash", sdl: "extend type Query { twice: String }", resolvers: { Query: { toy: () => null } } });
    assert.throws(() => s.current, /field Query.toy is resolved by both part "toy" and part "clash"/);
    s.extend({ name: "unknown", sdl: "extend type Query { one: String }", resolvers: { Query: { two: () => null } } });
    assert.throws(() => s.current, /schema part "unknown" has a resolver for unknown field Query.two/);
    assert.deepEqual((await runQuery(s.current, { query: '{ toy(name: "a") { name } }' }, ctx)).data, { toy: { name: "a" } });
  });
});
