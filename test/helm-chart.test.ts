/**
 * The Helm chart (deploy/helm/tanto): `helm lint` passes, and `helm template`
 * renders the objects the README promises — a privileged DaemonSet with the
 * node's state directory (or a StatefulSet with a claim per engine), probes
 * on the engine's health endpoint, resources, tolerations, node selector —
 * and an engine.toml that the engine's own parser reads back with the values
 * given (mirrors, GC, remote cache, debugaddr), without a warning. Helm is built from its Go
 * module by scripts/install.sh. Nothing here needs a cluster.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../src/config/engine-config.js";
import { REPO, run } from "./support/engine.js";

const CHART = path.join(REPO, "deploy", "helm", "tanto");
const HELM = process.env["TANTO_HELM"] || path.join(process.env["TANTO_CACHE_DIR"] || path.join(os.homedir(), ".cache", "tanto"), "helm-v3.22.0", "helm");

interface Probe {
  httpGet: unknown;
  initialDelaySeconds: number;
}
interface EngineContainer {
  args: string[];
  securityContext: { privileged: boolean };
  ports: unknown[];
  readinessProbe: Probe;
  livenessProbe: Probe;
  resources: unknown;
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  containers: EngineContainer[];
  volumes: Array<{ name: string; hostPath?: unknown; configMap?: { name: string } }>;
  tolerations?: unknown;
  nodeSelector?: unknown;
}
/** The fields of rendered objects this test reads. */
interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec: {
    replicas?: number;
    serviceName?: string;
    volumeClaimTemplates?: unknown;
    template: { metadata: { annotations: Record<string, string> }; spec: PodSpec };
  };
  data?: Record<string, string>;
}

const VALUES = `
engine:
  debugaddr: "0.0.0.0:6070"
  maxParallelism: 8
  registries:
    docker.io:
      mirrors: ["mirror.internal:5000"]
    mirror.internal:5000:
      http: true
  gc:
    keepStorage: "50GB"
    minFreeSpace: "5GB"
  cache:
    import: ["type=registry,ref=mirror.internal:5000/tanto-cache"]
    export: ["type=registry,ref=mirror.internal:5000/tanto-cache,mode=max"]
  network:
    cidr: "10.99.0.0/16"
resources:
  requests: {cpu: "2", memory: 4Gi}
  limits: {memory: 8Gi}
tolerations:
  - {key: ci, operator: Exists, effect: NoSchedule}
nodeSelector:
  pool: ci
`;

