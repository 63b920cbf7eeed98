/**
 * The registry and images integration tests use. `scripts/test.mjs` starts one
 * registry for the whole run and passes it in TANTO_TEST_REGISTRY; a test file
 * run on its own starts a private one instead.
 */
import { after } from "node:test";
import { pushBusybox } from "./images.js";
import { startRegistry } from "./registry.js";

let shared: Promise<string> | undefined;

/** `host:port` of a registry holding `busybox:latest` (and docker.io-style `library/busybox`). */
export function testRegistry(): Promise<string> {
  const fromEnv = process.env["TANTO_TEST_REGISTRY"];
  if (fromEnv) return Promise.resolve(fromEnv);
  shared ??= (async () => {
    const registry = await startRegistry();
    after(() => registry.stop());
    await pushBusybox(registry.host, ["busybox:latest", "library/busybox:latest"]);
    return registry.host;
  })();
  return shared;
}
