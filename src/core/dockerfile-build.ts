/**
 * Dockerfile builds on tanto's own solver: each instruction becomes the same
 * recipe the API builds (FROM → `from`, RUN → `withExec`, COPY/ADD/WORKDIR →
 * file ops, the rest → container configuration), so a build is cached step
 * by step exactly like an SDK pipeline, and nothing here runs a container.
 *
 * Stages are built on demand from the target down: a stage no one needs
 * (through FROM or COPY --from) is never looked at, so its images are not
 * even resolved.
 *
 * A few steps look at files while building the recipe, because Docker's
 * meaning depends on them: whether a COPY source is a file or a directory,
 * and whether a file's destination without a trailing slash is an existing
 * directory. Those solve what they look at (cached like any other solve).
 */
import * as path from "node:path";
import { expandWord, expandWords, type Lookup } from "../dockerfile/expand.js";
import { expandBody } from "../dockerfile/heredoc.js";
import { type Command, type Dockerfile, type Instruction, type InstructionOf, parseDockerfile, type Stage } from "../dockerfile/parser.js";
import { EngineError, ExecError, InvalidArgumentError, messageOf, NotFoundError } from "../errors.js";
import { cleanPath } from "../fsutil/in-root.js";
import { formatPlatform, parsePlatform } from "../oci/platform.js";
import { Container, type ContainerMount, fromAddress, withExec } from "./container.js";
import { heredocFiles, scriptRun } from "./dockerfile-heredocs.js";
import { runMounts } from "./dockerfile-mounts.js";
import { chownSpec, parseChmod, parsePorts, platformArgs } from "./dockerfile-values.js";
import { readFileAt, statAt } from "./evaluate.js";
import type { Socket } from "./extra-values.js";
import { type Change, changeFs, type FsRef } from "./filesystem.js";
import type { Secret } from "./secrets.js";
import type { RequestContext } from "./types.js";
import { Directory } from "./values.js";

export interface DockerBuildOptions {
  /** Path of the Dockerfile inside the context. */
  dockerfile?: string;
  platform?: string;
  buildArgs?: ReadonlyArray<{ name: string; value: string }>;
  /** Stage to build; the last one when empty. */
  target?: string;
  /** RUN without the init process. */
  noInit?: boolean;
  /** Secrets that `RUN --mount=type=secret,id=NAME` can mount (by name). */
  secrets?: readonly Secret[];
  /** The socket `RUN --mount=type=ssh` mounts (an ssh-agent's, usually the client's). */
  ssh?: Socket;
}

const DEFAULT_SHELL = ["/bin/sh", "-c"];

/** Names that suggest ADD would unpack the file, which this build does not do. */
const ARCHIVE = /\.(tar|tgz|tbz2?|txz|tzst|tar\.(gz|bz2|xz|zst))$/i;

export async function dockerBuild(ctx: RequestContext, context: Directory, opts: DockerBuildOptions = {}): Promise<Container> {
  const dockerfilePath = path.posix.join(context.path, cleanPath(opts.dockerfile || "Dockerfile"));
  const name = opts.dockerfile || "Dockerfile";
  let text: string;
  try {
    text = (await readFileAt(ctx, context.source, dockerfilePath)).toString("utf8");
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`Dockerfile "${name}" not found in the build context`, { cause: err });
    throw err;
  }
  const df = parseDockerfile(text, name);
  if (df.syntax !== undefined) {
    // BuildKit would fetch that frontend image; this engine builds with its own, and says so.
    ctx.session.progress({ type: "message", text: `WARN: ${name}:1: syntax directive "${df.syntax}" ignored: the engine's own Dockerfile frontend builds it` });
  }
  const platform = formatPlatform(parsePlatform(opts.platform || ctx.deps.defaultPlatform));
  const build = new Build(ctx, df, {
    context: await applyDockerignore(ctx, context, dockerfilePath),
    platform,
    buildArgs: new Map((opts.buildArgs ?? []).map((a) => [a.name, a.value])),
    noInit: opts.noInit ?? false,
    ...(opts.secrets?.length ? { secrets: opts.secrets } : {}),
    ...(opts.ssh ? { ssh: opts.ssh } : {}),
  });
  const target = opts.target ? findStage(df, opts.target) : df.stages[df.stages.length - 1]!;
  if (!target) {
    const names = df.stages.map((s) => s.from.stageName ?? String(s.index)).join(", ");
    throw new InvalidArgumentError(`target stage "${opts.target}" not found in ${name}: its stages are ${names}`);
  }
  const built = (await build.stage(target.index)).container;
  // The result is a new image: not the base's reference, and no RUN's output to report.
  const { imageRef: _base, ...state } = built.state;
  return new Container({ ...state, lastExec: undefined });
}

