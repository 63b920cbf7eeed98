/**
 * `tanto`: every command, parsed by commander. `engine` runs the daemon;
 * `session`, `run` and `query` are clients that open a session on an engine
 * (starting one on this host when needed); `init`, `develop`, `install`,
 * `functions` and `call` are Dagger's module commands (module/); `version`
 * prints the version. The common commands usually start through entry.ts's
 * fast path instead, which skips loading this file.
 */
import { Command } from "commander";
import { messageOf } from "../errors.js";
import { VERSION } from "../version.js";
import { loadDaemon } from "./load-bundle.js";
import type { QueryOptions } from "./query-command.js";

const program = new Command();
program
  .name("tanto")
  .description("A container pipeline engine that speaks the Dagger API")
  .version(VERSION, "--version")
  .option("--progress <mode>", "progress view: auto, tty, plain or dots")
  .option("--timestamps", "plain progress: prefix each line with the time")
  .enablePositionalOptions()
  .hook("preAction", async () => (await import("./progress-flag.js")).setProgress(program.opts()));

const collect = (value: string, previous: string[]): string[] => [...previous, value];
/** pflag's string slices: comma-separated values, and the flag repeats. */
const collectList = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...value.split(",").filter((v) => v !== "")];

const engine = program.command("engine").description("the engine daemon, and its cache");

engine
  .command("start", { isDefault: true })
  .description("run the engine daemon (the default)")
  .option("--root <dir>", "state directory (default /var/lib/tanto)")
  .option("--config <file>", "engine.toml (default /etc/tanto/engine.toml)")
  .option("--addr <url>", "listen address, unix:///PATH or tcp://HOST:PORT (repeatable)", collect, [])
  .option("--debug", "debug logging", false)
  .option("--network-name <name>", "container network and bridge name (default tanto)")
  .option("--network-cidr <cidr>", "container network subnet (default 10.87.0.0/16)")
  .option("--inspect [host:port]", "open Node's inspector (default 127.0.0.1:9229)")
  .action(
    async (opts: { root?: string; config?: string; addr: string[]; debug: boolean; networkName?: string; networkCidr?: string; inspect?: string | true }) => {
      const { inspect, ...daemonOpts } = opts;
      if (inspect !== undefined) (await import("./engine-debug.js")).openInspector(inspect);
      await (await loadDaemon()).runDaemon(daemonOpts);
    },
  );

engine
  .command("stats")
  .description("what the running engine executed and answered from cache, as JSON")
  .action(async () => {
    const { statsCommand } = await import("./engine-debug.js");
    await statsCommand();
  });

engine
  .command("du")
  .description("disk usage of the engine's cache, by kind")
  .option("--json", "print JSON", false)
  .action(async (opts: { json: boolean }) => {
    const { duCommand } = await import("./cache-commands.js");
    await duCommand(opts);
  });

engine
  .command("prune")
  .description("free cache space, least recently used first (never what a session is using)")
  .option("--all", "remove everything that is not in use", false)
  .option("--keep-storage <size>", 'keep at most this much (e.g. "10GB")')
  .action(async (opts: { all: boolean; keepStorage?: string }) => {
    const { pruneCommand } = await import("./cache-commands.js");
    await pruneCommand(opts);
  });

program
  .command("cache")
  .description("look into the engine's cache")
  .command("explain")
  .description("which ops of a recipe would run instead of hitting the cache, and which input differs from the closest cached record")
  .argument("<target>", "an object's ID, or a GraphQL file whose result selects the `id` of the object to explain")
  .option("--json", "print JSON", false)
  .option("--var <name=value>", "a query variable, as a string (repeatable)", collect, [])
  .option("--var-json <json>", "query variables as a JSON object (--var adds to them)")
  .action(async (target: string, opts: { json: boolean; var: string[]; varJson?: string }) => {
    const { explainCommand } = await import("./explain-command.js");
    await explainCommand(target, opts);
  });

const volume = program.command("cache-volume").description("move cache volumes in and out of the engine as tar archives");

volume
  .command("export")
  .description("write cache volume NAME (as cacheVolume(NAME) names it) to FILE as a tar archive (- for stdout)")
  .argument("<name>", "the volume's key")
  .argument("<file>", "the archive to write")
  .option("--owner <owner>", "the volume as mounted with this owner (withMountedCache's owner, as the pipeline spells it)")
  .action(async (name: string, file: string, opts: { owner?: string }) => {
    const { exportVolumeCommand } = await import("./volume-commands.js");
    await exportVolumeCommand(name, file, opts);
  });

