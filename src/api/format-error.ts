/**
 * GraphQL errors shaped the way the official SDKs read them: an exec
 * failure becomes `extensions._type = "EXEC_ERROR"` with cmd, exitCode,
 * stdout and stderr; other engine errors carry their `code`.
 */
import type { GraphQLError } from "graphql";
import { EngineError, ExecError } from "../errors.js";

export interface QueryResponse {
  data?: unknown;
  errors?: ReadonlyArray<Record<string, unknown>>;
}

export function formatError(err: GraphQLError): Record<string, unknown> {
  const original = err.originalError;
  const base: Record<string, unknown> = { message: err.message };
  if (err.locations) base["locations"] = err.locations;
  if (err.path) base["path"] = err.path;
  if (original instanceof ExecError) {
    base["extensions"] = {
      _type: "EXEC_ERROR",
      cmd: original.cmd,
      exitCode: original.exitCode,
      // Dagger trims white space at both ends of the output it puts in an exec error.
      stdout: original.stdout.trim(),
      stderr: original.stderr.trim(),
    };
  } else if (original instanceof EngineError) {
    // Errors a module function returned carry their values (Error.withValue) as extensions.
    const values = (original as { extensions?: Record<string, unknown> }).extensions;
    base["extensions"] = { code: original.code, ...values };
  }
  return base;
}
