import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { FailedPreconditionError } from "../errors.js";
import { Emulation } from "./emulation.js";

const AMD64 = { os: "linux", architecture: "amd64" };

test("without binfmt_misc only native platforms run, and the error says why", async () => {
  const warnings: string[] = [];
  const e = await Emulation.setup({
    host: AMD64,
    binfmtDir: "/nonexistent/binfmt_misc",
    log: { info: () => undefined, warn: (m, f) => warnings.push(`${m} ${String(f?.["reason"])}`) },
  });
  assert.deepEqual(e.platforms, ["linux/amd64", "linux/386"]);
  e.check("linux/amd64");
  e.check("linux/386");
  assert.equal(e.runner("amd64"), "native");
  assert.throws(
    () => e.check("linux/arm64/v8"),
    (err: unknown) =>
      err instanceof FailedPreconditionError &&
      /^cannot run a linux\/arm64\/v8 container on this linux\/amd64 engine: binfmt_misc is not usable at \/nonexistent\/binfmt_misc \(.+\)\. It can run linux\/amd64, linux\/386$/.test(
        err.message,
      ),
  );
  assert.throws(() => e.check("linux/sparc64"), /no emulator is known for architecture "sparc64"/);
  assert.throws(() => e.check("windows/amd64"), /cannot run a windows\/amd64 container on this linux\/amd64 engine: it runs linux containers only/);
  assert.throws(() => e.check("linux"), /invalid platform "linux"/);
  assert.match(warnings.join("\n"), /no emulation of other platforms binfmt_misc is not usable/);
});

test("on this machine: emulators of Debian's qemu-user-static are registered or found registered", {
  skip: process.getuid?.() !== 0 || process.arch !== "x64" || !existsSync("/usr/bin/qemu-aarch64-static") ? "needs root, amd64 and qemu-user-static" : false,
}, async () => {
  const e = await Emulation.setup();
  for (const p of ["linux/arm64", "linux/arm/v7", "linux/riscv64", "linux/s390x", "linux/ppc64le"])
    assert.ok(e.platforms.includes(p), `${p} in ${e.platforms.join(", ")}`);
  e.check("linux/arm64/v8");
  e.check("linux/arm/v6");
  assert.match(e.runner("arm64") ?? "", /aarch64/, "a binfmt_misc entry runs arm64");
  // A second setup finds everything in place and registers nothing new.
  const again = await Emulation.setup();
  assert.deepEqual(again.platforms, e.platforms);
});
