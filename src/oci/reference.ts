/**
 * Image references, parsed the way Docker does so that users can write what
 * they already write: `alpine` is `docker.io/library/alpine:latest`, and the
 * first path component is a registry only when it looks like a host (has a
 * `.` or `:`, is `localhost`, or has upper-case letters).
 *
 *   parseReference("127.0.0.1:5000/busybox:1@sha256:…")
 *   // { domain: "127.0.0.1:5000", repository: "busybox", tag: "1", digest: "sha256:…" }
 */
import { InvalidArgumentError } from "../errors.js";
import { type Digest, isDigest } from "./digest.js";

export interface Reference {
  /** Registry host with optional port, `docker.io` for Docker Hub. */
  domain: string;
  /** Path inside the registry, without the domain (`library/alpine`). */
  repository: string;
  tag?: string;
  digest?: Digest;
}

export const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_PREFIX = "library/";
const NAME_MAX = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const HEX64 = /^[a-f0-9]{64}$/;

function invalid(input: string, why: string): never {
  throw new InvalidArgumentError(`invalid reference "${input}": ${why}`);
}

/** Split the first component off as the registry when it looks like one. */
function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf("/");
  const first = slash === -1 ? "" : name.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    return { domain: DEFAULT_DOMAIN, path: name };
  }
  return { domain: first, path: name.slice(slash + 1) };
}

export interface ParseReferenceOptions {
  /** Tag to use when neither tag nor digest is given; `false` leaves it unset. Default `latest`. */
  defaultTag?: string | false;
}

export function parseReference(input: string, opts: ParseReferenceOptions = {}): Reference {
  const s = input.trim();
  if (s === "") invalid(input, "empty reference");
  if (HEX64.test(s)) invalid(input, "cannot specify 64-byte hexadecimal strings as a repository name");

  let rest = s;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    const d = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(d)) invalid(input, `invalid digest "${d}": want sha256:<64 lower-case hex digits>`);
    digest = d;
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) invalid(input, `invalid tag "${tag}": want up to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`);
  }

  if (rest === "") invalid(input, "repository name is empty");
  if (rest.length > NAME_MAX) invalid(input, `repository name must not be longer than ${NAME_MAX} characters`);

  let { domain, path } = splitDomain(rest);
  if (!DOMAIN.test(domain)) invalid(input, `invalid registry host "${domain}"`);
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (path === "") invalid(input, "repository name is empty");
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = OFFICIAL_PREFIX + path;

  const components = path.split("/");
  for (const c of components) {
    if (PATH_COMPONENT.test(c)) continue;
    if (PATH_COMPONENT.test(c.toLowerCase())) invalid(input, "repository name must be lowercase");
    if (c === "") invalid(input, "repository name has an empty path component");
    invalid(input, `invalid repository path component "${c}": want lower-case letters and digits, separated by ".", "_", "__" or "-"`);
  }

  const ref: Reference = { domain, repository: path };
  if (tag !== undefined) ref.tag = tag;
  else if (digest === undefined && opts.defaultTag !== false) ref.tag = opts.defaultTag ?? "latest";
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `domain/repository` without tag or digest. */
export function referenceName(ref: Reference): string {
  return `${ref.domain}/${ref.repository}`;
}

export function formatReference(ref: Reference): string {
  let s = referenceName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The short name Docker shows: `alpine`, `user/app`, `ghcr.io/o/app`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return referenceName(ref);
  return ref.repository.startsWith(OFFICIAL_PREFIX) && ref.repository.indexOf("/", OFFICIAL_PREFIX.length) === -1
    ? ref.repository.slice(OFFICIAL_PREFIX.length)
    : ref.repository;
}

/** The familiar name with tag and digest: `alpine:3.20`. */
export function familiarString(ref: Reference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

export function withDigest(ref: Reference, digest: Digest): Reference {
  return { ...ref, digest };
}

export function withTag(ref: Reference, tag: string): Reference {
  const { digest: _digest, ...rest } = ref;
  if (!TAG.test(tag)) invalid(`${formatReference(rest)}:${tag}`, `invalid tag "${tag}"`);
  return { ...rest, tag };
}
