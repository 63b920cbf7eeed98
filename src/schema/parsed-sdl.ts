/**
 * The definitions of a schema part's SDL. The engine's own parts (the base
 * parts) come parsed in its bundle: scripts/bundle.mjs parses them when it
 * writes the bundle, and embeds them as JSON. graphql's parser, cold at the
 * engine's start, took ~20 ms of building the core schema (and of every
 * session schema with a module's types, which are built over the core parts
 * again); reading the same definitions from JSON takes ~3 ms. Any other SDL
 * (a module's, or the base parts where the compiled files run unbundled) is
 * parsed here.
 */
import { type DefinitionNode, parse } from "graphql";

/** Defined in the engine's bundle (scripts/bundle.mjs): what embeddedDefinitions returns, undefined elsewhere. */
declare const __TANTO_PARSED_SDL__: string | undefined;

let embedded: Map<string, readonly DefinitionNode[]> | undefined;

/** The definitions of `sdl` (shared between callers: the AST is never modified). */
export function definitionsOf(sdl: string): readonly DefinitionNode[] {
  embedded ??= readEmbedded(typeof __TANTO_PARSED_SDL__ === "string" ? __TANTO_PARSED_SDL__ : "[]");
  return embedded.get(sdl) ?? parse(sdl, { noLocation: true }).definitions;
}

/** What a bundle embeds for `sdls`: JSON of each SDL with its definitions. */
export function embeddedDefinitions(sdls: readonly string[]): string {
  return JSON.stringify(sdls.map((sdl) => [sdl, parse(sdl, { noLocation: true }).definitions]));
}

/** The embedded definitions, by their SDL (so a part whose SDL changed since is parsed anew). */
export function readEmbedded(json: string): Map<string, readonly DefinitionNode[]> {
  return new Map(JSON.parse(json) as Array<[string, DefinitionNode[]]>);
}
