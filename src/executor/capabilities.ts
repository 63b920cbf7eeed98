/** What a privileged container may hold: never more than the engine itself. */
import { readFile } from "node:fs/promises";
import { ALL_CAPABILITIES } from "../oci/runtime-spec.js";

let bounding: Promise<string[]> | undefined;

/**
 * The capabilities this engine may hand out: those of its own bounding set
 * (a privileged container cannot get more than the engine holds).
 */
export function boundingCapabilities(): Promise<string[]> {
  bounding ??= readFile("/proc/self/status", "utf8").then(
    (text) => {
      const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(text)?.[1];
      const mask = hex === undefined ? 0n : BigInt(`0x${hex}`);
      return ALL_CAPABILITIES.filter((_c, bit) => (mask >> BigInt(bit)) & 1n);
    },
    () => [...ALL_CAPABILITIES],
  );
  return bounding;
}
