/** What the engine itself holds, which its containers cannot exceed: open files (capabilities: host-capabilities.ts). */
import { readFile } from "node:fs/promises";
import type { Rlimit } from "../oci/runtime-spec.js";

/** The engine's own RLIMIT_NOFILE: without CAP_SYS_RESOURCE runc cannot raise a container's hard limit above it. */
export async function readHostNofile(): Promise<Rlimit> {
  const text = await readFile("/proc/self/limits", "utf8");
  const line = text.split("\n").find((l) => l.startsWith("Max open files"));
  const fields = line?.slice("Max open files".length).trim().split(/\s+/) ?? [];
  const num = (s: string | undefined): number => (s === undefined || s === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(s));
  return { soft: num(fields[0]), hard: num(fields[1]) };
}
