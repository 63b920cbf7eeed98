#!/usr/bin/env node
// The main job: a registry on 127.0.0.1:5000 with the busybox image (built
// from Debian's busybox-static, since no public registry is reachable), an
// engine on this host (started by the CLI on first use), and the sample
// pipeline run through the official SDK. Safe to run again.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REGISTRY = "127.0.0.1:5000";
const REGISTRY_DIR = "/var/lib/tanto-registry";
const CONFIG = "/etc/tanto/engine.toml";

async function registryAnswers() {
  try {
    return (await fetch(`http://${REGISTRY}/v2/`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

async function ensureRegistry() {
  if (await registryAnswers()) return;
  mkdirSync(REGISTRY_DIR, { recursive: true });
  const config = path.join(REGISTRY_DIR, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${REGISTRY_DIR}/storage\nhttp:\n  addr: ${REGISTRY}\n`,
  );
  const log = openSync(path.join(REGISTRY_DIR, "registry.log"), "a");
  const child = spawn("docker-registry", ["serve", config], { detached: true, stdio: ["ignore", log, log] });
  child.unref();
  console.error(`started docker-registry on ${REGISTRY} (pid ${child.pid}, data in ${REGISTRY_DIR})`);
  for (let i = 0; i < 100 && !(await registryAnswers()); i++) await new Promise((r) => setTimeout(r, 100));
}

await ensureRegistry();
const { pushBusybox } = await import(path.join(repo, "dist/test/support/images.js"));
await pushBusybox(REGISTRY, ["busybox:latest", "library/busybox:latest", "library/alpine:3.20"]);

if (!existsSync(CONFIG)) {
  mkdirSync(path.dirname(CONFIG), { recursive: true });
  writeFileSync(
    CONFIG,
    `# docker.io images are served by the local registry (no internet here).\n[registry."docker.io"]\nmirrors = ["${REGISTRY}"]\n\n[registry."${REGISTRY}"]\nhttp = true\n`,
  );
  console.error(`wrote ${CONFIG}`);
}

const code = await new Promise((resolve) => {
  const child = spawn(path.join(repo, "bin/tanto"), ["run", "node", path.join(repo, "examples/pipeline.mjs")], { stdio: "inherit", cwd: repo });
  child.on("close", (c) => resolve(c ?? 1));
});
process.exit(code);
