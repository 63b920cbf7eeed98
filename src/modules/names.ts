/**
 * Dagger's naming of module types and functions (core/gqlformat.go): the
 * engine keeps the name an SDK sent (OriginalName) and serves a GraphQL
 * name: functions, fields and arguments in lowerCamel, types in PascalCase,
 * enum members kept when already SCREAMING_SNAKE, module types prefixed with
 * their module's name.
 */

/** Words of an identifier: split at separators, lower→upper and acronym→word boundaries, letters→digits kept together. */
export function words(s: string): string[] {
  return s
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
}

const cap = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase();

export function pascalCase(s: string): string {
  return words(s).map(cap).join("");
}

export function lowerCamel(s: string): string {
  const ws = words(s);
  if (ws.length === 0) return "";
  return ws[0]!.toLowerCase() + ws.slice(1).map(cap).join("");
}

export function screamingSnake(s: string): string {
  return words(s)
    .map((w) => w.toUpperCase())
    .join("_");
}

export function kebab(s: string): string {
  return words(s)
    .map((w) => w.toLowerCase())
    .join("-");
}

/** An enum member's GraphQL name. */
export function enumMemberName(s: string): string {
  return /^[A-Z][A-Z0-9_]*$/.test(s) ? s : screamingSnake(s);
}

/**
 * The served name of a module's type: the main object takes the module's
 * name; a type already prefixed with the module name keeps the rest; others
 * are prefixed (`foo` + `Bar` ⇒ `FooBar`).
 */
export function namespaceType(typeName: string, moduleName: string, moduleOriginalName: string): string {
  const type = pascalCase(typeName);
  const mod = pascalCase(moduleName);
  if (type === pascalCase(moduleOriginalName) || type === mod) return mod;
  const orig = pascalCase(moduleOriginalName);
  if (type.startsWith(orig) && /^[A-Z0-9]/.test(type.slice(orig.length))) return mod + type.slice(orig.length);
  return pascalCase(`${moduleName}_${typeName}`);
}
