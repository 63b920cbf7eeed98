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
