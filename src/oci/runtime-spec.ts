/**
 * The subset of the OCI runtime spec (config.json) that tanto writes, and a
 * pure builder for it. Field names follow opencontainers/runtime-spec
 * `specs-go/config.go`; only what we set is typed, so a reader of a bundle
 * sees exactly the knobs the engine turns.
 *
 * The defaults mirror Docker's (capabilities, masked and read-only paths,
 * device rules, the seccomp allow-list in seccomp-default.ts), because images
 * are written against Docker's behaviour; processes also get
 * no_new_privileges. `insecureRootCapabilities` lifts all of it.
 *
 *   const spec = generateSpec({ rootfs: "/var/lib/tanto/snapshots/12/fs", args: ["sh", "-c", "echo hi"],
 *     env: ["PATH=/bin"], cwd: "/", uid: 0, gid: 0, additionalGids: [], mounts: [],
 *     rlimitNofile: { soft: 1048576, hard: 1048576 }, network: "none" });
 */

import { defaultSeccompProfile } from "./seccomp-default.js";

export const OCI_VERSION = "1.0.2";

export interface Spec {
  ociVersion: string;
  process: Process;
  root: Root;
  hostname?: string;
  mounts: Mount[];
  linux: Linux;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: User;
  args: string[];
  env: string[];
  cwd: string;
  capabilities: LinuxCapabilities;
  rlimits: PosixRlimit[];
  noNewPrivileges: boolean;
}

export interface User {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface LinuxCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface PosixRlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface Root {
  path: string;
  readonly?: boolean;
}

export interface Mount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export type NamespaceType = "pid" | "network" | "mount" | "ipc" | "uts" | "user" | "cgroup";

export interface LinuxNamespace {
  type: NamespaceType;
  path?: string;
}

export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: "a" | "b" | "c";
  major?: number;
  minor?: number;
  access?: string;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
}

/** A seccomp filter as runc reads it (runtime-spec `LinuxSeccomp`). */
export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: LinuxSyscall[];
}

export interface LinuxSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo?: number; op: string }>;
}

export interface Linux {
  namespaces: LinuxNamespace[];
  seccomp?: LinuxSeccomp;
  resources?: LinuxResources;
  cgroupsPath?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

/** Where the init binary (tini) appears in the container: inside the /dev tmpfs, so the rootfs diff stays clean. */
export const INIT_DESTINATION = "/dev/.tanto-init";

/** Docker's default capability set. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Kernel interfaces that leak host information or allow host-wide effects; Docker hides the same ones. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

/** Every capability by its number (index), up to CAP_CHECKPOINT_RESTORE (40, Linux 5.9): `insecureRootCapabilities` grants these. */
export const ALL_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

export const DEFAULT_READONLY_PATHS: readonly string[] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

export interface Rlimit {
  soft: number;
  hard: number;
}

/** "none": a fresh network namespace with only loopback; otherwise join an existing one (prepared by the network layer). */
export type NetworkMode = "none" | { netnsPath: string };

export interface ProcessOptions {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  rlimitNofile: Rlimit;
  /** Give the process a terminal (runc makes the console; its stdio is the console's other end); the initial window size. */
  terminal?: { rows: number; cols: number };
  /**
   * Dagger's `insecureRootCapabilities`: every capability, and none of the
   * confinement (seccomp, no_new_privileges, masked and read-only /proc and
   * /sys paths). The only way out of them.
   */
  insecureRootCapabilities?: boolean;
  /** The capabilities the engine itself holds: an insecure process gets no more than these (runc cannot grant the rest). */
  capabilityLimit?: readonly string[];
}

export interface SpecOptions extends ProcessOptions {
  /** Absolute host path of the already-mounted root filesystem. */
  rootfs: string;
  hostname?: string;
  /** Extra mounts (binds, tmpfs, cache volumes); one with the same destination as a default replaces it. */
  mounts: Mount[];
  readonlyRootfs?: boolean;
  /** Host path of a static init (tini); when set it becomes PID 1 and runs `args` after `--`. */
  initPath?: string;
  network: NetworkMode;
  cgroupsPath?: string;
  /** The seccomp architectures the host's kernel runs (default: the host's whole family, as Docker lists it). */
  seccompArchitectures?: readonly string[];
}

/**
 * The process part of a spec. Also used alone for `runc exec --process`, where
 * the extra process must carry the same privileges as the container's.
 */
export function generateProcess(opts: ProcessOptions): Process {
  const insecure = opts.insecureRootCapabilities === true;
  const limit = opts.capabilityLimit === undefined ? undefined : new Set(opts.capabilityLimit);
  const caps = insecure ? ALL_CAPABILITIES.filter((c) => limit?.has(c) ?? true) : [...DEFAULT_CAPABILITIES];
  const user: User = { uid: opts.uid, gid: opts.gid };
  if (opts.additionalGids.length > 0) user.additionalGids = [...opts.additionalGids];
  return {
    terminal: opts.terminal !== undefined,
    ...(opts.terminal ? { consoleSize: { height: opts.terminal.rows, width: opts.terminal.cols } } : {}),
    user,
    args: [...opts.args],
    env: [...opts.env],
    cwd: opts.cwd,
    // Inheritable and ambient stay empty so that a non-root process does not keep capabilities across exec.
    capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
    rlimits: [{ type: "RLIMIT_NOFILE", hard: opts.rlimitNofile.hard, soft: opts.rlimitNofile.soft }],
    // No setuid or file-capability gain inside the container (BuildKit's default), unless confinement is off.
    noNewPrivileges: !insecure,
  };
}

function defaultMounts(): Mount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
  ];
}

