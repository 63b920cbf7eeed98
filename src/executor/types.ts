/**
 * The executor runs processes in containers on filesystems that are already
 * mounted. It knows nothing about images, snapshots or caching: the solver
 * prepares a snapshot, mounts it, and hands the executor its path plus the
 * extra mounts (binds of other snapshots, tmpfs, cache volumes, secrets).
 *
 * Lifecycle of one container, named by a caller-chosen `id` unique among the
 * executor's live containers:
 *
 *   run(id, …) ──▶ container created and started ──▶ main process exits ──▶ container deleted
 *                           │
 *                           └─ exec(id, …) any number of times while it runs (services,
 *                              health checks); each ends with its own process
 *
 * `run` resolves with the main process's exit status once the container is
 * gone and every byte of its output was delivered. A non-zero exit code is a
 * result, not an error: the caller decides whether it is an `ExecError`.
 * Aborting `signal` kills the container and rejects with `CancelledError`
 * after the same cleanup. Errors from the runtime itself (a bad mount, a
 * missing rootfs) reject with an `EngineError`.
 *
 *   const { exitCode } = await executor.run("exec-3f2a", {
 *     rootfs: "/var/lib/tanto/snapshots/41/fs",
 *     mounts: [{ destination: "/src", type: "bind", source: "/var/lib/tanto/snapshots/7/fs", options: ["rbind", "ro"] }],
 *     process: { args: ["go", "build", "./..."], env: ["PATH=/usr/local/go/bin:/usr/bin:/bin"], cwd: "/src",
 *                user: { uid: 0, gid: 0, additionalGids: [] } },
 *     network: "none",
 *   }, { stdout: (b) => log.write(b), stderr: (b) => log.write(b) }, { signal });
 *
 * User names are resolved beforehand with `resolveUser` (./user.ts), against
 * the same rootfs, so the executor only ever sees numbers.
 */
import type { Mount, NetworkMode } from "../oci/runtime-spec.js";

export type { Mount, NetworkMode } from "../oci/runtime-spec.js";

export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

export interface ProcessSpec {
  /** argv; args[0] is looked up in the container's PATH. */
  args: string[];
  /** `KEY=value` pairs, exactly as the process will see them (a default PATH is added when absent). */
  env: string[];
  /** Absolute path inside the container. */
  cwd: string;
  user: ProcessUser;
}

export interface RunSpec {
  /** Absolute host path of the already-mounted root filesystem. */
  rootfs: string;
  process: ProcessSpec;
  /** Extra mounts on top of the defaults (/proc, /dev, /sys…), in order. */
  mounts?: Mount[];
  hostname?: string;
  readonlyRootfs?: boolean;
  /** Defaults to "none": loopback only. */
  network?: NetworkMode;
  cgroupsPath?: string;
  /** Every capability and no seccomp, no_new_privileges or masked paths (Dagger's `insecureRootCapabilities`); all devices, writable /sys and cgroups. */
  insecureRootCapabilities?: boolean;
}

/**
 * An interactive terminal for the process instead of pipes: its stdin,
 * stdout and stderr are one console of `rows` x `cols`. Once the process
 * runs, `attached` gets the way to type into it and to resize it (which
 * signals SIGWINCH inside); a Ctrl-C typed reaches its foreground process
 * group as SIGINT, as on any terminal.
 */
export interface TerminalIO {
  rows: number;
  cols: number;
  /** Everything the process writes to its terminal. */
  output(chunk: Buffer): void;
  attached?(control: TerminalControl): void;
}

export interface TerminalControl {
  write(data: Buffer | string): void;
  resize(cols: number, rows: number): void;
}

export interface ProcessIO {
  /** Run with a terminal: then stdin, stdout and stderr below are not used. */
  terminal?: TerminalIO;
  /** Written to the process's stdin, which is then closed; absent means an empty, closed stdin. */
  stdin?: Buffer | string;
  /** Output chunks as they arrive; absent means discarded. */
  stdout?: (chunk: Buffer) => void;
  stderr?: (chunk: Buffer) => void;
}

export interface ExitStatus {
  /** The process's exit code; 128 + N when it was killed by signal N. */
  exitCode: number;
}

export interface Executor {
  /** Create a container from `spec`, run its process to completion, delete the container. */
  run(id: string, spec: RunSpec, io?: ProcessIO, opts?: { signal?: AbortSignal }): Promise<ExitStatus>;
  /** Run one more process in the running container `id`; fails if it is not running. */
  exec(id: string, process: ProcessSpec, io?: ProcessIO, opts?: { signal?: AbortSignal }): Promise<ExitStatus>;
  /** Send a signal to the main process of the running container `id` (nothing when it is gone). */
  signal(id: string, signal: "TERM" | "KILL"): Promise<void>;
}
