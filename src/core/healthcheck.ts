/**
 * Docker's HEALTHCHECK as a container setting: the API's form (arguments,
 * shell or not, Go-style durations such as "30s") and the image config's
 * (`Test` and nanoseconds), both ways.
 */
import { InvalidArgumentError } from "../errors.js";
import type { ImageConfig } from "../oci/image.js";

export interface HealthcheckSpec {
  args: string[];
  shell: boolean;
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: number;
}

export class HealthcheckConfig {
  readonly typename = "HealthcheckConfig";
  constructor(readonly spec: HealthcheckSpec) {}
  toJSON(): unknown {
    return this.spec;
  }
}

type DockerHealthcheck = NonNullable<NonNullable<ImageConfig["config"]>["Healthcheck"]>;

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Nanoseconds of a Go duration ("1m30s", "500ms"); the error names the argument. */
export function parseDuration(text: string, what: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (text === "" || matched !== text.length)
    throw new InvalidArgumentError(`${what}: invalid duration ${JSON.stringify(text)} (want e.g. "30s", "1m30s", "500ms")`);
  return Math.round(total);
}

export function formatDuration(ns: number): string {
  if (ns === 0) return "0s";
  let rest = ns;
  let out = "";
  for (const [unit, size] of [
    ["h", 3600e9],
    ["m", 60e9],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  if (rest > 0) out += rest % 1e9 === 0 ? `${rest / 1e9}s` : rest >= 1e9 ? `${rest / 1e9}s` : rest % 1e6 === 0 ? `${rest / 1e6}ms` : `${rest}ns`;
  return out;
}

/** A spec checked now, so a bad duration fails the call that gave it. */
export function healthcheckSpec(args: string[], opts: Omit<HealthcheckSpec, "args">): HealthcheckSpec {
  if (args.length === 0) throw new InvalidArgumentError("withDockerHealthcheck: args must not be empty");
  for (const k of ["interval", "timeout", "startPeriod", "startInterval"] as const) {
    const v = opts[k];
    if (v !== undefined) parseDuration(v, `withDockerHealthcheck ${k}`);
  }
  if (opts.retries !== undefined && (!Number.isInteger(opts.retries) || opts.retries < 0)) {
    throw new InvalidArgumentError(`withDockerHealthcheck retries: must be a non-negative integer, got ${opts.retries}`);
  }
  return { args, ...opts };
}

export function toDockerHealthcheck(h: HealthcheckSpec): DockerHealthcheck {
  const ns = (v: string | undefined, k: string) => (v === undefined ? {} : { [k]: parseDuration(v, k) });
  return {
    Test: h.shell ? ["CMD-SHELL", h.args.join(" ")] : ["CMD", ...h.args],
    ...ns(h.interval, "Interval"),
    ...ns(h.timeout, "Timeout"),
    ...ns(h.startPeriod, "StartPeriod"),
    ...ns(h.startInterval, "StartInterval"),
    ...(h.retries !== undefined ? { Retries: h.retries } : {}),
  };
}

/** An image's HEALTHCHECK as a spec; undefined for none (or "NONE"). */
export function fromDockerHealthcheck(h: DockerHealthcheck | undefined): HealthcheckSpec | undefined {
  const test = h?.Test;
  if (!h || !test || test.length === 0 || test[0] === "NONE") return undefined;
  const shell = test[0] === "CMD-SHELL";
  const args = test[0] === "CMD" || shell ? test.slice(1) : test;
  const d = (v: number | undefined) => (v ? formatDuration(v) : undefined);
  const spec: HealthcheckSpec = { args, shell };
  const set = <K extends keyof HealthcheckSpec>(k: K, v: HealthcheckSpec[K] | undefined) => {
    if (v !== undefined) spec[k] = v;
  };
  set("interval", d(h.Interval));
  set("timeout", d(h.Timeout));
  set("startPeriod", d(h.StartPeriod));
  set("startInterval", d(h.StartInterval));
  set("retries", h.Retries || undefined);
  return spec;
}
