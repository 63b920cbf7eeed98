/**
 * The facets that differ between an op and its closest cached record, in
 * words: `env FOO changed: "1" → "2"`, `secret variable TOKEN has another
 * value`, `file src/app.txt of the client directory changed: content
 * sha256:… → sha256:…`, `base image 127.0.0.1:5000/busybox: digest sha256:… →
 * sha256:…`, `its input rootfs re-runs (#1)`.
 */
import type { Facets } from "../solver/op-facets.js";
import type { Vertex } from "../solver/types.js";

export interface FacetChange {
  /** The facet's name (`env:FOO`, `secret:TOKEN`, `host:1`, `ref`, `input:0`…). */
  readonly facet: string;
  readonly says: string;
  /** The record's value and this op's (absent: the facet is not there). */
  readonly before?: string;
  readonly now?: string;
  /** The number of the input op that re-runs, for an input that does. */
  readonly runs?: number;
}

/** A client directory's listing: path, type, mode, content digest (or link target). */
type Listing = ReadonlyArray<readonly [string, string, number, string]>;

export interface DescribeContext {
  /** For each input of the op, the number of its op when it would run (0: cached or a source). */
  readonly inputRuns: readonly number[];
  /** The listing of a client directory's snapshot (`host/<hex>`), when known. */
  readonly listing: (snapshot: string) => Listing | undefined;
}

export function describeChanges(v: Vertex, before: Facets, now: Facets, ctx: DescribeContext): FacetChange[] {
  const keys = [...new Set([...Object.keys(now), ...Object.keys(before)])].sort();
  const differing = keys.filter((k) => before[k] !== now[k]);
  const out: FacetChange[] = [];
  const inputs: FacetChange[] = [];
  for (const facet of differing) {
    const b = before[facet];
    const n = now[facet];
    const values = { ...(b !== undefined ? { before: b } : {}), ...(n !== undefined ? { now: n } : {}) };
    const [prefix, rest = ""] = splitFacet(facet);
    if (prefix === "input") {
      const i = Number(rest);
      // A changed client directory is said by its files (the host facet).
      if (differing.includes(`host:${i}`)) continue;
      const runs = ctx.inputRuns[i] ?? 0;
      const role = inputRole(v, i);
      inputs.push(
        runs > 0
          ? { facet, says: `its input ${role} re-runs (#${runs})`, ...values, runs }
          : { facet, says: `its input ${role} is another cached result (${short(b)} → ${short(n)})`, ...values },
      );
    } else if (prefix === "host") out.push(...hostChanges(v, facet, Number(rest), b, n, ctx));
    else out.push({ facet, says: sentence(v, prefix, rest, b, n), ...values });
  }
  return [...out, ...inputs];
}

function splitFacet(facet: string): [string, string?] {
  const colon = facet.indexOf(":");
  return colon < 0 ? [facet] : [facet.slice(0, colon), facet.slice(colon + 1)];
}

function sentence(v: Vertex, prefix: string, rest: string, b: string | undefined, n: string | undefined): string {
  const change = (what: string, show: (x: string) => string = quote): string =>
    b === undefined ? `${what} was added (${show(n!)})` : n === undefined ? `${what} was removed (was ${show(b)})` : `${what} changed: ${show(b)} → ${show(n)}`;
  switch (prefix) {
    case "env":
      return change(`env ${rest}`);
    case "secret":
      return b !== undefined && n !== undefined && secretName(b) === secretName(n)
        ? `secret variable ${rest} has another value (version ${secretVersion(b)} → ${secretVersion(n)})`
        : change(`secret variable ${rest}`, secretName);
    case "secret-file":
      return b !== undefined && n !== undefined && secretName(b) === secretName(n)
        ? `secret file ${rest} has another value (version ${secretVersion(b)} → ${secretVersion(n)})`
        : change(`secret file ${rest}`, secretName);
    case "file": {
      const [bd] = (b ?? "").split(" ");
      const [nd] = (n ?? "").split(" ");
      if (b !== undefined && n !== undefined && bd !== nd) return `file ${rest} (withNewFile) changed: content ${short(bd)} → ${short(nd)}`;
      return change(`file ${rest} (withNewFile)`, (x) => quote(x.slice(x.indexOf(" ") + 1)));
    }
    case "ref":
      if (v.op.kind === "image" && b !== undefined && n !== undefined) {
        const [brepo, bdigest] = b.split("@");
        const [nrepo, ndigest] = n.split("@");
        if (brepo === nrepo) return `base image ${brepo}: digest ${bdigest} → ${ndigest}`;
        return `base image changed: ${b} → ${n}`;
      }
      return change("ref");
    case "args":
      return change("command", (x) => x);
    case "mount":
      return change(`mount at ${rest}`, (x) => x);
    default:
      return change(rest ? `${prefix} ${rest}` : prefix);
  }
}

