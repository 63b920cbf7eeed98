/**
 * A Python module's third-party dependencies in its runtime container:
 * `uv pip install` of pyproject.toml's `project.dependencies` (dagger-io left
 * out: the base image has the SDK) into /opt/venv, with uv's cache in a cache
 * volume shared by all modules. With no such dependency nothing runs.
 *
 * The package index is the one the engine's machine is set up for, read as
 * pip reads it: PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_CERT in the engine's
 * environment, else `index-url`, `extra-index-url` and `cert` of the
 * [global] (or [install]) section of PIP_CONFIG_FILE, /etc/pip.conf,
 * ~/.config/pip/pip.conf or ~/.pip/pip.conf. uv is told the same
 * (UV_DEFAULT_INDEX, UV_INDEX, SSL_CERT_FILE). An index URL holding
 * credentials goes in as a secret variable, never into a layer; a CA bundle
 * is copied in (certificates are not secret).
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { type Container, withExec } from "../../../core/container.js";
import { changeFs } from "../../../core/filesystem.js";
import type { RequestContext } from "../../../core/types.js";
import { VENV } from "./sdk-files.js";

/** uv's cache, shared by every Python module's dependency install. */
export const UV_CACHE_KEY = "tanto-python-uv-cache";
const EXTRA_CA = "/usr/local/share/tanto/pip-extra-ca.crt";

export interface IndexSettings {
  indexUrl?: string;
  extraIndexUrls: string[];
  /** A CA bundle file on the engine's machine. */
  cert?: string;
}

/** The [global]/[install] keys of a pip.conf (later sections and files win, as pip merges them). */
function parsePipConf(text: string, into: Record<string, string>): void {
  let section = "";
  let last: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    // An indented line continues the previous value (pip's multi-line extra-index-url).
    if (/^\s/.test(raw) && last !== undefined) {
      into[last] = `${into[last] ?? ""} ${line}`.trim();
      continue;
    }
    last = undefined;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!.trim().toLowerCase();
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*[=:]\s*(.*)$/.exec(line);
    if (kv && (section === "global" || section === "install")) {
      last = kv[1]!.toLowerCase().replace(/_/g, "-");
      into[last] = kv[2]!.trim();
    }
  }
}

export async function pipIndexSettings(env: NodeJS.ProcessEnv = process.env): Promise<IndexSettings> {
  const conf: Record<string, string> = {};
  const home = env["HOME"] ?? os.homedir();
  const files = env["PIP_CONFIG_FILE"]
    ? [env["PIP_CONFIG_FILE"]]
    : ["/etc/pip.conf", path.join(env["XDG_CONFIG_HOME"] ?? path.join(home, ".config"), "pip", "pip.conf"), path.join(home, ".pip", "pip.conf")];
  for (const f of files) {
    const text = await fs.readFile(f, "utf8").catch(() => undefined);
    if (text !== undefined) parsePipConf(text, conf);
  }
  const indexUrl = env["PIP_INDEX_URL"] ?? conf["index-url"];
  const extra = env["PIP_EXTRA_INDEX_URL"] ?? conf["extra-index-url"];
  const cert = env["PIP_CERT"] ?? conf["cert"];
  return {
    ...(indexUrl ? { indexUrl } : {}),
    extraIndexUrls: (extra ?? "").split(/\s+/).filter(Boolean),
    ...(cert ? { cert } : {}),
  };
}

const hasCredentials = (url: string): boolean => /^[a-z+]+:\/\/[^/@]+@/i.test(url);

/** `c` with `dependencies` installed into /opt/venv (unchanged when there are none). */
export async function withPythonDependencies(ctx: RequestContext, c: Container, dependencies: readonly string[], settings?: IndexSettings): Promise<Container> {
  if (dependencies.length === 0) return c;
  const index = settings ?? (await pipIndexSettings());
  let out = c;
  const setEnv = (name: string, value: string) => {
    if (!hasCredentials(value)) {
      out = out.withEnvVariable(name, value);
      return;
    }
    const secret = ctx.session.secrets.add(`tanto-${name.toLowerCase()}`, value);
    out = out.with({ secretEnv: [...out.state.secretEnv.filter((e) => e.name !== name), { name, secret: secret.ref }] });
  };
  if (index.indexUrl) setEnv("UV_DEFAULT_INDEX", index.indexUrl);
  if (index.extraIndexUrls.length > 0) setEnv("UV_INDEX", index.extraIndexUrls.join(" "));
  const caText = index.cert ? await fs.readFile(index.cert, "utf8").catch(() => undefined) : undefined;
  if (caText) {
    out = out.with({ rootfs: changeFs(out.state.rootfs, [{ action: "mkfile", path: EXTRA_CA, contents: caText, permissions: 0o644 }], "index CA bundle") });
    out = out.withEnvVariable("SSL_CERT_FILE", EXTRA_CA);
  }
  out = out.withMount({ target: "/root/.cache/uv", type: "cache", key: UV_CACHE_KEY, sharing: "SHARED" });
  out = withExec(out, {
    args: ["uv", "pip", "install", "--quiet", "--python", `${VENV}/bin/python`, "--compile-bytecode", "--link-mode=copy", ...dependencies],
    expect: "SUCCESS",
  });
  out = out.withoutMount("/root/.cache/uv");
  for (const name of ["UV_DEFAULT_INDEX", "UV_INDEX"]) {
    out = out.withoutEnvVariable(name).with({ secretEnv: out.state.secretEnv.filter((e) => e.name !== name) });
  }
  return out;
}
