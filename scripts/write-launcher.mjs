#!/usr/bin/env node
// Writes bin/tanto, the command line's launcher (run by `npm run build`).
//
// The launcher is a POSIX sh script, so it runs the same whatever directory
// it is copied to (a copied Node script would be loaded as CommonJS or ESM
// depending on the package.json it lands under). It finds the install two ways:
//   1. its own real location, through symlinks: <install>/bin/tanto;
//   2. the install it was built in, whose absolute path is written into it —
//      for a copy elsewhere, which is what the official SDKs make when they
//      provision a CLI into their cache (~/.cache/dagger/dagger-<version>).
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const quote = (s) => `'${s.replaceAll("'", `'\\''`)}'`;

const script = `#!/bin/sh
# tanto's command line. Written by scripts/write-launcher.mjs (npm run build): edit that instead.
# Runs the install this file sits in (followed through symlinks), or else,
# when copied elsewhere, the install it was built in.
built_root=${quote(root)}
built_node=${quote(process.execPath)}
# An absolute $0 that is no symlink, with a build beside it, is the install as it stands (no
# readlink: a process of its own, a good part of the launcher's time); otherwise through symlinks.
# <install>/bin/tanto → <install>, without starting dirname twice.
root=\${0%/*/*}
case $0 in /*) ;; *) root= ;; esac
if [ -L "$0" ] || [ -z "$root" ] || [ ! -f "$root/dist/src/cli/main.js" ]; then
  self=$(readlink -f -- "$0" 2>/dev/null) || self=$0
  bin=\${self%/*}
  root=\${bin%/*}
  [ -f "$root/dist/src/cli/main.js" ] || root=$built_root
fi
if [ ! -f "$root/dist/src/cli/main.js" ]; then
  echo "tanto: no build found next to $self nor at $built_root (run npm run build there)" >&2
  exit 127
fi
node=$built_node
[ -x "$node" ] || node=node
# The bundled entry (scripts/bundle.mjs) unless the compiled code is newer (a tsc run without
# bundling) or TANTO_BUNDLE=0: one CommonJS file starts faster than Node.js links the ES modules.
entry=$root/dist/bundle/cli/main.cjs
if [ "\${TANTO_BUNDLE:-}" = 0 ] || [ ! -f "$entry" ] || [ "$root/dist/src/cli/entry.js" -nt "$entry" ]; then
  entry=$root/dist/src/cli/main.js
fi
exec "$node" "$entry" "$@"
`;

const target = path.join(root, "bin", "tanto");
mkdirSync(path.dirname(target), { recursive: true });
const tmp = `${target}.${process.pid}.tmp`;
writeFileSync(tmp, script);
chmodSync(tmp, 0o755);
renameSync(tmp, target);
