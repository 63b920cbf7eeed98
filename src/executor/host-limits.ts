/** What the engine itself holds, which its containers cannot exceed: capabilities, open files. */
import { readFile } from "node:fs/promises";
import { ALL_CAPABILITIES, type Rlimit } from "../oci/runtime-spec.js";

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

/** The engine's own RLIMIT_NOFILE: without CAP_SYS_RESOURCE runc cannot raise a container's hard limit above it. */
export async function readHostNofile(): Promise<Rlimit> {
  const text = await readFile("/proc/self/limits", "utf8");
  const line = text.split("\n").find((l) => l.startsWith("Max open files"));
  const fields = line?.slice("Max open files".length).trim().split(/\s+/) ?? [];
  const num = (s: string | undefined): number => (s === undefined || s === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(s));
  return { soft: num(fields[0]), hard: num(fields[1]) };
}
