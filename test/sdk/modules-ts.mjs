// A TypeScript module written for the official SDK, loaded, served and
// called through a session in raw GraphQL (as Dagger's CLI does).
import { query as q } from "./common.mjs";

const out = {};
out.module = await q(
  `{ moduleSource(refString: ".") { asModule { name description objects { asObject { name description functions { name description args { name defaultValue } } } } } } }`,
);
out.serve = await q(`{ moduleSource(refString: ".") { asModule { serve } } }`);
out.greet = await q(`{ hello { greet(name: "tanto") } }`);
out.greetDefault = await q(`{ hello { greet } }`);
out.echo = await q(`{ hello { echo(msg: "from ts") { stdout } } }`);
out.boom = await q(`{ hello { boom } }`);
out.typeDefs = await q(`{ currentTypeDefs(returnAllTypes: true, hideCore: true) { name asObject { functions { name sourceModuleName } } } }`);
out.generated = await q(
  `{ moduleSource(refString: ".") { generatedContextDirectory { gitignore: file(path: ".gitignore") { contents } clientGen: file(path: "sdk/client.gen.ts") { size } } } }`,
);
console.log(JSON.stringify(out));
