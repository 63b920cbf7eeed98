// A tiny SDK runtime for the engine's module tests (not part of tanto): the
// module's code is a shell script, runtime.sh, run by busybox; it speaks
// Dagger's function-call protocol with wget against the nested session.
// The engine loads this file through TANTO_SDK_RUNTIMES="shell=<this file>".
import * as path from "node:path";

const core = (p) => import(new URL(`../../dist/src/${p}`, import.meta.url).href);
const { Container, fromAddress } = await core("core/container.js");
const { changeFs } = await core("core/filesystem.js");
const { Directory } = await core("core/values.js");

export const sdkRuntime = {
  async generatedFiles(_ctx, mod, introspectionJson) {
    const parsed = JSON.parse(introspectionJson);
    const text = `module ${mod.name}: ${parsed.__schema.types.length} types, ${parsed.__schemaVersion}\n`;
    return new Directory(changeFs(undefined, [{ action: "mkfile", path: "/generated.txt", contents: text, permissions: 0o644 }], "generated"), "/");
  },
  async runtime(ctx, mod) {
    const image = process.env.TANTO_SHELL_RUNTIME_IMAGE;
    const base = await fromAddress(Container.empty(ctx.deps.defaultPlatform), image, ctx);
    const code = mod.contextDirectory;
    return base.with({
      mounts: [...base.state.mounts, { target: "/src", type: "dir", source: code.source, path: path.posix.join(code.path, mod.sourceSubpath), readOnly: true }],
      env: [...base.state.env, `TANTO_IMAGE=${image}`],
      entrypoint: ["sh", "/src/runtime.sh"],
      defaultArgs: [],
    });
  },
};
