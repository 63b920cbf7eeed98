/**
 * Resolvers: thin glue from GraphQL arguments to core values and evaluation.
 * Each returns a new immutable value (for `with*` fields) or evaluates a leaf.
 */
import { encodeId } from "../../core/ids.js";
import type { NamedValue, Port } from "../../core/values.js";
import { containerResolvers } from "./container.js";
import { directoryResolvers, fileResolvers, hostResolvers, statResolvers } from "./directory.js";
import { dockerfileDirectoryResolvers } from "./dockerfile.js";
import { imageContainerResolvers } from "./images.js";
import { queryResolvers } from "./query.js";
import { secretContainerResolvers, secretQueryResolvers, secretResolvers } from "./secrets.js";
import { serviceContainerResolvers, serviceHostResolvers, serviceQueryResolvers, serviceResolvers } from "./services.js";
import { gitRefResolvers, gitRepositoryResolvers, sourcesQueryResolvers } from "./sources.js";

const named = {
  id: (v: NamedValue) => encodeId(v),
  name: (v: NamedValue) => v.name,
  value: (v: NamedValue) => v.value,
};

export const resolvers = {
  Query: { ...queryResolvers, ...secretQueryResolvers, ...sourcesQueryResolvers, ...serviceQueryResolvers },
  Service: serviceResolvers,
  GitRepository: gitRepositoryResolvers,
  GitRef: gitRefResolvers,
  Container: { ...containerResolvers, ...secretContainerResolvers, ...imageContainerResolvers, ...serviceContainerResolvers },
  Secret: secretResolvers,
  Directory: { ...directoryResolvers, ...dockerfileDirectoryResolvers },
  File: fileResolvers,
  Stat: statResolvers,
  Host: { ...hostResolvers, ...serviceHostResolvers },
  CacheVolume: { id: encodeId },
  EnvVariable: named,
  Label: named,
  Port: {
    id: (p: Port) => encodeId(p),
    port: (p: Port) => p.port,
    protocol: (p: Port) => p.protocol,
    description: (p: Port) => p.description ?? null,
    experimentalSkipHealthcheck: (p: Port) => p.experimentalSkipHealthcheck,
  },
};
