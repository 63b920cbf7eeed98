import assert from "node:assert/strict";
import { test } from "node:test";
import { buildASTSchema, type DefinitionNode, Kind, parse, printSchema } from "graphql";
import { buildApiSchema } from "../schema/build.js";
import { addObjectIds } from "../schema/legacy-ids.js";
import { definitionsOf, embeddedDefinitions } from "../schema/parsed-sdl.js";
import { baseParts } from "./base-parts.js";

test("the base parts' definitions as the engine's bundle embeds them build the schema their SDL does", () => {
  const parts = baseParts();
  // What scripts/bundle.mjs defines in the engine's bundle, before this process's first build.
  (globalThis as { __TANTO_PARSED_SDL__?: string }).__TANTO_PARSED_SDL__ = embeddedDefinitions(parts.map((p) => p.sdl));
  const fromBundle = buildApiSchema(parts, { trusted: true });
  const definitions: DefinitionNode[] = parts.flatMap((p) => parse(p.sdl, { noLocation: true }).definitions);
  const fromSdl = buildASTSchema(addObjectIds({ kind: Kind.DOCUMENT, definitions }));
  assert.equal(printSchema(fromBundle.schema), printSchema(fromSdl));
  // Served from the embedded set (parsed once, shared), not parsed again…
  const core = parts[0]!.sdl;
  assert.equal(definitionsOf(core), definitionsOf(core));
  // …but an SDL that differs from the embedded one is parsed.
  const changed = `${core}\nscalar Extra`;
  assert.notEqual(definitionsOf(changed), definitionsOf(changed));
  assert.ok(definitionsOf(changed).some((d) => d.kind === Kind.SCALAR_TYPE_DEFINITION && d.name.value === "Extra"));
});
