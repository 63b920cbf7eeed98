/**
 * Names scoped to a session: a service is registered as `name.<scope label>`
 * and the containers of that session get `<scope label>.<network domain>` as
 * their first search domain, so `name` resolves there and nowhere else.
 * Another session's containers would have to know the label; they are never
 * given it.
 */
import { createHash } from "node:crypto";

/** A DNS label for `scope` (a session id): `s-` and 16 hex digits. */
export function scopeLabel(scope: string): string {
  return `s-${createHash("sha256").update(scope).digest("hex").slice(0, 16)}`;
}

/** The name a service of `scope` is registered under. */
export function scopedName(name: string, scope: string): string {
  return `${name}.${scopeLabel(scope)}`;
}
