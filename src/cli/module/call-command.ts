/**
 * `tanto call` and `tanto functions`: load the module (load.ts), walk the
 * command line against its type definitions (argv.ts), build objects for
 * object flags, send the call and print its result (output.ts). Exit codes as
 * Dagger's: 0, 1 on error (`Error: …` on stderr), an exec's own exit code
 * when a command in a container failed, 2 when interrupted.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { InvalidArgumentError, messageOf } from "../../errors.js";
import { parseCall, scanGlobals, supportedFunctions, UsageError } from "./argv.js";
import { callSteps, objectArgSteps, objectArgs } from "./call-query.js";
import type { FlagValue } from "./flags.js";
import { callHelp, staticCallHelp } from "./help.js";
import { loadModule, moduleRef } from "./load.js";
import { leafPlan, type Rendered, render } from "./output.js";
import { type GraphQL, GraphQLFailure, type ModuleSession, openModuleSession } from "./session.js";
import { findFunction, type ModuleModel, type ObjectDef, providerOf, shortDescription } from "./typedefs.js";

/** Writes and waits until the text is handed over (entry.ts exits right after; pipes are asynchronous). */
export function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  if (text === "") return Promise.resolve();
  return new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
}

/** Runs `body` with a session; maps errors to Dagger's output and exit codes. */
export async function withModuleSession(body: (s: ModuleSession) => Promise<number>): Promise<number> {
  let session: ModuleSession | undefined;
  const interrupted = (): void => {
    process.stderr.write("Canceled.\n");
    void (session?.close() ?? Promise.resolve()).finally(() => process.exit(2));
  };
  process.once("SIGINT", interrupted);
  try {
    session = await openModuleSession();
    return await body(session);
  } catch (err) {
    return reportError(err);
  } finally {
    process.removeListener("SIGINT", interrupted);
    await session?.close().catch(() => undefined);
  }
}

export function reportError(err: unknown): number {
  process.stderr.write(`Error: ${messageOf(err)}\n`);
  if (err instanceof UsageError) process.stderr.write(`Run '${err.commandPath} --help' for usage.\n`);
  if (err instanceof GraphQLFailure && err.exec) {
    if (err.exec.stdout !== "") process.stderr.write(`Stdout:\n${err.exec.stdout}\n`);
    if (err.exec.stderr !== "") process.stderr.write(`Stderr:\n${err.exec.stderr}\n`);
    return err.exec.exitCode === 0 ? 1 : err.exec.exitCode;
  }
  return 1;
}

/**
 * A call on a loaded module: parse, build object arguments, send the chain,
 * render the result (and write `-o`'s file). What to print is returned.
 */
export async function executeCall(gql: GraphQL, model: ModuleModel, argv: readonly string[], env: { cwd: string; stdoutIsTTY: boolean }): Promise<Rendered> {
  const { levels, globals } = parseCall(model, argv);
  const last = levels[levels.length - 1]!;
  if (globals.help || (last.fn.name === "" && levels.length === 1)) return { stdout: callHelp(model, last.fn, last.commandPath), stderr: "" };
  const objects = objectArgs(levels);
  const ids = new Map<FlagValue, string>();
  await Promise.all(
    objectArgSteps(objects, env.cwd).map(async (steps, i) => {
      const { value, arg } = objects[i]!;
      try {
        ids.set(value, String(await gql.select(steps)));
      } catch (err) {
        throw new InvalidArgumentError(`failed to get value for argument "${arg.flag}": ${messageOf(err)}`, { cause: err });
      }
    }),
  );
  const returnType = last.fn.returnType;
  const leaf = leafPlan(model, returnType, globals.output, env.cwd);
  const value = await gql.select([...callSteps(levels, ids), ...leaf.steps]);
  const out = render(returnType, leaf.mode, value, { json: globals.json, outputPath: globals.output, ...env });
  if (out.file) {
    await fs.mkdir(path.dirname(out.file.path), { recursive: true });
    await fs.writeFile(out.file.path, out.file.content, { mode: 0o644 });
  }
  return out;
}

export async function callCommand(argv: string[]): Promise<number> {
  const pre = scanGlobals(argv);
  if (pre.mod !== undefined && pre.noMod) {
    return reportError(new InvalidArgumentError("if any flags in the group [mod no-mod] are set none of the others can be; [mod no-mod] were all set"));
  }
  return withModuleSession(async (gql) => {
    let model: ModuleModel;
    try {
      model = await loadModule(gql, moduleRef(pre));
    } catch (err) {
      if (!pre.help) throw err;
      // As Dagger: the error, then what help there is without the module.
      const code = reportError(err);
      await write(process.stdout, "\n" + staticCallHelp());
      return code;
    }
    const out = await executeCall(gql, model, argv, { cwd: process.cwd(), stdoutIsTTY: process.stdout.isTTY === true });
    await write(process.stderr, out.stderr);
    await write(process.stdout, out.stdout);
    return 0;
  });
}

/** The functions table: `Name  Description`, sorted, first description line (or "-"). */
export function functionsTable(obj: ObjectDef, bold = false): { stdout: string; stderr: string } {
  const fns = supportedFunctions(obj).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const skipped = obj.functions.filter((f) => !fns.includes(f) && f.name !== "id").map((f) => f.cmd);
  if (fns.length === 0) return { stdout: "", stderr: "No functions found.\n" };
  const rows: Array<[string, string]> = [["Name", "Description"], ...fns.map((f): [string, string] => [f.cmd, shortDescription(f.description)])];
  const width = Math.max(...rows.map(([n]) => n.length)) + 3;
  let stdout = "";
  rows.forEach(([n, d], i) => {
    const cell = (s: string, w?: number): string => {
      const padded = w === undefined ? s : s.padEnd(w);
      return i === 0 && bold ? `\x1b[1m${s}\x1b[0m${padded.slice(s.length)}` : padded;
    };
    stdout += cell(n, width) + cell(d) + "\n";
  });
  if (skipped.length > 0) stdout += `\nSkipped ${skipped.length} function(s) with unsupported types: ${skipped.join(", ")}\n`;
  return { stdout, stderr: "" };
}

/** The object `functions a b` leads to: each name must name a function returning an object. */
export function walkFunctions(model: ModuleModel, names: readonly string[]): ObjectDef {
  let obj = model.main;
  for (const name of names) {
    const fn = findFunction(obj, name);
    if (!fn || !supportedFunctions(obj).includes(fn)) throw new InvalidArgumentError(`no function ${JSON.stringify(name)} in type ${JSON.stringify(obj.name)}`);
    const next = providerOf(model, fn.returnType);
    if (!next)
      throw new InvalidArgumentError(`function ${JSON.stringify(name)} returns type ${JSON.stringify(fn.returnType.kind)} with no further functions available`);
    obj = next;
  }
  return obj;
}

export async function functionsCommand(names: string[], opts: { mod?: string }): Promise<number> {
  return withModuleSession(async (gql) => {
    const model = await loadModule(gql, moduleRef({ mod: opts.mod, noMod: false }));
    const out = functionsTable(walkFunctions(model, names), process.stdout.isTTY === true);
    await write(process.stdout, out.stdout);
    await write(process.stderr, out.stderr);
    return 0;
  });
}