/** What changed in a client directory: its files, from the listings of both contents when the engine has them. */
function hostChanges(v: Vertex, facet: string, i: number, b: string | undefined, n: string | undefined, ctx: DescribeContext): FacetChange[] {
  const role = inputRole(v, i);
  const values = { ...(b !== undefined ? { before: b } : {}), ...(n !== undefined ? { now: n } : {}) };
  const listingOf = (d: string | undefined): Listing | undefined => (d?.startsWith("sha256:") ? ctx.listing(`host/${d.slice(7)}`) : undefined);
  const old = listingOf(b);
  const fresh = listingOf(n);
  if (!old || !fresh) return [{ facet, says: `the client directory (${role}) changed: content ${short(b)} → ${short(n)}`, ...values }];
  const was = new Map(old.map((e) => [e[0], e]));
  const is = new Map(fresh.map((e) => [e[0], e]));
  const out: FacetChange[] = [];
  for (const [p, e] of is) {
    const o = was.get(p);
    if (!o) out.push({ facet: `${facet}:${p}`, says: `file ${p} of the client directory (${role}) was added`, now: e[3] });
    else if (o[3] !== e[3])
      out.push({
        facet: `${facet}:${p}`,
        says: `file ${p} of the client directory (${role}) changed: content ${short(o[3])} → ${short(e[3])}`,
        before: o[3],
        now: e[3],
      });
    else if (o[2] !== e[2] || o[1] !== e[1])
      out.push({ facet: `${facet}:${p}`, says: `file ${p} of the client directory (${role}) changed mode: ${o[2].toString(8)} → ${e[2].toString(8)}` });
  }
  for (const [p, o] of was) if (!is.has(p)) out.push({ facet: `${facet}:${p}`, says: `file ${p} of the client directory (${role}) was removed`, before: o[3] });
  return out.length > 0 ? out : [{ facet, says: `the client directory (${role}) changed: content ${short(b)} → ${short(n)}`, ...values }];
}

/** What input `i` is to the op: its rootfs, a mount, a copy's source. */
function inputRole(v: Vertex, i: number): string {
  const op = v.op as Record<string, unknown>;
  if (v.op.kind === "exec") {
    const rootfs = op["rootfs"] === true;
    if (rootfs && i === 0) return "rootfs";
    const k = i - (rootfs ? 1 : 0);
    const mounts = (op["mounts"] ?? []) as Array<{ target: string; input?: number; seed?: { input: number } }>;
    const m = mounts.find((x) => x.input === k || x.seed?.input === k);
    return m ? `mounted at ${m.target}` : `#${i}`;
  }
  if (v.op.kind === "file") {
    const base = op["base"] === true;
    if (base && i === 0) return "base directory";
    return `copy source ${i - (base ? 1 : 0) + 1}`;
  }
  return `#${i}`;
}

function secretName(x: string): string {
  return x.slice(0, x.lastIndexOf("@"));
}

/** A short, stable handle of a secret's value: the start of its HMAC (never the value). */
function secretVersion(x: string): string {
  return x.slice(x.lastIndexOf("@") + 1, x.lastIndexOf("@") + 13);
}

function quote(x: string): string {
  return JSON.stringify(x);
}

function short(d: string | undefined): string {
  if (d === undefined) return "(none)";
  return /^sha256:[0-9a-f]{64}$/.test(d) ? d.slice(0, 19) : d;
}
