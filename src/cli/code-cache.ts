/**
 * Loading a CommonJS bundle with V8's code cache: compiling the engine's
 * 2.5 MB bundle (or the CLI's) is a good part of its start, and V8 can skip it when given
 * the code it made last time (`vm.Script`'s `cachedData`; Node.js 20 offers
 * no such thing for ES modules). The cache sits beside the bundle
 * (`<bundle>.v8-cache`) and is written by the first process that loads the
 * bundle without one (or whose cache V8 rejected: another Node.js), a moment
 * after start so that it holds the functions the start and a first query ran
 * too, or at exit if that comes first (a CLI command). `npm run build` replaces the bundle's directory, cache and all: V8
 * checks a cache against its own version and flags, but against the source
 * only by length.
 */
import { isAscii } from "node:buffer";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import * as path from "node:path";
import * as vm from "node:vm";
import { lendImporter } from "../util/dynamic-import.js";

/** Long enough for the engine's start (its core schema included) and a first query. */
const WRITE_AFTER_MS = 1_500;

export function requireWithCodeCache(file: string): unknown {
  // The bundles are ASCII (scripts/bundle.mjs): read as Latin-1, into a one-byte string, without UTF-8 decoding.
  const bytes = readFileSync(file);
  const source = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
  const cacheFile = `${file}.v8-cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // none yet: this process writes it
  }
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  // Code restored from the cache has no dynamic-import callback (Node.js 20): the bundle imports through ours.
  lendImporter((specifier) => import(specifier));
  const mod = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  wrapper(mod.exports, createRequire(file), mod, file, path.dirname(file));
  if (cachedData === undefined || script.cachedDataRejected) {
    // Whichever comes first: a CLI command is over long before the timer.
    const write = (): void => {
      clearTimeout(timer);
      process.off("exit", write);
      writeCache(script, cacheFile);
    };
    const timer = setTimeout(write, WRITE_AFTER_MS).unref();
    process.once("exit", write);
  }
  return mod.exports;
}

function writeCache(script: vm.Script, cacheFile: string): void {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    // A read-only install: the next start compiles again, as without a cache.
  }
}