volume
  .command("import")
  .description("make cache volume NAME from the tar archive FILE (- for stdin); refused while an exec uses the volume")
  .argument("<name>", "the volume's key")
  .argument("<file>", "the archive to read")
  .option("--replace", "replace the volume's contents when it exists (default: refuse)", false)
  .option("--owner <owner>", "the volume as mounted with this owner (withMountedCache's owner, as the pipeline spells it)")
  .action(async (name: string, file: string, opts: { replace: boolean; owner?: string }) => {
    const { importVolumeCommand } = await import("./volume-commands.js");
    await importVolumeCommand(name, file, opts);
  });

volume
  .command("push")
  .description("push cache volume NAME to a registry as an image REF (one layer: its tar archive); without REF, to the engine's remote cache")
  .argument("<name>", "the volume's key")
  .argument("[ref]", "HOST/REPOSITORY:TAG (default: the first [cache] export repository of the engine)")
  .option("--owner <owner>", "the volume as mounted with this owner")
  .action(async (name: string, ref: string | undefined, opts: { owner?: string }) => {
    const { registryVolumeCommand } = await import("./volume-commands.js");
    await registryVolumeCommand("push", name, ref, opts);
  });

volume
  .command("pull")
  .description(
    "make cache volume NAME from the image REF that `push` made (without REF, from the engine's remote cache); refused while an exec uses the volume",
  )
  .argument("<name>", "the volume's key")
  .argument("[ref]", "HOST/REPOSITORY:TAG (default: the [cache] import repositories of the engine, the first that has it)")
  .option("--replace", "replace the volume's contents when it exists (default: refuse)", false)
  .option("--owner <owner>", "the volume as mounted with this owner")
  .action(async (name: string, ref: string | undefined, opts: { owner?: string; replace: boolean }) => {
    const { registryVolumeCommand } = await import("./volume-commands.js");
    await registryVolumeCommand("pull", name, ref, opts);
  });

program
  .command("session")
  .description("open a session for an SDK: prints {port, session_token} as one JSON line on stdout")
  .option("--workdir <dir>", "the client's working directory")
  .option("--label <key:value>", "session label (repeatable)", collect, [])
  .allowUnknownOption(true)
  .allowExcessArguments(true)
  .action(async (opts: { workdir?: string; label: string[] }) => {
    const { sessionCommand } = await import("./commands.js");
    await sessionCommand(opts);
  });

program
  .command("run")
  .description("run a command with a session: DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN are set for it")
  .argument("<command...>", "the command and its arguments")
  .option("--workdir <dir>", "the client's working directory")
  .option("--progress <mode>", "progress view: auto, tty, plain or dots")
  .option("--timestamps", "plain progress: prefix each line with the time")
  .option("-i, --interactive", "open a terminal in the state of a command that fails")
  .passThroughOptions(true)
  .action(async (command: string[], opts: { workdir?: string; progress?: string; timestamps?: boolean; interactive?: boolean }) => {
    (await import("./progress-flag.js")).setProgress(opts);
    (await import("./interactive-flag.js")).setInteractive(opts.interactive);
    const { runCommand } = await import("./commands.js");
    // Exit now: tunnels and keep-alive sockets must not keep a finished run alive.
    process.exit(await runCommand(command, opts));
  });

program
  .command("query")
  .alias("q")
  .description("send a GraphQL document (--doc FILE or stdin) and print the result's data as JSON")
  .argument("[operation]", "the operation to run, when the document has several (or the document itself)")
  .option("--doc <file>", "read the document from a file")
  .option("--var <name=value>", "a query variable, as a string (repeatable)", collect, [])
  .option("--var-json <json>", "query variables as a JSON object (--var adds to them)")
  .option("--vars <json>", "the same as --var-json")
  .option("--progress <mode>", "progress view: auto, tty, plain or dots")
  .option("--timestamps", "plain progress: prefix each line with the time")
  .action(async (operation: string | undefined, opts: QueryOptions & { progress?: string; timestamps?: boolean }) => {
    (await import("./progress-flag.js")).setProgress(opts);
    const { queryCommand } = await import("./query-command.js");
    process.exit(await queryCommand(operation, opts));
  });

const moduleCommands = (): Promise<typeof import("./module/commands.js")> => import("./module/commands.js");

