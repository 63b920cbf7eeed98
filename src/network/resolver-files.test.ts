import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkHostname, isHostname, namesIn, parseNameservers, renderHosts, renderResolvConf } from "./resolver-files.js";

describe("resolver files", () => {
  it("checks hostnames", () => {
    for (const ok of ["web", "web-1", "a.b.c", "X9", "a".repeat(63)]) assert.equal(isHostname(ok), true, ok);
    for (const bad of ["", "-web", "web-", "we_b", "a..b", "a".repeat(64), "web:80"]) assert.equal(isHostname(bad), false, bad);
    assert.throws(() => checkHostname("we b", "service name"), /invalid service name "we b"/);
  });

  it("renders resolv.conf and hosts", () => {
    assert.equal(renderResolvConf("10.87.0.1", ["s1.internal", "tanto.internal", "s1.internal"]), "nameserver 10.87.0.1\nsearch s1.internal tanto.internal\n");
    assert.equal(renderResolvConf("10.87.0.1", []), "nameserver 10.87.0.1\n");
    assert.equal(
      renderHosts({ name: "me", ip: "10.87.0.5" }, [{ name: "db", ip: "10.87.0.6" }]),
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.87.0.5\tme\n10.87.0.6\tdb\n",
    );
  });

  it("answers a registered name with and without the domain", () => {
    assert.deepEqual(namesIn("Web", "tanto.internal"), ["web", "web.tanto.internal"]);
    assert.deepEqual(namesIn("web.tanto.internal", "tanto.internal"), ["web.tanto.internal", "web"]);
  });

  it("reads the host's nameservers, skipping scoped link-local ones", () => {
    const text = "# generated\nnameserver 127.0.0.53\nsearch lan\nnameserver fe80::1%eth0\n  nameserver 2001:db8::1\noptions edns0\n";
    assert.deepEqual(parseNameservers(text), ["127.0.0.53", "2001:db8::1"]);
  });
});
