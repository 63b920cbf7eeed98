import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectlDialArgv, parseKubePodUrl } from "./kube-pod.js";

test("kube-pod:// URLs: the pod and its options", () => {
  assert.deepEqual(parseKubePodUrl("kube-pod://tanto-x7k2p"), { pod: "tanto-x7k2p" });
  assert.deepEqual(parseKubePodUrl("kube-pod://tanto-x7k2p?namespace=ci&context=prod-eu&container=engine"), {
    pod: "tanto-x7k2p",
    namespace: "ci",
    context: "prod-eu",
    container: "engine",
  });
  // EKS-style context names carry colons and slashes.
  assert.equal(parseKubePodUrl("kube-pod://p?context=arn:aws:eks:eu-west-1:1:cluster/ci").context, "arn:aws:eks:eu-west-1:1:cluster/ci");
  assert.throws(() => parseKubePodUrl("kube-pod://"), /pod "" is not a valid name/);
  assert.throws(() => parseKubePodUrl("kube-pod://Bad_Pod"), /pod "Bad_Pod" is not a valid name/);
  assert.throws(() => parseKubePodUrl("kube-pod://p?namespace=--all"), /namespace "--all" is not a valid name/);
  assert.throws(() => parseKubePodUrl("kube-pod://p?context=-x"), /context "-x" is not a valid name/);
  assert.throws(() => parseKubePodUrl("kube-pod://p?node=n1"), /unknown option "node"/);
});

test("kube-pod:// argv: kubectl exec -i into the pod, then tanto dial-stdio", () => {
  assert.deepEqual(kubectlDialArgv({ pod: "p" }, "kubectl"), ["kubectl", "exec", "-i", "p", "--", "tanto", "dial-stdio"]);
  assert.deepEqual(kubectlDialArgv(parseKubePodUrl("kube-pod://p?namespace=ci&context=c1&container=engine"), "/usr/bin/kubectl"), [
    "/usr/bin/kubectl",
    "--context",
    "c1",
    "--namespace",
    "ci",
    "exec",
    "-i",
    "p",
    "-c",
    "engine",
    "--",
    "tanto",
    "dial-stdio",
  ]);
});
