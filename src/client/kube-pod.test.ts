import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectlDialArgv, kubectlPickArgv, parseKubePodUrl, wantedNode } from "./kube-pod.js";

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
  assert.throws(() => parseKubePodUrl("kube-pod://p?port=1"), /unknown option "port"/);
  assert.throws(() => parseKubePodUrl("kube-pod://p?selector=app=tanto"), /a POD or a selector \(with node\), not both/);
  assert.throws(() => parseKubePodUrl("kube-pod://?selector=-l"), /selector "-l" is not a valid name/);
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

test("kube-pod:// by selector: the pod picked on the wanted node", () => {
  const t = parseKubePodUrl("kube-pod://?namespace=tanto&selector=app.kubernetes.io/instance=tanto,tier!=canary");
  assert.deepEqual(t, { pod: "", namespace: "tanto", selector: "app.kubernetes.io/instance=tanto,tier!=canary" });
  assert.equal(wantedNode(t, { NODE_NAME: "n3" }), "n3");
  assert.equal(wantedNode(t, { TANTO_NODE_NAME: "n1", NODE_NAME: "n3" }), "n1");
  assert.equal(wantedNode(t, {}), undefined);
  assert.equal(wantedNode({ ...t, node: "n9" }, { NODE_NAME: "n3" }), "n9");
  assert.deepEqual(kubectlPickArgv(t, "n3", "kubectl"), [
    "kubectl",
    "--namespace",
    "tanto",
    "get",
    "pods",
    "-l",
    "app.kubernetes.io/instance=tanto,tier!=canary",
    "--field-selector",
    "status.phase=Running,spec.nodeName=n3",
    "-o",
    "jsonpath={.items[*].metadata.name}",
  ]);
  assert.deepEqual(kubectlPickArgv(t, undefined, "kubectl").slice(-3), ["status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}"]);
});