function findStage(df: Dockerfile, nameOrIndex: string, before = df.stages.length): Stage | undefined {
  const lower = nameOrIndex.toLowerCase();
  const byName = df.stages.slice(0, before).find((s) => s.from.stageName === lower);
  if (byName) return byName;
  if (/^[0-9]+$/.test(nameOrIndex) && Number(nameOrIndex) < before) return df.stages[Number(nameOrIndex)];
  return undefined;
}

/**
 * The context as COPY sees it: `.dockerignore` (or `<Dockerfile>.dockerignore`
 * next to the Dockerfile, which wins) applied once, as excludes of a copy.
 */
async function applyDockerignore(ctx: RequestContext, context: Directory, dockerfilePath: string): Promise<Directory> {
  for (const candidate of [`${dockerfilePath}.dockerignore`, path.posix.join(context.path, ".dockerignore")]) {
    let text: string;
    try {
      text = (await readFileAt(ctx, context.source, candidate)).toString("utf8");
    } catch (err) {
      if (err instanceof NotFoundError) continue;
      throw err;
    }
    const exclude = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    if (exclude.length === 0) return context;
    return new Directory(changeFs(undefined, [{ action: "copy", from: context, dest: "/", exclude }], "context (.dockerignore)"), "/");
  }
  return context;
}

interface BuildSettings {
  context: Directory;
  /** Secrets for `RUN --mount=type=secret`, by name (the mount's id). */
  secrets?: readonly Secret[];
  ssh?: Socket;
  platform: string;
  buildArgs: ReadonlyMap<string, string>;
  noInit: boolean;
}

/** One stage's recipe as far as it has been built. */
interface StageState {
  container: Container;
  shell: string[];
}

class Build {
  readonly #stages = new Map<number, Promise<StageState>>();
  /** ARGs before the first FROM, with build-arg overrides; what FROM lines see. */
  readonly #globalArgs = new Map<string, string | undefined>();
  /** Docker's automatic platform ARGs (available to FROM, and to a stage that declares them). */
  readonly #automatic: ReadonlyMap<string, string>;

  constructor(
    readonly ctx: RequestContext,
    readonly df: Dockerfile,
    readonly settings: BuildSettings,
  ) {
    this.#automatic = platformArgs(settings.platform, ctx.deps.defaultPlatform);
    for (const instr of df.globalArgs) {
      try {
        for (const arg of instr.args) this.#globalArgs.set(arg.name, this.#argValue(arg, this.#globalLookup));
      } catch (err) {
        throw located(df.name, instr.line, err);
      }
    }
  }

  readonly #globalLookup: Lookup = (n) => (this.#globalArgs.has(n) ? this.#globalArgs.get(n) : this.#automatic.get(n));

