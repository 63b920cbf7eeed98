/**
 * The base container of Python module runtimes: the OCI layout tarball
 * engine-image/python-runtime.mjs builds (Debian 12's python3 3.11, a venv at
 * /opt/venv with the official dagger-io 0.21.11 and uv), found and imported
 * as ../base-tarball.ts describes (python-runtime.tar). Also the wheel's
 * generated core client (dagger/client/gen.py), read from the image.
 */
import type { Container } from "../../../core/container.js";
import { readFileAt } from "../../../core/evaluate.js";
import type { RequestContext } from "../../../core/types.js";
import { containerFromTarball, findTarball, tarballCandidates } from "../base-tarball.js";
import { SDK_PACKAGE_DIR } from "./sdk-files.js";

export const PYTHON_RUNTIME_FILE = "python-runtime.tar";

export function pythonTarballCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return tarballCandidates(PYTHON_RUNTIME_FILE, env);
}

export function findPythonTarball(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return findTarball(PYTHON_RUNTIME_FILE, "Python module runtime image", "run scripts/install.sh, or node engine-image/python-runtime.mjs", env);
}

/** A container of the runtime base image for the engine's default platform. */
export async function pythonBase(ctx: RequestContext): Promise<Container> {
  return containerFromTarball(ctx, await findPythonTarball(), "python runtime base");
}

/** The wheel's gen.py by base image (the file does not change within one image). */
const wheelClients = new Map<string, Promise<string>>();

export function wheelGenPy(ctx: RequestContext, base: Container): Promise<string> {
  const key = base.state.rootfs?.digest ?? "";
  let p = wheelClients.get(key);
  if (!p) {
    p = readFileAt(ctx, base.state.rootfs, `${SDK_PACKAGE_DIR}/client/gen.py`).then((b) => b.toString("utf8"));
    wheelClients.set(key, p);
    p.catch(() => wheelClients.delete(key));
  }
  return p;
}
