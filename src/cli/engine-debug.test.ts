import assert from "node:assert/strict";
import { test } from "node:test";
import { parseInspectAddress } from "./engine-debug.js";

test("--inspect addresses: flag alone, port, host, host:port, [v6]:port", () => {
  assert.deepEqual(parseInspectAddress(true), { host: "127.0.0.1", port: 9229 });
  assert.deepEqual(parseInspectAddress("9230"), { host: "127.0.0.1", port: 9230 });
  assert.deepEqual(parseInspectAddress("0.0.0.0"), { host: "0.0.0.0", port: 9229 });
  assert.deepEqual(parseInspectAddress("0.0.0.0:9231"), { host: "0.0.0.0", port: 9231 });
  assert.deepEqual(parseInspectAddress("[::1]:9232"), { host: "::1", port: 9232 });
  assert.throws(() => parseInspectAddress("a:b:c"), /invalid --inspect "a:b:c"/);
  assert.throws(() => parseInspectAddress("host:99999"), /invalid --inspect/);
});
