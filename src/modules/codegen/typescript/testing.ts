/**
 * Introspection JSON for the generator's tests: tanto's core schema, alone or
 * with the schema's toy part (an object, an enum with @enumValue and a
 * deprecated member, a Query field with defaults) standing in for a dependency.
 */
import { buildApiSchema } from "../../../schema/build.js";
import { CODEGEN_INTROSPECTION_QUERY } from "../../../schema/codegen-introspection.js";
import { coreParts } from "../../../schema/core-parts.js";
import { runQuery } from "../../../schema/run-query.js";
import { SessionSchema } from "../../../schema/session-schema.js";
import { pureContext, toyPart } from "../../../schema/testing.js";

async function introspect(schema: ReturnType<typeof buildApiSchema>): Promise<string> {
  const r = JSON.parse(JSON.stringify(await runQuery(schema, { query: CODEGEN_INTROSPECTION_QUERY }, pureContext()))) as { data?: unknown; errors?: unknown[] };
  if (r.errors?.length) throw new Error(`introspection failed: ${JSON.stringify(r.errors)}`);
  return JSON.stringify(r.data);
}

export function coreIntrospection(): Promise<string> {
  return introspect(buildApiSchema(coreParts));
}

/** Core plus the named test parts ("toy"). */
export function introspectionWith(parts: Array<"toy">): Promise<string> {
  const session = new SessionSchema(() => buildApiSchema(coreParts));
  for (const p of parts) if (p === "toy") session.extend(toyPart);
  return introspect(session.current);
}

export { CODEGEN_INTROSPECTION_QUERY };
