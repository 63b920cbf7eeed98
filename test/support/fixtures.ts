/**
 * The registry and images integration tests use. `scripts/test.mjs` starts one
 * registry for the whole run and passes it in TANTO_TEST_REGISTRY; a test file
 * run on its own starts a private one instead.
 */
import { after } from "node:test";
import { pushBusybox, pushMultiPlatformBusybox } from "./images.js";
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

let multiPlatform: Promise<MultiPlatformImage> | undefined;

export interface MultiPlatformImage {
  /** `host:port/multiarch/busybox:latest`, an OCI index. */
  ref: string;
  digest: string;
  /** Each platform's manifest digest, by "os/arch[/variant]". */
  manifests: Map<string, string>;
}

/**
 * busybox for amd64, arm64, arm/v7, riscv64, s390x, ppc64le and 386 as one
 * index in the test registry (pushed on first use; the Debian packages are
 * downloaded once into the cache).
 */
export function multiPlatformBusybox(): Promise<MultiPlatformImage> {
  multiPlatform ??= (async () => {
    const registry = await testRegistry();
    const pushed = await pushMultiPlatformBusybox(registry, ["multiarch/busybox:latest"]);
    return { ref: `${registry}/multiarch/busybox:latest`, ...pushed };
  })();
  return multiPlatform;
}

/** What `tanto functions` prints for a fresh starter module of any SDK: Dagger's templates' two functions. */
export const STARTER_FUNCTIONS = [
  "Name             Description",
  "container-echo   Returns a container that echoes whatever string argument is provided",
  "grep-dir         Returns lines that match a pattern in the files of the provided Directory",
  "",
].join("\n");
