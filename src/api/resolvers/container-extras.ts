/** Container annotations, HEALTHCHECK and volatile variables: arguments in, container state out. */
import type { Container } from "../../core/container.js";
import { HealthcheckConfig, healthcheckSpec } from "../../core/healthcheck.js";
import { encodeId } from "../../core/ids.js";
import type { RequestContext } from "../../core/types.js";
import { InvalidArgumentError } from "../../errors.js";
import { type Args, bool, optInt, optStr, str, strList } from "./args.js";
import { serviceContainerResolvers, serviceResolvers } from "./services.js";

export const containerExtrasResolvers = {
  /** As `asService(...).up(...)`: the container as a service, its ports forwarded to the client until the session ends. */
  up: (c: Container, a: Args, ctx: RequestContext) => serviceResolvers.up(serviceContainerResolvers.asService(c, a), a, ctx),
  withAnnotation: (c: Container, a: Args) => {
    const name = str(a, "name");
    if (name === "") throw new InvalidArgumentError("withAnnotation: name must not be empty");
    return c.with({ annotations: [...(c.state.annotations ?? []).filter(([n]) => n !== name), [name, str(a, "value")]] });
  },
  withoutAnnotation: (c: Container, a: Args) => c.with({ annotations: (c.state.annotations ?? []).filter(([n]) => n !== str(a, "name")) }),
  withDockerHealthcheck: (c: Container, a: Args) => {
    const opt = (k: string) => {
      const v = optStr(a, k);
      return v === undefined ? {} : { [k]: v };
    };
    const retries = optInt(a, "retries");
    return c.with({
      healthcheck: healthcheckSpec(strList(a, "args"), {
        shell: bool(a, "shell"),
        ...opt("interval"),
        ...opt("timeout"),
        ...opt("startPeriod"),
        ...opt("startInterval"),
        ...(retries === undefined ? {} : { retries }),
      }),
    });
  },
  withoutDockerHealthcheck: (c: Container) => c.with({ healthcheck: undefined }),
  dockerHealthcheck: (c: Container) => (c.state.healthcheck ? new HealthcheckConfig(c.state.healthcheck) : null),
  withVolatileVariable: (c: Container, a: Args) => {
    const name = str(a, "name");
    if (name === "" || name.includes("=")) throw new InvalidArgumentError(`withVolatileVariable: invalid name ${JSON.stringify(name)}`);
    return c.with({ volatileEnv: [...(c.state.volatileEnv ?? []).filter(([n]) => n !== name), [name, str(a, "value")]] });
  },
  withoutVolatileVariable: (c: Container, a: Args) => c.with({ volatileEnv: (c.state.volatileEnv ?? []).filter(([n]) => n !== str(a, "name")) }),
};

/** Unset durations and retries read as Docker's defaults. */
export const healthcheckConfigResolvers = {
  id: (h: HealthcheckConfig) => encodeId(h),
  args: (h: HealthcheckConfig) => h.spec.args,
  shell: (h: HealthcheckConfig) => h.spec.shell,
  interval: (h: HealthcheckConfig) => h.spec.interval ?? "30s",
  timeout: (h: HealthcheckConfig) => h.spec.timeout ?? "30s",
  startPeriod: (h: HealthcheckConfig) => h.spec.startPeriod ?? "0s",
  startInterval: (h: HealthcheckConfig) => h.spec.startInterval ?? "5s",
  retries: (h: HealthcheckConfig) => h.spec.retries ?? 3,
};
