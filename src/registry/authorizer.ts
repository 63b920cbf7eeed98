/**
 * Registry authentication, driven by challenges as in Docker's distribution
 * spec: a request is first sent with whatever the host asked for last time;
 * on 401 the `WWW-Authenticate` challenge says how to authenticate (Bearer
 * token from a realm, or Basic), and the request is sent once more.
 *
 * Bearer tokens are cached per host, service and scope set until they expire.
 */
import { FailedPreconditionError, messageOf, UnavailableError } from "../errors.js";
import { drain, type HttpTransport, readBody } from "./http-transport.js";
import type { CredentialsFn } from "./types.js";

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parse a `WWW-Authenticate` header into challenges. Parameters may be quoted
 * strings containing commas (`scope="repository:a:pull,push"`), so this is a
 * small tokenizer rather than a split.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = (): void => {
    while (i < n && (header[i] === " " || header[i] === "\t")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && !/[\s,="]/.test(header[i] as string)) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    skipSpace();
    while (i < n && header[i] === ",") {
      i++;
      skipSpace();
    }
    const scheme = token();
    if (scheme === "") break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    for (;;) {
      skipSpace();
      const save = i;
      const name = token();
      skipSpace();
      if (name === "" || header[i] !== "=") {
        // Not a parameter: the start of the next challenge.
        i = save;
        break;
      }
      i++;
      skipSpace();
      let value = "";
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        value = token();
      }
      challenge.params[name.toLowerCase()] = value;
      skipSpace();
      if (header[i] === ",") i++;
      else break;
    }
  }
  return out;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

/** Docker's token server default when `expires_in` is absent. */
const DEFAULT_TOKEN_SECONDS = 60;

export class Authorizer {
  readonly #transport: HttpTransport;
  readonly #credentials: CredentialsFn | undefined;
  /** The last challenge per host, to authenticate the next request up front. */
  readonly #challenges = new Map<string, Challenge>();
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(transport: HttpTransport, credentials: CredentialsFn | undefined) {
    this.#transport = transport;
    this.#credentials = credentials;
  }

  /** The Authorization header for a request to `host` needing `scopes`, if the host asked for one before. */
  async authorization(host: string, credentialsHost: string, scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const challenge = this.#challenges.get(host);
    if (challenge === undefined) return undefined;
    const creds = this.#credentials?.(credentialsHost);
    if (challenge.scheme === "basic") {
      return creds ? basic(creds.username, creds.password) : undefined;
    }
    const token = await this.#token(host, credentialsHost, challenge, scopes, signal);
    return `Bearer ${token}`;
  }

  /**
   * Record a 401's challenge. Returns the scopes to ask for when sending the
   * request again (the challenge may name more than the caller knew), or
   * undefined when a retry cannot succeed: no usable challenge, or Basic
   * asked for and no credentials.
   */
  challenged(host: string, credentialsHost: string, header: string | undefined, scopes: string[]): string[] | undefined {
    if (header === undefined) return undefined;
    const challenges = parseWwwAuthenticate(header);
    const bearer = challenges.find((c) => c.scheme === "bearer" && c.params.realm);
    const chosen = bearer ?? challenges.find((c) => c.scheme === "basic");
    if (chosen === undefined) return undefined;
    // The scope belongs to this request only; later requests bring their own.
    const { scope, ...params } = chosen.params;
    const remembered: Challenge = { scheme: chosen.scheme, params };
    this.#challenges.set(host, remembered);
    if (chosen.scheme === "basic") return this.#credentials?.(credentialsHost) !== undefined ? scopes : undefined;
    const all = mergeScopes(scopes, scope);
    // A rejected token is not reused: drop it so the retry asks for a fresh one.
    this.#tokens.delete(tokenKey(host, remembered, all));
    return all;
  }

  #token(host: string, credentialsHost: string, challenge: Challenge, scopes: string[], signal?: AbortSignal): Promise<string> {
    const all = mergeScopes(scopes, undefined);
    const key = tokenKey(host, challenge, all);
    const cached = this.#tokens.get(key);
    if (cached !== undefined) {
      return cached.then(
        (t) => {
          if (t.expiresAt > Date.now()) return t.value;
          this.#tokens.delete(key);
          return this.#token(host, credentialsHost, challenge, scopes, signal);
        },
        () => this.#token(host, credentialsHost, challenge, scopes, signal),
      );
    }
    const pending = this.#fetchToken(credentialsHost, challenge, all, signal);
    this.#tokens.set(key, pending);
    // A failed fetch must not poison the cache for the next caller.
    pending.catch(() => {
      if (this.#tokens.get(key) === pending) this.#tokens.delete(key);
    });
    return pending.then((t) => t.value);
  }

  async #fetchToken(credentialsHost: string, challenge: Challenge, scopes: string[], signal?: AbortSignal): Promise<CachedToken> {
    const realm = challenge.params.realm as string;
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UnavailableError(`registry sent an invalid token realm "${realm}"`);
    }
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    for (const s of scopes) url.searchParams.append("scope", s);
    const headers: Record<string, string> = { accept: "application/json" };
    const creds = this.#credentials?.(credentialsHost);
    if (creds) headers.authorization = basic(creds.username, creds.password);

    const started = Date.now();
    const res = await this.#transport.request({ method: "GET", url, headers, followRedirects: true }, signal ? { signal } : {});
    if (res.status === 401 || res.status === 403) {
      drain(res);
      throw new FailedPreconditionError(
        `authentication to ${url.host} failed (HTTP ${res.status})${creds ? ` for user "${creds.username}"` : ": no credentials configured"}`,
      );
    }
    if (res.status !== 200) {
      drain(res);
      throw new UnavailableError(`token server ${url.host} answered HTTP ${res.status}`);
    }
    const body = await readBody(res, 1 << 20, "token response");
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(body.toString("utf8")) as typeof parsed;
    } catch (err) {
      throw new UnavailableError(`token server ${url.host} sent invalid JSON: ${messageOf(err)}`);
    }
    const value = typeof parsed.token === "string" && parsed.token !== "" ? parsed.token : parsed.access_token;
    if (typeof value !== "string" || value === "") throw new UnavailableError(`token server ${url.host} sent no token`);
    const seconds = typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_SECONDS;
    // Renew a little early so a token does not expire in flight.
    return { value, expiresAt: started + Math.max(seconds - 10, 1) * 1000 };
  }
}

function mergeScopes(scopes: string[], extra: string | undefined): string[] {
  const set = new Set(scopes);
  for (const s of (extra ?? "").split(" ")) if (s !== "") set.add(s);
  return [...set].sort();
}

function tokenKey(host: string, challenge: Challenge, scopes: string[]): string {
  return `${host}\n${challenge.params.realm ?? ""}\n${challenge.params.service ?? ""}\n${scopes.join(" ")}`;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}
