import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { splitRule } from "./iptables.js";

describe("splitRule", () => {
  it("splits an iptables -S line, unquoting comments", () => {
    const line = '-A POSTROUTING -s 10.87.0.2/32 -m comment --comment "name: \\"tanto\\" id: \\"tanto-ab12-1\\"" -j CNI-e557db8d74cf3434540e3703';
    assert.deepEqual(splitRule(line), [
      "-A",
      "POSTROUTING",
      "-s",
      "10.87.0.2/32",
      "-m",
      "comment",
      "--comment",
      'name: "tanto" id: "tanto-ab12-1"',
      "-j",
      "CNI-e557db8d74cf3434540e3703",
    ]);
    assert.deepEqual(splitRule("-N CNI-FORWARD"), ["-N", "CNI-FORWARD"]);
  });
});
