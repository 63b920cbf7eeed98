// Modules through a session, in raw GraphQL (as Dagger's CLI speaks it): a
// module whose code is a shell script (test/modules/runtime.sh) is loaded,
// served and called. Prints what each step answered, as JSON.
import { query as q } from "./common.mjs";

const out = {};
out.source = await q(
  `{ moduleSource(refString: ".") { kind moduleName configExists sourceRootSubpath sourceSubpath engineVersion sdk { source } dependencies { moduleName } } }`,
);
out.module = await q(
  `{ moduleSource(refString: ".") { asModule { name description objects { asObject { name sourceModuleName constructor { args { name defaultValue } } fields { name } functions { name description returnType { kind name } args { name defaultValue } } } } } } }`,
);
out.serve = await q(`{ moduleSource(refString: ".") { asModule { serve(includeDependencies: true) } } }`);
out.hello = await q(`{ shelly { hello } }`);
out.helloArgs = await q(`{ shelly(prefix: "yo") { prefix hello(name: "bob") } }`);
out.echo = await q(`{ shelly { echo(msg: "from a module") { stdout } } }`);
out.child = await q(`{ shelly(prefix: "p1") { child { note id } } }`);
const childId = out.child.data?.shelly?.child?.id;
out.node = childId ? await q(`{ node(id: "${childId}") { ... on ShellyChild { note } } }`) : "no id";
out.loadFromId = childId ? await q(`{ loadShellyChildFromID(id: "${childId}") { note } }`) : "no id";
out.fail = await q(`{ shelly { fail } }`);
out.crash = await q(`{ shelly { crash } }`);
out.stamp1 = await q(`{ shelly { stamp } }`);
out.stamp2 = await q(`{ shelly { stamp } }`);
out.fresh1 = await q(`{ shelly { fresh } }`);
out.fresh2 = await q(`{ shelly { fresh } }`);
out.viaDep = await q(`{ shelly { viaDep } }`);
out.dep = await q(`{ dep { hello(name: "direct") } }`);
const dataId = (await q(`{ host { directory(path: "data") { id } } }`)).data.host.directory.id;
out.ls = await q(`{ shelly { ls(dir: "${dataId}") } }`);
out.ctxFiles = await q(`{ shelly { ctxFiles } }`);
out.imgEcho = await q(`{ shelly { imgEcho } }`);
out.typeDefs = await q(`{ currentTypeDefs(returnAllTypes: true, hideCore: true) { kind name asObject { name functions { name sourceModuleName } } } }`);
out.typeDefsCore = await q(`{ currentTypeDefs { name asObject { functions { name } } } }`);
out.generated = await q(
  `{ moduleSource(refString: ".") { withName(name: "renamed") { generatedContextDirectory { entries file(path: "dagger.json") { contents } generatedFile: file(path: "generated.txt") { contents } } } } }`,
);
out.changeset = await q(
  `{ moduleSource(refString: ".") { withName(name: "renamed") { generatedContextChangeset { addedPaths modifiedPaths removedPaths } } } }`,
);
out.introspection = await q(`{ moduleSource(refString: ".") { introspectionSchemaJSON { size } } }`);
out.typedefBuild = await q(
  `{ typeDef { withListOf(elementType: "${(await q(`{ typeDef { withKind(kind: INTEGER) { id } } }`)).data.typeDef.withKind.id}") { kind asList { elementTypeDef { kind } } } } }`,
);
out.findUp = await q(`{ moduleSource(refString: "nest/a/b") { kind moduleName sourceRootSubpath localContextDirectoryPath contextDirectory { entries } } }`);
out.missing = await q(`{ moduleSource(refString: "./nope") { moduleName } }`);
out.allowMissing = await q(
  `{ moduleSource(refString: "./nope", allowNotExists: true) { configExists moduleName localContextDirectoryPath sourceRootSubpath } }`,
);
out.newInRepo = await q(
  `{ moduleSource(refString: "nest/a/new", disableFindUp: true, allowNotExists: true) { configExists localContextDirectoryPath sourceRootSubpath } }`,
);
const gitRef = process.env.TANTO_GIT_MODULE;
out.gitSource = await q(`{ moduleSource(refString: "${gitRef}") { kind moduleName sourceRootSubpath version commit asString } }`);
out.gitServe = await q(`{ moduleSource(refString: "${gitRef}") { asModule { serve } } }`);
out.gitCall = await q(`{ gitmod { hello(name: "git") } }`);
out.notInModule = await q(`{ currentFunctionCall { name } }`);
console.log(JSON.stringify(out));
