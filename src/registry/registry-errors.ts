/**
 * Registry failures as engine errors: the registry's own words
 * (`manifest unknown`) with what was being done in front
 * (`Cannot pull "…"`), and a kind that says whose fault it is.
 */
import { CancelledError, EngineError, FailedPreconditionError, InvalidArgumentError, messageOf, NotFoundError, UnavailableError } from "../errors.js";
import { type HttpResponse, readBody } from "./http-transport.js";

export async function readBodyIn(res: HttpResponse, limit: number, what: string, ctx: string, signal: AbortSignal | undefined): Promise<Buffer> {
  try {
    return await readBody(res, limit, what);
  } catch (err) {
    if (signal?.aborted) throw new CancelledError(`${ctx}: cancelled`, { cause: err });
    if (err instanceof EngineError) throw contextualize(err, ctx);
    throw new UnavailableError(`${ctx}: reading ${what} from ${res.url.host}: ${messageOf(err)}`, { cause: err });
  }
}

/** Run a parser and put the reference in front of its complaint. */
export function withContext<T>(fn: () => T, ctx: string): T {
  try {
    return fn();
  } catch (err) {
    throw contextualize(err, ctx);
  }
}

/** The same kind of error, with `ctx` saying what was being done. */
export function contextualize(err: unknown, ctx: string): unknown {
  if (!(err instanceof EngineError) || err.message.startsWith("Cannot ")) return err;
  const message = `${ctx}: ${err.message}`;
  switch (err.code) {
    case "NOT_FOUND":
      return new NotFoundError(message, { cause: err });
    case "INVALID_ARGUMENT":
      return new InvalidArgumentError(message, { cause: err });
    case "FAILED_PRECONDITION":
      return new FailedPreconditionError(message, { cause: err });
    case "UNAVAILABLE":
      return new UnavailableError(message, { cause: err });
    case "CANCELLED":
      return new CancelledError(message, { cause: err });
    default:
      return new EngineError(message, { cause: err, code: err.code });
  }
}

interface RegistryErrorBody {
  errors?: Array<{ code?: unknown; message?: unknown }>;
}

/**
 * Turn a failed answer into an EngineError carrying the registry's own words
 * (`manifest unknown`, `name unknown: repository name not known to registry`).
 */
export async function registryError(res: HttpResponse, ctx: string, subject: string | undefined): Promise<EngineError> {
  let detail = "";
  try {
    const body = await readBody(res, 64 << 10, "error body");
    const text = body.toString("utf8").trim();
    try {
      const parsed = JSON.parse(text) as RegistryErrorBody;
      detail = (parsed.errors ?? [])
        .map((e) => {
          const code = typeof e.code === "string" ? e.code.toLowerCase().replaceAll("_", " ") : "";
          const message = typeof e.message === "string" ? e.message : "";
          if (code === "" || message.toLowerCase() === code) return message || code;
          return message === "" ? code : `${code}: ${message}`;
        })
        .filter((s) => s !== "")
        .join("; ");
    } catch {
      detail = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    }
  } catch {
    // The status is still worth reporting without the body.
  }
  if (detail === "") detail = defaultDetail(res.status);
  const message = `${ctx}: ${subject ? `${subject}: ` : ""}${detail}`;
  const codes = detail.toLowerCase();
  switch (true) {
    case res.status === 404:
      return new NotFoundError(message);
    case res.status === 401 || res.status === 403:
      return new FailedPreconditionError(`${message} (registry ${res.url.host} refused access: check credentials)`);
    case res.status === 400 && codes.includes("blob unknown"):
      return new FailedPreconditionError(message);
    case res.status === 400 || res.status === 413 || res.status === 415:
      return new InvalidArgumentError(message);
    case res.status === 405:
      return new FailedPreconditionError(`${message} (registry ${res.url.host} does not allow this operation)`);
    default:
      return new UnavailableError(`${message} (registry ${res.url.host} answered HTTP ${res.status})`);
  }
}

function defaultDetail(status: number): string {
  switch (status) {
    case 401:
      return "unauthorized";
    case 403:
      return "denied";
    case 404:
      return "not found";
    case 429:
      return "too many requests";
    default:
      return `HTTP ${status}`;
  }
}
