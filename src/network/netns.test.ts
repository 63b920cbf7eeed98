import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { addNetns, deleteNetns, netnsPids } from "./netns.js";

test("netnsPids finds the processes in each namespace, as `ip netns pids` does", async () => {
  const names = [`tanto-test-pids-${process.pid}-a`, `tanto-test-pids-${process.pid}-b`];
  const missing = `tanto-test-pids-${process.pid}-missing`;
  for (const n of names) await addNetns(n);
  const child = spawn("ip", ["netns", "exec", names[1]!, "sleep", "30"], { stdio: "ignore" });
  try {
    // `ip netns exec` enters the namespace, then execs sleep (same pid).
    let found: Map<string, number[]> = new Map();
    for (let i = 0; i < 200; i++) {
      found = netnsPids([...names, missing]);
      if ((found.get(names[1]!) ?? []).length > 0) break;
      await sleep(10);
    }
    assert.deepEqual(found.get(names[0]!), []);
    assert.deepEqual(found.get(names[1]!), [child.pid]);
    assert.equal(found.has(missing), false);
  } finally {
    child.kill("SIGKILL");
    await once(child, "close");
    for (const n of names) await deleteNetns(n);
  }
  assert.deepEqual(netnsPids(names), new Map());
});