program
  .command("init")
  .description("Initialize a new module")
  .usage("[options] [path]")
  .argument("[path]", "the module's source root (default: the current directory)")
  .option("--sdk <sdk>", "Optionally install a Dagger SDK")
  .option("--name <name>", "Name of the new module (defaults to parent directory name)")
  .option("--source <path>", "Source directory used by the installed SDK. Defaults to module root")
  .option("--include <paths>", "Paths to include when loading the module (comma-separated, repeatable), relative to dagger.json's directory", collectList)
  .option("--license <id>", "License identifier to generate. See https://spdx.org/licenses/", "Apache-2.0")
  .action(async (target: string | undefined, opts: { sdk?: string; name?: string; source?: string; include?: string[]; license: string }, cmd: Command) => {
    const { initCommand } = await moduleCommands();
    process.exit(await initCommand(target, { ...opts, include: opts.include ?? [], licenseSet: cmd.getOptionValueSource("license") === "cli" }));
  });

program
  .command("develop")
  .description("Prepare a local module for development")
  .usage("[options]")
  .option("--sdk <sdk>", "Install the given Dagger SDK. Can be builtin (go, python, typescript) or a module address")
  .option("--source <path>", "Source directory used by the installed SDK. Defaults to module root")
  .option("--license <id>", "License identifier to generate. See https://spdx.org/licenses/", "Apache-2.0")
  .option("-m, --mod <ref>", "Module reference to load, either a local path or a remote git repo (defaults to current directory)")
  .action(async (opts: { sdk?: string; source?: string; license: string; mod?: string }, cmd: Command) => {
    const { developCommand } = await moduleCommands();
    process.exit(await developCommand({ ...opts, licenseSet: cmd.getOptionValueSource("license") === "cli" }));
  });

program
  .command("install")
  .alias("use")
  .description("Install a dependency")
  .usage("[options] <module>")
  .argument("<module>", "the module to install: a local path or a git reference")
  .option("-n, --name <name>", "Name to use for the dependency in the module. Defaults to the name of the module being installed.")
  .option("-m, --mod <ref>", "Module reference to load, either a local path or a remote git repo (defaults to current directory)")
  .action(async (dep: string, opts: { name?: string; mod?: string }) => {
    const { installCommand } = await moduleCommands();
    process.exit(await installCommand(dep, opts));
  });

program
  .command("functions")
  .description("List available functions")
  .usage("[options] [function]...")
  .argument("[function...]", "a chain of functions whose last one returns an object: list that object's functions")
  .option("-m, --mod <ref>", "Module reference to load, either a local path or a remote git repo (defaults to current directory)")
  .action(async (names: string[], opts: { mod?: string }) => {
    const { functionsCommand } = await moduleCommands();
    process.exit(await functionsCommand(names, opts));
  });

program
  .command("call")
  .description("Call one or more functions, interconnected into a pipeline")
  .usage("[options] [function]...")
  .argument("[function-and-flags...]", "constructor flags, then a function and its flags, then the next function…")
  .helpOption(false)
  .allowUnknownOption(true)
  .allowExcessArguments(true)
  .passThroughOptions(true)
  .action(async (_args: string[], _opts: unknown, cmd: Command) => {
    const { callCommand } = await moduleCommands();
    const args = (await import("./interactive-flag.js")).takeInteractiveFlag((await import("./progress-flag.js")).takeProgressFlags(cmd.args));
    process.exit(await callCommand(args));
  });

program
  .command("dial-stdio", { hidden: true })
  .description("connect stdin/stdout to the engine's socket (for docker-container:// runner hosts)")
  .option("--addr <url>", "the engine's address (default unix:///run/tanto/engine.sock)")
  .action(async (opts: { addr?: string }) => {
    const { dialStdio } = await import("./dial-stdio.js");
    await dialStdio(opts);
  });

program
  .command("version")
  .description("print the version (and the engine's, when a runner host is set)")
  .action(async () => {
    process.stdout.write(`tanto ${VERSION}\n`);
    const { engineVersionLine } = await import("./engine-debug.js");
    const line = await engineVersionLine();
    if (line) process.stdout.write(line + "\n");
  });

export function runProgram(argv: string[]): void {
  program.parseAsync(argv).catch((err: unknown) => {
    process.stderr.write(`tanto: ${messageOf(err)}\n`);
    process.exit(1);
  });
}
