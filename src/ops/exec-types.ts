/**
 * What an exec is, as the solver carries it (the op's fields, its mounts and
 * how it names secrets) and what it answers (exit code, output, the
 * snapshots of its writable mounts); how the runner is asked to launch one
 * (LaunchOptions) and how it reaches services (ServiceBinder). The runner
 * itself is exec-op.ts.
 */
import type { TerminalIO } from "../executor/types.js";
import type { NetworkNamespace } from "../network/types.js";
import type { SolveContext } from "../solver/types.js";
import type { CacheSharingMode } from "./cache-volumes.js";
import type { NestingSpec } from "./nesting.js";
import type { SocketMount } from "./socket-forward.js";
import type { SshfsVolumeSpec, VolumeMount } from "./sshfs-volumes.js";

export type ExecMount =
  | { target: string; type: "cache"; key: string; sharing: CacheSharingMode; owner?: string; seed?: { input: number; path: string } }
  | { target: string; type: "tmpfs"; size?: number }
  /** A directory or file from input `input` (index among the mount sources), at `path` inside it. */
  | { target: string; type: "dir" | "file"; input: number; path: string; readOnly: boolean }
  /** A secret's value as a read-only file; the value comes from the session by HMAC. */
  | { target: string; type: "secret"; secret: SecretKey; owner?: string; mode: number }
  | SocketMount
  | VolumeMount;

/** How an op names a secret: never its value. */
export interface SecretKey {
  name: string;
  mac: string;
}

export interface ExecOp {
  kind: "exec";
  rootfs: boolean;
  args: string[];
  env: string[];
  secretEnv?: Array<{ name: string; secret: SecretKey }>;
  cwd: string;
  user: string;
  mounts: ExecMount[];
  platform: string;
  expect: "SUCCESS" | "FAILURE" | "ANY";
  stdin?: string;
  redirectStdout?: string;
  redirectStderr?: string;
  noInit?: boolean;
  redirectStdin?: string;
  insecureRootCapabilities?: true;
  /** Services to start first, reachable under `alias` (the service spec is opaque here). */
  services?: Array<{ alias: string; service: unknown }>;
  /** Privileged nesting: the process gets a client of the engine (see nesting.ts). */
  nesting?: NestingSpec;
  /**
   * Kept out of the cache key: volatile variables (NAME=value), set for the
   * process but not part of what the exec is; how to reach each volume mount, by target.
   */
  origin?: { volatileEnv?: string[]; volumes?: Record<string, SshfsVolumeSpec> };
}

/** Starts bound services for an exec and reports where they are. */
export interface ServiceBinder {
  /** `ended` settles when the service's process ends (an exec bound to it then fails, as in Dagger). */
  bind(service: unknown, ctx: SolveContext): Promise<{ ip: string; hostname: string; ended?: Promise<Error>; release(): Promise<void> }>;
}

/** How a container runs: an exec commits its result; a service is thrown away. */
export interface LaunchOptions {
  commit: boolean;
  /** The container's own name in its hosts file. */
  hostname?: string;
  /** The runc container's id (default: a random one), so that it can be signalled. */
  containerId?: string;
  /** Called once the container has its network namespace (before it starts). */
  onNamespace?: (ns: NetworkNamespace) => void;
  /** Awaited just before the container starts, after its services are bound (a service waits here for a place). */
  beforeRun?: () => Promise<void>;
  /** Run the process on this interactive terminal instead of capturing its output (never with `commit`). */
  terminal?: TerminalIO;
}

export interface ExecResultMeta {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  combined: string;
  /** Snapshots of writable directory mounts after the command, by mount index. */
  mounts?: Record<string, string>;
  /** What a nested client handed back (privileged nesting), e.g. a function call's return value. */
  nested?: unknown;
}
