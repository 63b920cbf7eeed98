import * as fs from "node:fs/promises";
import * as path from "node:path";

/**
 * .gitignore patterns as PathFilter exclude patterns, relative to the tree
 * being walked: a pattern in `sub/.gitignore` without a slash matches at any
 * depth below `sub`; one with a slash is anchored to `sub`.
 */
export function gitignorePatterns(text: string, dir: string): string[] {
  const out: string[] = [];
  for (const raw of text.split("\n")) {
    let line = raw.replace(/\r$/, "");
    if (line.trim() === "" || line.startsWith("#")) continue;
    line = line.replace(/(?<!\\)\s+$/, "");
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1);
    line = line.replace(/\/$/, "");
    const anchored = line.includes("/");
    line = line.replace(/^\//, "");
    const prefix = dir ? `${dir}/` : "";
    out.push((negate ? "!" : "") + (anchored ? prefix + line : `${prefix}**/${line}`));
  }
  return out;
}

/** The exclude patterns of every .gitignore file in the tree at `root` (a host path). */
export async function gitignoreExcludes(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const dir = path.join(root, rel);
    const text = await fs.readFile(path.join(dir, ".gitignore"), "utf8").catch(() => undefined);
    if (text !== undefined) out.push(...gitignorePatterns(text, rel));
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== ".git") await walk(rel ? `${rel}/${e.name}` : e.name);
    }
  };
  await walk("");
  return out;
}
