/**
 * What a failed layer entry means to the caller: a tar that cannot be
 * applied (InvalidArgumentError: ENOTDIR, EEXIST, ELOOP, names too long…)
 * or trouble on the machine (EngineError), with the entry named.
 */
import { CancelledError, EngineError, InvalidArgumentError, messageOf } from "../errors.js";

export function errnoCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : undefined;
}

/** Errors that mean "this tar cannot be applied" rather than "the machine is unwell". */
const MALFORMED_CODES = new Set(["ENOTDIR", "EEXIST", "ELOOP", "ENAMETOOLONG", "EINVAL", "EISDIR", "ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_TYPE"]);

export function entryError(name: string, err: unknown): EngineError {
  if (err instanceof CancelledError) return err;
  const code = errnoCode(err);
  // The system's message would repeat the over-long name, as a path inside the engine's root.
  const reason =
    code === "ENAMETOOLONG" ? `name too long (${Buffer.byteLength(name)} bytes; Linux allows 4096 for a path, 255 for each name in it)` : messageOf(err);
  const message = `layer entry "${shortName(name)}": ${reason}`;
  if (err instanceof InvalidArgumentError) return new InvalidArgumentError(message, { cause: err });
  if (err instanceof EngineError) return new EngineError(message, { cause: err, code: err.code });
  if (code !== undefined && MALFORMED_CODES.has(code)) return new InvalidArgumentError(message, { cause: err });
  return new EngineError(message, { cause: err });
}

/** An entry name for a message: hostile names can be kilobytes long. */
function shortName(name: string): string {
  return name.length <= 200 ? name : `${name.slice(0, 100)}…${name.slice(-100)}`;
}
