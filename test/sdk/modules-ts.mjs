// A TypeScript module written for the official SDK, loaded, served and
// called through a session in raw GraphQL (as Dagger's CLI does).
const port = process.env.DAGGER_SESSION_PORT;
const auth = `Basic ${Buffer.from(`${process.env.DAGGER_SESSION_TOKEN}:`).toString("base64")}`;
async function q(query) {
  const res = await fetch(`http://127.0.0.1:${port}/query`, {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  return res.json();
}
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
