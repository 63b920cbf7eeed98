/**
 * The engine and its cache (`Query.engine`), backed by the real cache. Byte
 * counts and nanosecond times are Float here (JSON numbers): GraphQL's Int is
 * 32 bits, and they do not fit.
 */
export const engineCacheSDL = /* GraphQL */ `
extend type Query {
  engine: Engine!
}

type Engine implements Node {
  id: ID!
  name: String!
  clients: [String!]!
  localCache: EngineCache!
}

type EngineCache implements Node {
  id: ID!
  entrySet(key: String = ""): EngineCacheEntrySet!
  prune(useDefaultPolicy: Boolean = false, maxUsedSpace: String, reservedSpace: String, minFreeSpace: String, targetSpace: String): Void
  maxUsedSpace: Float!
  reservedSpace: Float!
  minFreeSpace: Float!
  targetSpace: Float!
}

type EngineCacheEntrySet implements Node {
  id: ID!
  diskSpaceBytes: Float!
  entryCount: Int!
  entries: [EngineCacheEntry!]!
}

type EngineCacheEntry implements Node {
  id: ID!
  description: String!
  recordType: String!
  recordTypes: [String!]!
  dagqlCall: String!
  diskSpaceBytes: Float!
  activelyUsed: Boolean!
  createdTimeUnixNano: Float!
  mostRecentUseTimeUnixNano: Float!
}
`;
