/**
 * `RUN --mount=…` options (BuildKit's syntax): `type=cache|secret|bind|ssh`
 * with comma-separated `key=value` fields. Parsed here; the build maps them
 * onto a container's mounts for that one RUN.
 */

export type RunMount =
  | { type: "cache"; target: string; id?: string; sharing: "shared" | "private" | "locked" }
  | { type: "secret"; id: string; target: string; required: boolean; mode: number }
  | { type: "bind"; target: string; source: string; from?: string; readWrite: boolean }
  /** The build's ssh-agent socket (dockerBuild(ssh)) at `target`; `owner` from uid/gid. */
  | { type: "ssh"; id: string; target: string; required: boolean; owner?: string };

/** Leading `--mount=…` words of a RUN, and what is left of it. */
export function takeRunMounts(text: string): { specs: string[]; rest: string } {
  const specs: string[] = [];
  let rest = text;
  for (;;) {
    const m = /^--mount=(\S+)(?:\s+|$)/i.exec(rest);
    if (!m) break;
    specs.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  return { specs, rest };
}

/** One `--mount` value; an error message (a string) when it cannot be honoured. */
export function parseRunMount(spec: string): RunMount | string {
  const fields = new Map<string, string>();
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    fields.set((eq < 0 ? part : part.slice(0, eq)).toLowerCase(), eq < 0 ? "true" : part.slice(eq + 1));
  }
  const type = fields.get("type") ?? "bind";
  const target = fields.get("target") ?? fields.get("dst") ?? fields.get("destination");
  const flag = (k: string) => fields.has(k) && fields.get(k) !== "false";
  switch (type) {
    case "cache": {
      if (!target) return `--mount=${spec}: a cache mount needs target=`;
      const sharing = fields.get("sharing") ?? "shared";
      if (sharing !== "shared" && sharing !== "private" && sharing !== "locked") return `--mount=${spec}: sharing must be shared, private or locked`;
      if (flag("ro") || flag("readonly")) return `--mount=${spec}: read-only cache mounts are not supported`;
      const id = fields.get("id");
      return { type, target, sharing, ...(id ? { id } : {}) };
    }
    case "secret": {
      const id = fields.get("id") ?? (target ? target.split("/").pop() : undefined);
      if (!id) return `--mount=${spec}: a secret mount needs id= or target=`;
      const mode = fields.has("mode") ? Number.parseInt(fields.get("mode")!, 8) : 0o400;
      if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) return `--mount=${spec}: invalid mode`;
      return { type, id, target: target ?? `/run/secrets/${id}`, required: flag("required"), mode };
    }
    case "bind": {
      if (!target) return `--mount=${spec}: a bind mount needs target=`;
      const from = fields.get("from");
      return { type, target, source: fields.get("source") ?? fields.get("src") ?? "/", readWrite: flag("rw") || flag("readwrite"), ...(from ? { from } : {}) };
    }
    case "ssh": {
      if (fields.has("mode")) return `--mount=${spec}: mode= is not supported for ssh mounts (the socket is the agent's)`;
      const uid = fields.get("uid");
      const gid = fields.get("gid");
      if ([uid, gid].some((n) => n !== undefined && !/^\d+$/.test(n))) return `--mount=${spec}: uid and gid must be numbers`;
      const owner = uid !== undefined || gid !== undefined ? `${uid ?? "0"}:${gid ?? "0"}` : undefined;
      return {
        type,
        id: fields.get("id") ?? "default",
        target: target ?? "/run/buildkit/ssh_agent.0",
        required: flag("required"),
        ...(owner ? { owner } : {}),
      };
    }
    default:
      return `--mount=${spec}: type=${type} is not supported (cache, secret, bind and ssh are)`;
  }
}
