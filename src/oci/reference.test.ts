import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../errors.js";
import { familiarName, familiarString, formatReference, parseReference, withTag } from "./reference.js";

const D = `sha256:${"a".repeat(64)}`;

test("short names are Docker Hub official images with tag latest", () => {
  assert.deepEqual(parseReference("alpine"), { domain: "docker.io", repository: "library/alpine", tag: "latest" });
  assert.equal(formatReference(parseReference("alpine")), "docker.io/library/alpine:latest");
  assert.deepEqual(parseReference("alpine:3.20"), { domain: "docker.io", repository: "library/alpine", tag: "3.20" });
  assert.deepEqual(parseReference("user/app"), { domain: "docker.io", repository: "user/app", tag: "latest" });
  assert.deepEqual(parseReference("index.docker.io/library/alpine"), { domain: "docker.io", repository: "library/alpine", tag: "latest" });
  assert.deepEqual(parseReference("docker.io/alpine"), { domain: "docker.io", repository: "library/alpine", tag: "latest" });
});

test("registries are recognised by dot, port or localhost", () => {
  assert.deepEqual(parseReference("127.0.0.1:5000/busybox:latest"), { domain: "127.0.0.1:5000", repository: "busybox", tag: "latest" });
  assert.deepEqual(parseReference("localhost/x"), { domain: "localhost", repository: "x", tag: "latest" });
  assert.deepEqual(parseReference("ghcr.io/o/app"), { domain: "ghcr.io", repository: "o/app", tag: "latest" });
  assert.deepEqual(parseReference("myhost:5000/a/b:tag@" + D), { domain: "myhost:5000", repository: "a/b", tag: "tag", digest: D });
  assert.deepEqual(parseReference("[::1]:5000/x:1"), { domain: "[::1]:5000", repository: "x", tag: "1" });
  // A first component without . or : is a Docker Hub user, not a host.
  assert.deepEqual(parseReference("myhost/a"), { domain: "docker.io", repository: "myhost/a", tag: "latest" });
});

test("a digest alone does not add a tag", () => {
  assert.deepEqual(parseReference("alpine@" + D), { domain: "docker.io", repository: "library/alpine", digest: D });
  assert.deepEqual(parseReference("alpine", { defaultTag: false }), { domain: "docker.io", repository: "library/alpine" });
  assert.equal(formatReference(parseReference("h:1/a:t@" + D)), `h:1/a:t@${D}`);
});

test("invalid references say what is wrong", () => {
  const cases: Array<[string, RegExp]> = [
    ["Foo", /^invalid reference "Foo": repository name must be lowercase$/],
    ["", /empty reference/],
    ["alpine:", /invalid tag ""/],
    ["alpine:-x", /invalid tag "-x"/],
    ["alpine@sha256:abc", /invalid digest "sha256:abc"/],
    ["a//b", /empty path component/],
    ["docker.io/a b", /invalid repository path component "a b"/],
    ["d".repeat(64), /64-byte hexadecimal/],
    ["ex_ample.com/a", /invalid registry host "ex_ample.com"/],
    [`x/${"a".repeat(260)}`, /longer than 255/],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => parseReference(input),
      (err: unknown) => err instanceof InvalidArgumentError && re.test(err.message),
      input,
    );
  }
});

test("familiar names drop docker.io and library/", () => {
  assert.equal(familiarName(parseReference("alpine")), "alpine");
  assert.equal(familiarString(parseReference("alpine:3.20")), "alpine:3.20");
  assert.equal(familiarName(parseReference("user/app")), "user/app");
  assert.equal(familiarName(parseReference("docker.io/library/a/b")), "library/a/b");
  assert.equal(familiarName(parseReference("127.0.0.1:5000/busybox")), "127.0.0.1:5000/busybox");
});

test("withTag replaces tag and drops digest", () => {
  assert.deepEqual(withTag(parseReference("alpine@" + D), "1"), { domain: "docker.io", repository: "library/alpine", tag: "1" });
});
