/**
 * `import(specifier)` for specifiers known only at run time, which also works
 * inside the engine's CommonJS bundle when V8 compiled it from its code cache:
 * Node.js 20 loses a `vm.Script`'s dynamic-import callback for code restored
 * from a cache ("A dynamic import callback was not specified"), so the loader
 * of the bundle (cli/code-cache.ts, an ES module) lends its own `import()`.
 */
const HOOK = Symbol.for("tanto.dynamicImport");

type Importer = (specifier: string) => Promise<unknown>;

export function importModule(specifier: string): Promise<unknown> {
  const lent = (globalThis as Record<symbol, Importer | undefined>)[HOOK];
  return lent ? lent(specifier) : import(specifier);
}

/** Set by the code that loads a bundle from V8's code cache, before it runs. */
export function lendImporter(importer: Importer): void {
  (globalThis as Record<symbol, Importer | undefined>)[HOOK] = importer;
}
