/**
 * An op's cache key inputs as named facets: `env:PATH`, `secret:TOKEN`,
 * `args`, `file:/app/x`, `ref`, `input:0`… → a short string (long values by
 * their SHA-256). The solver stores them with each record it makes by recipe
 * key, so `tanto cache explain` (src/cache/) can say which of them differs
 * between an op that would run and the closest record of its kind. Facets are
 * only read by people and that comparison: never part of a key.
 *
 *   opFacets(vertex({ kind: "exec", args: ["make"], env: ["CC=gcc"], … }, [rootfs]))
 *   // → { "input:0": "sha256:…", args: '["make"]', "env:CC": "gcc", … }
 */
import { digestHex, sha256 } from "../oci/digest.js";
import type { Vertex } from "./types.js";
import { isVertex } from "./vertex.js";

export type Facets = Record<string, string>;

/** Values longer than this are kept as their digest. */
const MAX_VALUE = 200;

export function opFacets(v: Vertex): Facets {
  const out: Facets = {};
  v.inputs.forEach((input, i) => {
    out[`input:${i}`] = input.digest;
    // A client directory is no record of its own: its content digest names its files' listing.
    if (input.op.kind === "host-dir") out[`host:${i}`] = String(input.op["digest"]);
  });
  const { kind: _kind, origin: _origin, ...op } = v.op;
  for (const [name, value] of Object.entries(op)) {
    if (v.op.kind === "exec" && name === "env" && Array.isArray(value)) {
      for (const e of value as string[]) {
        const eq = e.indexOf("=");
        out[`env:${eq < 0 ? e : e.slice(0, eq)}`] = short(eq < 0 ? "" : e.slice(eq + 1));
      }
    } else if (v.op.kind === "exec" && name === "secretEnv" && Array.isArray(value)) {
      for (const s of value as Array<{ name: string; secret: { name: string; mac: string } }>) out[`secret:${s.name}`] = `${s.secret.name}@${s.secret.mac}`;
    } else if (v.op.kind === "exec" && name === "mounts" && Array.isArray(value)) {
      for (const m of value as Array<{ target: string; type: string; secret?: { name: string; mac: string } }>) {
        if (m.type === "secret" && m.secret) out[`secret-file:${m.target}`] = `${m.secret.name}@${m.secret.mac}`;
        else out[`mount:${m.target}`] = short(text(m));
      }
    } else if (v.op.kind === "file" && name === "actions" && Array.isArray(value)) {
      (value as Array<Record<string, unknown>>).forEach((a, i) => {
        if (a["action"] === "mkfile" && typeof a["path"] === "string") {
          const { contents, ...rest } = a;
          out[`file:${a["path"]}`] = `${sha256(String(contents))} ${text(rest)}`;
        } else out[`action:${i}`] = short(text(a));
      });
    } else out[name] = short(text(value));
  }
  return out;
}

function text(value: unknown): string {
  if (typeof value === "string") return value;
  // Keys sorted: a recipe decoded from an ID may list an object's keys in another order.
  return (
    JSON.stringify(value, (_k, x: unknown) => {
      if (isVertex(x)) return { $vertex: x.digest };
      if (x === null || typeof x !== "object" || Array.isArray(x)) return x;
      return Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }) ?? "undefined"
  );
}

function short(s: string): string {
  return s.length <= MAX_VALUE ? s : `sha256:${digestHex(sha256(s))} (${s.length} bytes)`;
}