describe("Helm chart", () => {
  let dir: string;
  let values: string;

  before(async () => {
    await fs.access(HELM).catch(() => {
      throw new Error(`no helm at ${HELM}: scripts/install.sh builds it from its Go module (or set TANTO_HELM)`);
    });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tanto-helm-"));
    values = path.join(dir, "values.yaml");
    await fs.writeFile(values, VALUES);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const template = async (...args: string[]): Promise<K8sObject[]> => {
    const r = await run([HELM, "template", "ci", CHART, "--namespace", "tanto", ...args]);
    assert.equal(r.code, 0, r.stderr);
    return parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
  };

  test("helm lint", async () => {
    for (const extra of [[], ["--set", "kind=StatefulSet"], ["-f", values]]) {
      const r = await run([HELM, "lint", "--strict", CHART, ...extra]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  test("a privileged DaemonSet on the node's state directory, probed on /debug/health", async () => {
    const objects = await template("-f", values);
    assert.deepEqual(objects.map((o) => o.kind).sort(), ["ConfigMap", "DaemonSet"]);
    const ds = objects.find((o) => o.kind === "DaemonSet")!;
    const pod = ds.spec.template.spec;
    const engine = pod.containers[0]!;
    assert.equal(engine.securityContext.privileged, true);
    assert.deepEqual(engine.args, ["--config", "/etc/tanto/engine.toml"]);
    const state = pod.volumes.find((v) => v.name === "state")!;
    assert.deepEqual(state.hostPath, { path: "/var/lib/tanto", type: "DirectoryOrCreate" });
    assert.ok(engine.volumeMounts.some((m) => m.name === "state" && m.mountPath === "/var/lib/tanto"));
    assert.deepEqual(engine.ports, [{ name: "debug", containerPort: 6070, protocol: "TCP" }]);
    for (const probe of [engine.readinessProbe, engine.livenessProbe]) assert.deepEqual(probe.httpGet, { path: "/debug/health", port: "debug" });
    assert.equal(engine.livenessProbe.initialDelaySeconds, 30);
    assert.deepEqual(engine.resources, { requests: { cpu: "2", memory: "4Gi" }, limits: { memory: "8Gi" } });
    assert.deepEqual(pod.tolerations, [{ key: "ci", operator: "Exists", effect: "NoSchedule" }]);
    assert.deepEqual(pod.nodeSelector, { pool: "ci" });
    assert.match(ds.spec.template.metadata.annotations["checksum/config"] ?? "", /^[0-9a-f]{64}$/);

    const cm = objects.find((o) => o.kind === "ConfigMap")!;
    assert.equal(pod.volumes.find((v) => v.name === "config")?.configMap?.name, cm.metadata.name);
    const { config, warnings } = parseConfig(cm.data!["engine.toml"]!, "the chart's engine.toml");
    assert.deepEqual(warnings, []);
    assert.equal(config.debugAddr, "0.0.0.0:6070");
    assert.equal(config.root, "/var/lib/tanto");
    assert.equal(config.maxParallelism, 8);
    assert.deepEqual(config.registries, { "docker.io": { mirrors: ["mirror.internal:5000"] }, "mirror.internal:5000": { http: true } });
    assert.equal(config.gc.enabled, true);
    assert.equal(config.gc.keepStorage, 50e9);
    assert.equal(config.gc.minFreeSpace, 5e9);
    assert.equal(config.network.cidr, "10.99.0.0/16");
    assert.deepEqual(config.cache, {
      imports: [{ ref: "mirror.internal:5000/tanto-cache", mode: "min" }],
      exports: [{ ref: "mirror.internal:5000/tanto-cache", mode: "max" }],
    });
  });

  test("a StatefulSet with a volume claim per engine; a changed engine.toml changes the pods", async () => {
    const objects = await template(
      "--set",
      "kind=StatefulSet",
      "--set",
      "replicas=3",
      "--set",
      "state.volumeClaim.size=20Gi",
      "--set",
      "state.volumeClaim.storageClassName=fast",
    );
    assert.deepEqual(objects.map((o) => o.kind).sort(), ["ConfigMap", "Service", "StatefulSet"]);
    const sts = objects.find((o) => o.kind === "StatefulSet")!;
    assert.equal(sts.spec.replicas, 3);
    assert.equal(sts.spec.serviceName, objects.find((o) => o.kind === "Service")!.metadata.name);
    const pod = sts.spec.template.spec;
    assert.equal(
      pod.volumes.find((v) => v.name === "state"),
      undefined,
      "no hostPath",
    );
    assert.deepEqual(sts.spec.volumeClaimTemplates, [
      { metadata: { name: "state" }, spec: { accessModes: ["ReadWriteOnce"], storageClassName: "fast", resources: { requests: { storage: "20Gi" } } } },
    ]);
    assert.equal(pod.containers[0]!.securityContext.privileged, true);
    assert.deepEqual(pod.containers[0]!.readinessProbe.httpGet, { path: "/debug/health", port: "debug" });

    const checksum = (o: K8sObject[]) => o.find((x) => x.kind === "StatefulSet")!.spec.template.metadata.annotations["checksum/config"];
    const other = await template("--set", "kind=StatefulSet", "--set", "engine.gc.keepStorage=1GB");
    assert.notEqual(checksum(other), checksum(objects));
  });

  test("bad values are refused with what was wrong", async () => {
    const kind = await run([HELM, "template", "ci", CHART, "--set", "kind=Deployment"]);
    assert.notEqual(kind.code, 0);
    assert.match(kind.stderr, /kind must be DaemonSet or StatefulSet, not "Deployment"/);
    const noDebug = await run([HELM, "template", "ci", CHART, "--set", "engine.debugaddr="]);
    assert.notEqual(noDebug.code, 0);
    assert.match(noDebug.stderr, /engine.debugaddr must be set/);
  });
});
