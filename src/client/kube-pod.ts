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
 */
import { InvalidArgumentError } from "../errors.js";
import { EngineClient } from "./engine-client.js";
import { dialCommand } from "./runner-hosts.js";

export const KUBE_POD_SCHEME = "kube-pod://";

export interface KubePodTarget {
  readonly pod: string;
  readonly namespace?: string;
  readonly context?: string;
  readonly container?: string;
}

/** Kubernetes object names (RFC 1123 labels/subdomains); contexts are freer but never start with "-". */
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const CONTEXT = /^[^-\s][^\s]*$/;

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
  if (!NAME.test(pod) || pod.length > 253) throw bad("pod", pod);
  const out: { pod: string; namespace?: string; context?: string; container?: string } = { pod };
  for (const [key, value] of params) {
    if (key === "namespace" || key === "container") {
      if (!NAME.test(value) || value.length > 63) throw bad(key, value);
      out[key] = value;
    } else if (key === "context") {
      if (!CONTEXT.test(value)) throw bad(key, value);
      out.context = value;
    } else throw new InvalidArgumentError(`invalid runner host "${url}": unknown option "${key}" (known: namespace, context, container)`);
  }
  return out;
}

/** The kubectl command line of one connection to the engine in `t`'s pod. */
export function kubectlDialArgv(t: KubePodTarget, kubectl = process.env["TANTO_KUBECTL"] || "kubectl"): string[] {
  return [
    kubectl,
    ...(t.context ? ["--context", t.context] : []),
    ...(t.namespace ? ["--namespace", t.namespace] : []),
    "exec",
    "-i",
    t.pod,
    ...(t.container ? ["-c", t.container] : []),
    "--",
    "tanto",
    "dial-stdio",
  ];
}

export function kubePodEngineClient(url: string): EngineClient {
  const argv = kubectlDialArgv(parseKubePodUrl(url));
  return new EngineClient(url, { createConnection: () => dialCommand(argv) });
}
