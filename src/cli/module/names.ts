/**
 * Name conventions of Dagger's CLI (Go's iancoleman/strcase rules): flags and
 * sub-commands in kebab-case, GraphQL fields in lowerCamelCase, types in
 * PascalCase. Words break at a lower→upper change, at the last capital of an
 * acronym ("JSONData" → "json-data"), between letters and digits, and at
 * spaces, "_", "-" and ".".
 */

const isUpper = (c: string): boolean => c >= "A" && c <= "Z";
const isLower = (c: string): boolean => c >= "a" && c <= "z";
const isDigit = (c: string): boolean => c >= "0" && c <= "9";
const isSeparator = (c: string): boolean => c === " " || c === "_" || c === "-" || c === ".";

/** "containerEcho" → "container-echo", "JSONData" → "json-data", "A1B" → "a-1-b". */
export function kebab(name: string): string {
  const s = name.trim();
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const next = s[i + 1];
    if (next !== undefined) {
      const up = isUpper(c);
      const low = isLower(c);
      const num = isDigit(c);
      const change = (up && (isLower(next) || isDigit(next))) || (low && (isUpper(next) || isDigit(next))) || (num && (isUpper(next) || isLower(next)));
      if (change) {
        // The last capital of an acronym starts the next word.
        if (up && isLower(next) && i > 0 && isUpper(s[i - 1]!)) out += "-";
        out += c.toLowerCase();
        if (low || num || isDigit(next)) out += "-";
        continue;
      }
    }
    out += isSeparator(c) ? "-" : c.toLowerCase();
  }
  return out;
}

function camel(name: string, upperFirst: boolean): string {
  const s = name.trim();
  let out = "";
  let capNext = upperFirst;
  let prevUpper = false;
  for (let i = 0; i < s.length; i++) {
    let c = s[i]!;
    const up = isUpper(c);
    if (capNext) c = c.toUpperCase();
    else if (i === 0 || (prevUpper && up)) c = c.toLowerCase();
    prevUpper = up;
    if (isUpper(c) || isLower(c)) {
      out += c;
      capNext = false;
    } else if (isDigit(c)) {
      out += c;
      capNext = true;
    } else {
      capNext = isSeparator(c);
    }
  }
  return out;
}

/** GraphQL field name: "my-module" → "myModule". */
export const lowerCamel = (name: string): string => camel(name, false);
/** GraphQL type name: "my-module" → "MyModule". */
export const pascal = (name: string): string => camel(name, true);
