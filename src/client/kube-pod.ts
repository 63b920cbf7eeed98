/**
 * The `kube-pod://POD?namespace=NS&context=CTX&container=C` runner host, as
 * Dagger's (and buildctl's) kube-pod:// connection helper: every HTTP
 * connection to the engine is one
 *
 *   kubectl [--context CTX] [--namespace NS] exec -i POD [-c C] -- tanto dial-stdio
 *
 * child, its stdin/stdout spliced to the engine's unix socket in the pod
 * (the Helm chart's engine pods, deploy/helm/tanto). `TANTO_KUBECTL` names
 * another kubectl. As with docker-container://, the client's files travel
 * over the session, so the pod never needs to see the client's disk.
 *
 * Without a POD, `selector=` (a label selector such as the chart's
 * `app.kubernetes.io/instance=tanto`) picks a running pod, on the node named
 * by `node=` or else by `$TANTO_NODE_NAME` / `$NODE_NAME` (a CI pod's node,
 * from the downward API) when set: the engine next to the client.
 */
import { spawn } from "node:child_process";
import { InvalidArgumentError, messageOf, UnavailableError } from "../errors.js";
import { EngineClient } from "./engine-client.js";
import { dialCommand } from "./runner-hosts.js";

export const KUBE_POD_SCHEME = "kube-pod://";

export interface KubePodTarget {
  /** Empty when `selector` picks the pod. */
  readonly pod: string;
  readonly selector?: string;
  readonly node?: string;
  readonly namespace?: string;
  readonly context?: string;
  readonly container?: string;
}

/** Kubernetes object names (RFC 1123 labels/subdomains); contexts are freer but never start with "-". */
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const CONTEXT = /^[^-\s][^\s]*$/;
/** Label selectors: `k=v`, `k!=v`, `k in (a,b)`, `!k`, comma-separated. */
const SELECTOR = /^[A-Za-z0-9!][A-Za-z0-9._/=,!() -]*$/;

export function isKubePodRunnerHost(url: string): boolean {
  return url.startsWith(KUBE_POD_SCHEME);
}

/** The pod and its options from a kube-pod:// URL; unknown query keys and bad names are errors naming the value. */
export function parseKubePodUrl(url: string): KubePodTarget {
  if (!isKubePodRunnerHost(url)) throw new InvalidArgumentError(`runner host "${url}" is not a kube-pod:// one`);
  const rest = url.slice(KUBE_POD_SCHEME.length);
  const q = rest.indexOf("?");
  const pod = decodeURIComponent(q < 0 ? rest : rest.slice(0, q)).replace(/\/$/, "");
  const params = new URLSearchParams(q < 0 ? "" : rest.slice(q + 1));
  const bad = (what: string, value: string): InvalidArgumentError =>
    new InvalidArgumentError(
      `invalid runner host "${url}": ${what} ${JSON.stringify(value)} is not a valid name (want kube-pod://POD?namespace=&context=&container=)`,
    );
  const out: { pod: string; namespace?: string; context?: string; container?: string; selector?: string; node?: string } = { pod };
  for (const [key, value] of params) {
    if (key === "selector") {
      if (!SELECTOR.test(value)) throw bad(key, value);
      out.selector = value;
    } else if (key === "namespace" || key === "container" || key === "node") {
      if (!NAME.test(value) || value.length > 63) throw bad(key, value);
      out[key] = value;
    } else if (key === "context") {
      if (!CONTEXT.test(value)) throw bad(key, value);
      out.context = value;
    } else throw new InvalidArgumentError(`invalid runner host "${url}": unknown option "${key}" (known: namespace, context, container, selector, node)`);
  }
  if (pod === "" && out.selector === undefined) throw bad("pod", pod);
  if (pod !== "" && (!NAME.test(pod) || pod.length > 253)) throw bad("pod", pod);
  if (pod !== "" && (out.selector !== undefined || out.node !== undefined)) {
    throw new InvalidArgumentError(`invalid runner host "${url}": give a POD or a selector (with node), not both`);
  }
  return out;
}

const kubectlBin = (): string => process.env["TANTO_KUBECTL"] || "kubectl";
const scope = (t: KubePodTarget): string[] => [...(t.context ? ["--context", t.context] : []), ...(t.namespace ? ["--namespace", t.namespace] : [])];

/** The node a selector's pod should run on: `node=`, else this client's node when the environment names it. */
export function wantedNode(t: KubePodTarget, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return t.node ?? (env["TANTO_NODE_NAME"] || env["NODE_NAME"] || undefined);
}

/** The kubectl command line that lists the running pods `t.selector` picks (on `node` when given). */
export function kubectlPickArgv(t: KubePodTarget, node: string | undefined, kubectl = kubectlBin()): string[] {
  const fields = ["status.phase=Running", ...(node ? [`spec.nodeName=${node}`] : [])].join(",");
  return [kubectl, ...scope(t), "get", "pods", "-l", t.selector ?? "", "--field-selector", fields, "-o", "jsonpath={.items[*].metadata.name}"];
}

/** The kubectl command line of one connection to the engine in `t`'s pod. */
export function kubectlDialArgv(t: KubePodTarget, kubectl = kubectlBin()): string[] {
  return [kubectl, ...scope(t), "exec", "-i", t.pod, ...(t.container ? ["-c", t.container] : []), "--", "tanto", "dial-stdio"];
}

export async function kubePodEngineClient(url: string): Promise<EngineClient> {
  let target = parseKubePodUrl(url);
  if (target.pod === "") target = { ...target, pod: await pickPod(url, target) };
  const argv = kubectlDialArgv(target);
  return new EngineClient(url, { createConnection: () => dialCommand(argv) });
}

/** The first running pod the selector picks (on the wanted node). */
async function pickPod(url: string, t: KubePodTarget): Promise<string> {
  const node = wantedNode(t);
  const argv = kubectlPickArgv(t, node);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err) => reject(new UnavailableError(`cannot run ${argv[0]}: ${messageOf(err)}`, { cause: err })));
    child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new UnavailableError(`${argv.join(" ")} failed (exit ${code}): ${stderr.trim()}`))));
  });
  const pod = out.trim().split(/\s+/).find(Boolean);
  if (!pod) throw new UnavailableError(`runner host "${url}": no running pod matches "${t.selector}"${node ? ` on node ${node}` : ""}`);
  return pod;
}