/** Deny every device, then allow the ones a shell expects; Docker's list, written out so the spec does not rely on runc's built-ins. */
function defaultDeviceRules(): LinuxDeviceCgroup[] {
  const chr = (major: number, minor: number | undefined, access: string): LinuxDeviceCgroup =>
    minor === undefined ? { allow: true, type: "c", major, access } : { allow: true, type: "c", major, minor, access };
  return [
    { allow: false, access: "rwm" },
    { allow: true, type: "c", access: "m" },
    { allow: true, type: "b", access: "m" },
    chr(1, 3, "rwm"), // null
    chr(1, 8, "rwm"), // random
    chr(1, 7, "rwm"), // full
    chr(5, 0, "rwm"), // tty
    chr(1, 5, "rwm"), // zero
    chr(1, 9, "rwm"), // urandom
    chr(136, undefined, "rwm"), // pts/*
    chr(5, 2, "rwm"), // ptmx
    chr(10, 200, "rwm"), // net/tun
  ];
}

function normalizeDestination(path: string): string {
  const trimmed = path.replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
  return trimmed === "" ? "/" : trimmed;
}

export function generateSpec(opts: SpecOptions): Spec {
  if (!opts.rootfs.startsWith("/")) throw new TypeError(`rootfs must be an absolute path, got "${opts.rootfs}"`);

  const args = opts.initPath === undefined ? opts.args : [INIT_DESTINATION, "--", ...opts.args];
  const process = generateProcess({ ...opts, args });

  const extra = opts.mounts.map((m) => ({ ...m, destination: normalizeDestination(m.destination) }));
  const overridden = new Set(extra.map((m) => m.destination));
  const mounts = defaultMounts().filter((m) => !overridden.has(m.destination));
  if (opts.initPath !== undefined) {
    // Right after the /dev mounts, before any caller mount that could cover /dev.
    mounts.push({ destination: INIT_DESTINATION, type: "bind", source: opts.initPath, options: ["bind", "ro", "nosuid", "nodev"] });
  }
  mounts.push(...extra);

  const network: LinuxNamespace = opts.network === "none" ? { type: "network" } : { type: "network", path: opts.network.netnsPath };

  const linux: Linux = {
    namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, network],
    resources: { devices: opts.insecureRootCapabilities === true ? [{ allow: true, access: "rwm" }] : defaultDeviceRules() },
  };
  if (opts.insecureRootCapabilities === true) {
    // Writable /sys and cgroups, as Docker's --privileged gives.
    for (const m of mounts) if (m.type === "sysfs" || m.type === "cgroup") m.options = (m.options ?? []).filter((o) => o !== "ro");
  } else {
    linux.maskedPaths = [...DEFAULT_MASKED_PATHS];
    linux.readonlyPaths = [...DEFAULT_READONLY_PATHS];
    linux.seccomp = defaultSeccompProfile(undefined, opts.seccompArchitectures);
  }
  if (opts.cgroupsPath !== undefined) linux.cgroupsPath = opts.cgroupsPath;

  const root: Root = { path: opts.rootfs };
  if (opts.readonlyRootfs === true) root.readonly = true;

  const spec: Spec = { ociVersion: OCI_VERSION, process, root, mounts, linux };
  if (opts.hostname !== undefined) spec.hostname = opts.hostname;
  return spec;
}
