import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, generateProcess, generateSpec, INIT_DESTINATION, type SpecOptions } from "./runtime-spec.js";
import { defaultSeccompProfile } from "./seccomp-default.js";

const base: SpecOptions = {
  rootfs: "/var/lib/tanto/snap/1/fs",
  args: ["sh", "-c", "echo hi"],
  env: ["PATH=/bin", "A=1"],
  cwd: "/work",
  uid: 1000,
  gid: 1000,
  additionalGids: [],
  mounts: [],
  rlimitNofile: { soft: 1024, hard: 4096 },
  network: "none",
};

const capList = [
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

describe("generateSpec", () => {
  it("builds the whole spec for a minimal process", () => {
    const spec = generateSpec(base);
    assert.deepEqual(spec, {
      ociVersion: "1.0.2",
      process: {
        terminal: false,
        user: { uid: 1000, gid: 1000 },
        args: ["sh", "-c", "echo hi"],
        env: ["PATH=/bin", "A=1"],
        cwd: "/work",
        capabilities: { bounding: capList, effective: capList, permitted: capList },
        rlimits: [{ type: "RLIMIT_NOFILE", hard: 4096, soft: 1024 }],
        noNewPrivileges: true,
      },
      root: { path: "/var/lib/tanto/snap/1/fs" },
      mounts: [
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
      ],
      linux: {
        namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "network" }],
        resources: {
          devices: [
            { allow: false, access: "rwm" },
            { allow: true, type: "c", access: "m" },
            { allow: true, type: "b", access: "m" },
            { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
            { allow: true, type: "c", major: 1, minor: 8, access: "rwm" },
            { allow: true, type: "c", major: 1, minor: 7, access: "rwm" },
            { allow: true, type: "c", major: 5, minor: 0, access: "rwm" },
            { allow: true, type: "c", major: 1, minor: 5, access: "rwm" },
            { allow: true, type: "c", major: 1, minor: 9, access: "rwm" },
            { allow: true, type: "c", major: 136, access: "rwm" },
            { allow: true, type: "c", major: 5, minor: 2, access: "rwm" },
            { allow: true, type: "c", major: 10, minor: 200, access: "rwm" },
          ],
        },
        maskedPaths: [
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
        ],
        readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        seccomp: defaultSeccompProfile(),
      },
    });
  });

  it("confines by default: seccomp allow-list without namespace, mount, keyring or ptrace calls", () => {
    const seccomp = generateSpec(base).linux.seccomp;
    assert.ok(seccomp);
    assert.equal(seccomp.defaultAction, "SCMP_ACT_ERRNO");
    const allowed = new Set(seccomp.syscalls.filter((r) => r.action === "SCMP_ACT_ALLOW" && r.args === undefined).flatMap((r) => r.names));
    for (const call of ["read", "write", "execve", "openat", "chroot", "setuid"]) assert.ok(allowed.has(call), `${call} is allowed`);
    for (const call of ["unshare", "mount", "umount2", "setns", "keyctl", "add_key", "ptrace", "bpf", "init_module", "kexec_load", "reboot"]) {
      assert.ok(!seccomp.syscalls.some((r) => r.action === "SCMP_ACT_ALLOW" && r.names.includes(call)), `${call} is not allowed`);
    }
    const clone = seccomp.syscalls.find((r) => r.names.includes("clone"));
    assert.deepEqual(clone?.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }]);
  });

  it("insecureRootCapabilities: every held capability, no seccomp, no masked or read-only paths, new privileges allowed", () => {
    const spec = generateSpec({ ...base, insecureRootCapabilities: true, capabilityLimit: ["CAP_SYS_ADMIN", "CAP_CHOWN"] });
    assert.equal(spec.linux.seccomp, undefined);
    assert.equal(spec.linux.maskedPaths, undefined);
    assert.equal(spec.linux.readonlyPaths, undefined);
    assert.equal(spec.process.noNewPrivileges, false);
    assert.deepEqual(spec.process.capabilities.bounding, ["CAP_CHOWN", "CAP_SYS_ADMIN"]);
    assert.equal(generateSpec({ ...base, insecureRootCapabilities: true }).process.capabilities.bounding?.length, ALL_CAPABILITIES.length);
  });

  it("runs the process under the init, bound inside the /dev tmpfs", () => {
    const spec = generateSpec({ ...base, initPath: "/usr/bin/tini-static" });
    assert.deepEqual(spec.process.args, [INIT_DESTINATION, "--", "sh", "-c", "echo hi"]);
    assert.equal(INIT_DESTINATION, "/dev/.tanto-init");
    const dests = spec.mounts.map((m) => m.destination);
    const initAt = dests.indexOf(INIT_DESTINATION);
    assert.ok(initAt > dests.indexOf("/dev"), "init bind comes after the /dev tmpfs");
    assert.deepEqual(spec.mounts[initAt], {
      destination: "/dev/.tanto-init",
      type: "bind",
      source: "/usr/bin/tini-static",
      options: ["bind", "ro", "nosuid", "nodev"],
    });
  });

  it("appends caller mounts after the defaults and lets them replace a default at the same destination", () => {
    const spec = generateSpec({
      ...base,
      initPath: "/tini",
      mounts: [
        { destination: "/src", type: "bind", source: "/host/src", options: ["rbind", "ro"] },
        { destination: "/dev/shm/", type: "tmpfs", source: "tmpfs", options: ["size=1g"] },
      ],
    });
    assert.deepEqual(
      spec.mounts.map((m) => m.destination),
      ["/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/dev/.tanto-init", "/src", "/dev/shm"],
    );
    assert.deepEqual(spec.mounts.at(-1), { destination: "/dev/shm", type: "tmpfs", source: "tmpfs", options: ["size=1g"] });
  });

  it("joins a prepared network namespace by path", () => {
    const spec = generateSpec({ ...base, network: { netnsPath: "/run/tanto/netns/n1" } });
    assert.deepEqual(spec.linux.namespaces.at(-1), { type: "network", path: "/run/tanto/netns/n1" });
  });

  it("sets optional fields only when asked", () => {
    const spec = generateSpec({
      ...base,
      hostname: "abc123",
      readonlyRootfs: true,
      cgroupsPath: "/tanto/abc123",
      additionalGids: [10, 20],
    });
    assert.equal(spec.hostname, "abc123");
    assert.deepEqual(spec.root, { path: base.rootfs, readonly: true });
    assert.equal(spec.linux.cgroupsPath, "/tanto/abc123");
    assert.deepEqual(spec.process.user, { uid: 1000, gid: 1000, additionalGids: [10, 20] });
    const plain = generateSpec(base);
    assert.equal("hostname" in plain, false);
    assert.equal("cgroupsPath" in plain.linux, false);
  });

  it("never grants inheritable or ambient capabilities", () => {
    const caps = generateSpec(base).process.capabilities;
    assert.equal(caps.inheritable, undefined);
    assert.equal(caps.ambient, undefined);
    assert.deepEqual(DEFAULT_CAPABILITIES, capList);
  });

  it("rejects a relative rootfs", () => {
    assert.throws(() => generateSpec({ ...base, rootfs: "rootfs" }), /absolute/);
  });

  it("does not share arrays with its input", () => {
    const opts = { ...base, args: ["true"], env: ["A=1"] };
    const spec = generateSpec(opts);
    spec.process.args.push("x");
    spec.process.env.push("B=2");
    assert.deepEqual(opts.args, ["true"]);
    assert.deepEqual(opts.env, ["A=1"]);
  });
});

describe("generateProcess", () => {
  it("builds a process with the container's privileges for runc exec", () => {
    const p = generateProcess({ ...base, args: ["ls"] });
    assert.deepEqual(p.args, ["ls"]);
    assert.deepEqual(p.capabilities.bounding, capList);
    assert.equal(p.noNewPrivileges, true);
    assert.equal(p.terminal, false);
  });
});
