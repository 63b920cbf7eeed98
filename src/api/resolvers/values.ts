/** The small value objects: environment variables, labels and exposed ports. */
import { encodeId } from "../../core/ids.js";
import type { CacheVolume, NamedValue, Port } from "../../core/values.js";

/** EnvVariable and Label. */
export const namedValueResolvers = {
  id: (v: NamedValue) => encodeId(v),
  name: (v: NamedValue) => v.name,
  value: (v: NamedValue) => v.value,
};

export const portResolvers = {
  id: (p: Port) => encodeId(p),
  port: (p: Port) => p.port,
  protocol: (p: Port) => p.protocol,
  description: (p: Port) => p.description ?? null,
  experimentalSkipHealthcheck: (p: Port) => p.experimentalSkipHealthcheck,
};

export const cacheVolumeResolvers = {
  id: (v: CacheVolume) => encodeId(v),
};