  #argValue(arg: { name: string; default?: string }, lookup: Lookup): string | undefined {
    const given = this.settings.buildArgs.get(arg.name);
    if (given !== undefined) return given;
    if (arg.default !== undefined) return expandWord(arg.default, lookup, this.df.escapeChar);
    return undefined;
  }

  stage(index: number): Promise<StageState> {
    let building = this.#stages.get(index);
    if (!building) {
      building = this.#buildStage(this.df.stages[index]!);
      this.#stages.set(index, building);
    }
    return building;
  }

  async #buildStage(stage: Stage): Promise<StageState> {
    const from = stage.from;
    let state = await this.#located(from, () => this.#from(stage));
    const args = new Map<string, string | undefined>();
    const lookup: Lookup = (n) => state.container.envVariable(n) ?? args.get(n);
    const expand = (word: string): string => expandWord(word, lookup, this.df.escapeChar);
    let cmdSet = false;
    for (const instr of stage.instructions) {
      state = await this.#located(instr, async (): Promise<StageState> => {
        const c = state.container;
        switch (instr.kind) {
          case "ARG":
            for (const arg of instr.args) {
              const inherited = this.#globalArgs.has(arg.name) ? this.#globalArgs.get(arg.name) : this.#automatic.get(arg.name);
              args.set(arg.name, this.#argValue(arg, lookup) ?? (arg.default === undefined ? inherited : undefined));
            }
            return state;
          case "ENV": {
            // Every value sees the variables as they were before this instruction.
            const pairs = instr.pairs.map((p) => [expand(p.key), expand(p.value)] as const);
            return { ...state, container: pairs.reduce((acc, [k, v]) => acc.withEnvVariable(k, v), c) };
          }
          case "LABEL": {
            const pairs = instr.pairs.map((p) => [expand(p.key), expand(p.value)] as const);
            return { ...state, container: pairs.reduce((acc, [k, v]) => acc.withLabel(k, v), c) };
          }
          case "RUN": {
            const forRun = await runMounts(this, stage, instr.mounts ?? [], expand);
            const script = instr.script ? scriptRun(instr.script) : undefined;
            if (script) forRun.mounts.push(script.mount);
            return { ...state, container: this.#run(c, args, script?.argv ?? commandArgs(instr.command, state.shell), forRun) };
          }
          case "COPY":
          case "ADD":
            return { ...state, container: await this.#copy(stage, c, instr, expand, lookup) };
          case "WORKDIR": {
            const next = c.withWorkdir(expand(instr.value));
            // Docker creates the directory; an existing one is left as it is.
            const rootfs = changeFs(c.state.rootfs, [{ action: "mkdir", path: next.state.workdir, permissions: 0o755 }], `WORKDIR ${next.state.workdir}`);
            return { ...state, container: next.with({ rootfs }) };
          }
          case "USER":
            return { ...state, container: c.with({ user: expand(instr.value) }) };
          case "ENTRYPOINT": {
            // A new entrypoint drops the base image's CMD unless this stage sets one.
            const entrypoint = commandArgs(instr.command, state.shell);
            return { ...state, container: c.with({ entrypoint, ...(cmdSet ? {} : { defaultArgs: [] }) }) };
          }
          case "CMD":
            cmdSet = true;
            return { ...state, container: c.with({ defaultArgs: commandArgs(instr.command, state.shell) }) };
          case "SHELL":
            return { ...state, shell: instr.args };
          case "EXPOSE": {
            let ports = c.state.exposedPorts;
            for (const spec of instr.values.flatMap((v) => expandWords(v, lookup, this.df.escapeChar))) {
              for (const p of parsePorts(spec)) ports = [...ports.filter((x) => !(x.port === p.port && x.protocol === p.protocol)), p];
            }
            return { ...state, container: c.with({ exposedPorts: ports }) };
          }
          case "VOLUME":
          case "STOPSIGNAL":
          case "HEALTHCHECK":
            // Image configuration a Container value has no place for; nothing to build.
            return state;
          case "FROM":
            return state;
        }
      });
    }
    return state;
  }

  async #from(stage: Stage): Promise<StageState> {
    const from = stage.from;
    const image = expandWord(from.image, this.#globalLookup, this.df.escapeChar);
    const platform = from.platform ? formatPlatform(parsePlatform(expandWord(from.platform, this.#globalLookup, this.df.escapeChar))) : this.settings.platform;
    const base = findStage(this.df, image, stage.index);
    if (base && base.from.stageName === image.toLowerCase()) return this.stage(base.index);
    if (image === "") throw new InvalidArgumentError(`FROM names no image: "${from.image}" expands to nothing (is a build arg missing?)`);
    const empty = Container.empty(platform);
    if (image.toLowerCase() === "scratch") return { container: empty, shell: DEFAULT_SHELL };
    return { container: await fromAddress(empty, image, this.ctx), shell: DEFAULT_SHELL };
  }

  #run(
    c: Container,
    args: ReadonlyMap<string, string | undefined>,
    argv: string[],
    forRun: { mounts: readonly ContainerMount[]; env: ReadonlyArray<[string, string]> } = { mounts: [], env: [] },
  ): Container {
    // Build args are in the command's environment (ENV wins), not in the image's; so are the mounts' (SSH_AUTH_SOCK).
    let withArgs = forRun.mounts.reduce((acc, m) => acc.withMount(m), c);
    for (const [k, v] of forRun.env) if (c.envVariable(k) === undefined) withArgs = withArgs.withEnvVariable(k, v);
    for (const [k, v] of args) if (v !== undefined && c.envVariable(k) === undefined) withArgs = withArgs.withEnvVariable(k, v);
    const ran = withExec(withArgs, { args: argv, expect: "SUCCESS", ...(this.settings.noInit ? { noInit: true } : {}) });
    // RUN --mount mounts are for that command only.
    return ran.with({ env: c.state.env, mounts: c.state.mounts });
  }

  /** Where `RUN --mount=type=bind,from=…` reads (as COPY --from does). */
  bindSource(stage: Stage, from: string | undefined, expand: (w: string) => string, line: number): Promise<{ root: FsRef; label: string }> {
    return this.#copySource(stage, { line, kind: "COPY", sources: [], dest: "", ...(from !== undefined ? { from } : {}) }, expand);
  }

  async #copy(stage: Stage, c: Container, instr: InstructionOf<"COPY" | "ADD">, expand: (w: string) => string, lookup: Lookup): Promise<Container> {
    const src = await this.#copySource(stage, instr, expand);
    const destArg = expand(instr.dest);
    const dest = c.absPath(destArg);
    const sources = instr.sources.map(expand);
    const contents = instr.contents ?? [];
    const intoDir = destArg.endsWith("/") || destArg === "." || sources.length + contents.length > 1 || sources.some(hasWildcard);
    const owner = instr.chown ? chownSpec(expand(instr.chown)) : undefined;
    const chmod = instr.chmod ? parseChmod(expand(instr.chmod)) : undefined;
    const extra = { ...(owner ? { owner } : {}), ...(chmod !== undefined ? { permissions: chmod } : {}) };
    const changes: Change[] = [];
    for (const s of sources) {
      if (instr.kind === "ADD" && ARCHIVE.test(s)) {
        throw new InvalidArgumentError(`unsupported source "${s}" for ADD: archives are not unpacked here; use COPY and RUN tar`);
      }
      const p = path.posix.join(src.root.path, cleanPath(s));
      if (hasWildcard(s)) {
        // The longest prefix without wildcards is the copy's source; the rest selects below it.
        const parts = p.split("/");
        const first = parts.findIndex(hasWildcard);
        const from: FsRef = { source: src.root.source, path: parts.slice(0, first).join("/") || "/" };
        changes.push({ action: "copy", from, dest, include: [parts.slice(first).join("/")], ...extra });
        continue;
      }
      const st = await statAt(this.ctx, src.root.source, p);
      if (!st) throw new NotFoundError(`${instr.kind} source "${s}" not found in ${src.label}`);
      let target = dest;
      if (st.type !== "DIRECTORY") {
        if (intoDir) target = path.posix.join(dest, path.posix.basename(p));
        else if ((await statAt(this.ctx, c.state.rootfs, dest))?.type === "DIRECTORY") target = path.posix.join(dest, path.posix.basename(p));
      }
      changes.push({ action: "copy", from: { source: src.root.source, path: p }, dest: target, ...extra });
    }
    if (contents.length > 0) {
      // Heredoc files go where a file of the context would: into dest when it is (or must be) a directory.
      const asDir = intoDir || (await statAt(this.ctx, c.state.rootfs, dest))?.type === "DIRECTORY";
      changes.push(...heredocFiles(contents, dest, asDir, (f) => expandBody(f.data, f.expand, lookup, this.df.escapeChar), extra));
    }
    const flags = [instr.from ? `--from=${instr.from}` : "", instr.chown ? `--chown=${instr.chown}` : "", instr.chmod ? `--chmod=${instr.chmod}` : ""].filter(
      Boolean,
    );
    const label = [instr.kind, ...flags, ...sources, ...contents.map((f) => `<<${f.name}`), destArg].join(" ");
    return c.with({ rootfs: changeFs(c.state.rootfs, changes, label) });
  }

  /** Where COPY reads: the context, an earlier stage's filesystem, or an image's. */
  async #copySource(stage: Stage, instr: InstructionOf<"COPY" | "ADD">, expand: (w: string) => string): Promise<{ root: FsRef; label: string }> {
    if (instr.kind !== "COPY" || instr.from === undefined) return { root: this.settings.context, label: "the build context" };
    const from = expand(instr.from);
    const other = findStage(this.df, from, stage.index);
    if (other) {
      const built = await this.stage(other.index);
      return { root: { source: built.container.state.rootfs, path: "/" }, label: `stage "${from}"` };
    }
    if (this.df.stages.slice(stage.index).some((s) => s.from.stageName === from.toLowerCase())) {
      throw new InvalidArgumentError(`COPY --from=${from} names this stage or a later one: a stage can only copy from the stages before it`);
    }
    const image = await fromAddress(Container.empty(this.settings.platform), from, this.ctx);
    return { root: { source: image.state.rootfs, path: "/" }, label: `image "${from}"` };
  }

  /** Run one instruction's step; errors say where in the Dockerfile they come from. */
  async #located<T>(instr: Instruction, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw located(this.df.name, instr.line, err);
    }
  }
}

function located(file: string, line: number, err: unknown): unknown {
  // A failed RUN reports its command and output as it is; an error already located stays as it is.
  if (err instanceof ExecError || (err instanceof Error && err.message.startsWith(`${file}:`))) return err;
  const message = `${file}:${line}: ${messageOf(err)}`;
  if (err instanceof InvalidArgumentError) return new InvalidArgumentError(message, { cause: err });
  if (err instanceof NotFoundError) return new NotFoundError(message, { cause: err });
  return new EngineError(message, { cause: err, code: err instanceof EngineError ? err.code : "INTERNAL" });
}

function commandArgs(command: Command, shell: readonly string[]): string[] {
  return command.form === "exec" ? command.args : [...shell, command.text];
}

function hasWildcard(p: string): boolean {
  return /[*?[]/.test(p);
}
