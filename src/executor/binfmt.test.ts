import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { ELF_MACHINES, handles, isStaticElf, parseBinfmtEntry, preserveArgv0 } from "./binfmt.js";

/** A binfmt.d line (`:name:M:offset:magic:mask:interpreter:flags`) as the kernel's entry file shows it. */
function entryFromConf(line: string): string {
  const [, , , offset, magic, mask, interpreter, flags] = line.trim().split(":");
  const hex = (s: string) =>
    Buffer.from(
      s.replace(/\\x([0-9a-f]{2})|(.)/gi, (_m, h: string | undefined, c: string | undefined) => h ?? c!.charCodeAt(0).toString(16).padStart(2, "0")),
      "hex",
    ).toString("hex");
  return `enabled\ninterpreter ${interpreter}\nflags: ${flags}\noffset ${offset || 0}\nmagic ${hex(magic!)}\nmask ${hex(mask!)}\n`;
}

test("an entry file parses, and matches executables of its machine only", () => {
  const e = parseBinfmtEntry(
    "qemu-aarch64",
    "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: POF\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n",
  );
  assert.equal(e.enabled, true);
  assert.equal(e.flags, "POF");
  assert.equal(e.interpreter, "/usr/bin/qemu-aarch64-static");
  assert.equal(handles(e, ELF_MACHINES["aarch64"]!), true);
  assert.equal(handles(e, ELF_MACHINES["riscv64"]!), false);
  assert.equal(handles(e, ELF_MACHINES["arm"]!), false);
  assert.equal(handles({ ...e, enabled: false }, ELF_MACHINES["aarch64"]!), false, "a disabled entry handles nothing");
  assert.equal(handles(parseBinfmtEntry("jar", "enabled\ninterpreter /usr/bin/jexec\nflags: \nextension .jar\n"), ELF_MACHINES["aarch64"]!), false);
});

test("each machine's magic is matched by its own mask and by no other machine's entry", () => {
  const machines = Object.values(ELF_MACHINES);
  for (const m of machines) {
    const own = { name: m.qemu, enabled: true, interpreter: "", flags: "F", offset: 0, magic: m.magic, mask: m.mask };
    for (const other of machines) assert.equal(handles(own, other), other === m, `${m.qemu} entry vs ${other.qemu}`);
  }
});

test("the table agrees with Debian's qemu-user-static registrations", (t) => {
  let compared = 0;
  for (const m of Object.values(ELF_MACHINES)) {
    const conf = `/usr/lib/binfmt.d/qemu-${m.qemu}.conf`;
    if (!existsSync(conf)) continue;
    const debian = parseBinfmtEntry(`qemu-${m.qemu}`, entryFromConf(readFileSync(conf, "utf8")));
    assert.equal(debian.magic?.toString("hex"), m.magic.toString("hex"), `${m.qemu} magic`);
    assert.equal(debian.mask?.toString("hex"), m.mask.toString("hex"), `${m.qemu} mask`);
    compared++;
  }
  if (compared === 0) t.skip("qemu-user-static is not installed");
});

test("static and dynamic executables are told apart", (t) => {
  assert.equal(preserveArgv0("6.18.44-fc"), true);
  assert.equal(preserveArgv0("5.12.0"), true);
  assert.equal(preserveArgv0("5.10.0-23-amd64"), false);
  if (!existsSync("/usr/bin/qemu-aarch64-static")) return t.skip("qemu-user-static is not installed");
  return Promise.all([isStaticElf("/usr/bin/qemu-aarch64-static"), isStaticElf("/bin/ls"), isStaticElf("/etc/passwd")]).then(([q, ls, text]) => {
    assert.equal(q, true);
    assert.equal(ls, false, "ls has a program interpreter");
    assert.equal(text, false);
  });
});
