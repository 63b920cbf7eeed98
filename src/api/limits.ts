/**
 * Limits on what one GraphQL request may ask for, so a hostile or broken
 * client gets a clear error instead of tying up the engine.
 */
import { type ASTVisitor, GraphQLError, Kind, type SelectionSetNode, type ValidationContext } from "graphql";

/** Bytes in one document. */
export const MAX_DOCUMENT_BYTES = 4 << 20;
/** Lexer tokens in one document (parse stops early past it). */
export const MAX_TOKENS = 200_000;
/**
 * Nesting of selections. SDK chains nest one level per call, so this allows
 * pipelines of a thousand steps; graphql-js parses recursively, and much
 * deeper documents would exhaust the stack.
 */
export const MAX_DEPTH = 1_000;

/**
 * The deepest nesting of braces, parentheses and brackets in a document,
 * outside strings and comments: checked before parsing, which recurses.
 */
export function nestingDepth(doc: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < doc.length; i++) {
    const c = doc[i];
    if (c === "#") {
      while (i < doc.length && doc[i] !== "\n") i++;
    } else if (c === '"') {
      const block = doc.startsWith('"""', i);
      i += block ? 3 : 1;
      while (i < doc.length && !(block ? doc.startsWith('"""', i) : doc[i] === '"' || doc[i] === "\n")) i += doc[i] === "\\" ? 2 : 1;
      if (block) i += 2;
    } else if (c === "{" || c === "(" || c === "[") {
      deepest = Math.max(deepest, ++depth);
    } else if (c === "}" || c === ")" || c === "]") depth--;
  }
  return deepest;
}

/** A validation rule refusing documents nested deeper than `max`. */
export function depthLimit(max: number): (context: ValidationContext) => ASTVisitor {
  return (context) => {
    const fragments = new Map(context.getDocument().definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
    const depthOf = (set: SelectionSetNode | undefined, depth: number, seen: Set<string>): number => {
      if (!set || depth > max) return depth;
      let deepest = depth;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) deepest = Math.max(deepest, depthOf(sel.selectionSet, depth + 1, seen));
        else if (sel.kind === Kind.INLINE_FRAGMENT) deepest = Math.max(deepest, depthOf(sel.selectionSet, depth, seen));
        else if (!seen.has(sel.name.value)) {
          const fragment = fragments.get(sel.name.value);
          deepest = Math.max(deepest, depthOf(fragment?.selectionSet, depth, new Set([...seen, sel.name.value])));
        }
        if (deepest > max) break;
      }
      return deepest;
    };
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, 0, new Set());
        if (depth > max) context.reportError(new GraphQLError(`query is nested more than ${max} levels deep`, { nodes: [node] }));
      },
    };
  };
}
