/** Reading GraphQL arguments, with errors that name the argument. */

import type { Container } from "../../core/container.js";
import type { RequestContext } from "../../core/types.js";
import { InvalidArgumentError } from "../../errors.js";

export type Args = Record<string, unknown>;
export type Resolver<P> = (parent: P, args: Args, ctx: RequestContext) => unknown;

export const str = (a: Args, k: string): string => a[k] as string;
export const optStr = (a: Args, k: string): string | undefined => (a[k] === null || a[k] === undefined ? undefined : (a[k] as string));
export const bool = (a: Args, k: string): boolean => a[k] === true;
export const strList = (a: Args, k: string): string[] => (Array.isArray(a[k]) ? (a[k] as string[]) : []);
export const optInt = (a: Args, k: string): number | undefined => (typeof a[k] === "number" ? (a[k] as number) : undefined);

export function permissions(a: Args, fallback: number): number;
export function permissions(a: Args): number | undefined;
export function permissions(a: Args, fallback?: number): number | undefined {
  const p = a["permissions"];
  if (p === null || p === undefined) return fallback;
  if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > 0o7777) {
    throw new InvalidArgumentError(`invalid permissions ${String(p)}: want an integer from 0 to 0o7777`);
  }
  return p;
}

/** `$VAR` and `${VAR}` from the container's environment, when `expand` is set. */
export function expand(c: Container, a: Args, value: string): string {
  if (!bool(a, "expand")) return value;
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, b: string | undefined, p: string | undefined) => c.envVariable((b ?? p)!) ?? "",
  );
}

/** An argument naming a path in the container: expanded, then made absolute against the workdir. */
export function containerPath(c: Container, a: Args, k = "path"): string {
  return c.absPath(expand(c, a, str(a, k)));
}
