/**
 * The engine's small error taxonomy. Every error that crosses a layer is an
 * EngineError with a stable `code`, so the API can map it without string
 * matching. Messages name the thing and the value that was wrong.
 */
export type ErrorCode = "INTERNAL" | "NOT_FOUND" | "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "UNAVAILABLE" | "EXEC_ERROR" | "CANCELLED";

export class EngineError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? "INTERNAL";
  }
}

export class NotFoundError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "NOT_FOUND" });
  }
}

export class InvalidArgumentError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "INVALID_ARGUMENT" });
  }
}

export class FailedPreconditionError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "FAILED_PRECONDITION" });
  }
}

export class UnavailableError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "UNAVAILABLE" });
  }
}

export class CancelledError extends EngineError {
  constructor(message = "operation cancelled", options?: { cause?: unknown }) {
    super(message, { ...options, code: "CANCELLED" });
  }
}

/** A process in a container that did not end the way the caller expected. */
export class ExecError extends EngineError {
  readonly cmd: readonly string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  constructor(init: { cmd: readonly string[]; exitCode: number; stdout: string; stderr: string; message?: string }) {
    super(init.message ?? `process "${init.cmd.join(" ")}" did not complete successfully: exit code: ${init.exitCode}`, { code: "EXEC_ERROR" });
    this.cmd = init.cmd;
    this.exitCode = init.exitCode;
    this.stdout = init.stdout;
    this.stderr = init.stderr;
  }
}

/** The message of anything thrown, for logs and wrapped errors. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
