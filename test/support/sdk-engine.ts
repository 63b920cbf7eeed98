/**
 * The usual set-up of a test of SDK programs: a test engine on the test
 * registry for the whole `describe`, and the environment its programs get
 * (the busybox image, the official SDK resolvable from any directory).
 *
 *   const t = sdkEngine();
 *   test("…", async () => { const out = await t.program("files.mjs"); … });
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before } from "node:test";
import { CLI, REPO, run, startEngine, type TestEngine } from "./engine.js";
import { testRegistry } from "./fixtures.js";

export interface SdkEngine {
  readonly engine: TestEngine;
  readonly env: NodeJS.ProcessEnv;
  /** Run test/sdk/<name> with `tanto run node`; its stdout parsed as JSON (exit code 0 asserted). */
  program<T = Record<string, unknown>>(name: string, opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): Promise<T>;
}

export function sdkEngine(): SdkEngine {
  let engine: TestEngine | undefined;
  let env: NodeJS.ProcessEnv = {};
  before(async () => {
    const registry = await testRegistry();
    engine = await startEngine({ registry });
    env = { ...engine.env, TANTO_TEST_IMAGE: `${registry}/busybox:latest`, NODE_PATH: path.join(REPO, "node_modules") };
  });
  after(async () => {
    await engine?.destroy();
  });
  return {
    get engine() {
      assert.ok(engine, "the engine starts in before()");
      return engine;
    },
    get env() {
      return env;
    },
    async program<T>(name: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<T> {
      const r = await run([CLI, "run", "node", path.join(REPO, "test", "sdk", name)], { env: { ...env, ...opts.env }, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as T;
    },
  };
}
