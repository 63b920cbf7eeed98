import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatSubnet, gatewayOf, parseCidr, parseSubnet, subnetContains, subnetsOverlap } from "./cidr.js";

describe("cidr", () => {
  it("parses a subnet and derives its gateway", () => {
    const s = parseSubnet("10.87.0.0/16");
    assert.equal(formatSubnet(s), "10.87.0.0/16");
    assert.equal(gatewayOf(s), "10.87.0.1");
    assert.equal(gatewayOf(parseSubnet("192.168.200.0/24")), "192.168.200.1");
  });

  it("refuses what is not a usable subnet, naming it", () => {
    assert.throws(() => parseSubnet("10.87.0.0"), /invalid network CIDR "10\.87\.0\.0"/);
    assert.throws(() => parseSubnet("10.87.0.300/16"), /invalid network CIDR/);
    assert.throws(() => parseSubnet("10.87.0.0/33"), /invalid network CIDR/);
    assert.throws(() => parseSubnet("10.87.0.0/30"), /too small/);
    assert.throws(() => parseSubnet("10.87.3.4/16"), /host bits set: did you mean 10\.87\.0\.0\/16\?/);
  });

  it("tells containment and overlap", () => {
    const s = parseSubnet("10.87.0.0/16");
    const ip = (t: string) => parseCidr(t)?.ip ?? -1;
    assert.equal(subnetContains(s, ip("10.87.255.3")), true);
    assert.equal(subnetContains(s, ip("10.88.0.1")), false);
    assert.equal(subnetsOverlap(s, parseSubnet("10.87.4.0/24")), true);
    assert.equal(subnetsOverlap(s, parseSubnet("10.0.0.0/8")), true);
    assert.equal(subnetsOverlap(s, parseSubnet("10.88.0.0/16")), false);
    assert.equal(subnetsOverlap(parseSubnet("0.0.0.0/0"), s), true);
  });
});
