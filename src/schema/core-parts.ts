/**
 * The engine's core schema: each area of the Dagger API as one part, its SDL
 * (sdl/) with the resolvers of the fields it adds (api/resolvers).
 */

import { addressQueryResolvers, addressResolvers } from "../api/resolvers/addresses.js";
import { containerResolvers } from "../api/resolvers/container.js";
import { containerExtrasResolvers, healthcheckConfigResolvers } from "../api/resolvers/container-extras.js";
import { directoryResolvers, fileResolvers, hostResolvers, statResolvers } from "../api/resolvers/directory.js";
import { dockerImagesContainerResolvers, dockerImagesHostResolvers } from "../api/resolvers/docker-images.js";
import { dockerfileDirectoryResolvers } from "../api/resolvers/dockerfile.js";
import {
  engineCacheEntryResolvers,
  engineCacheEntrySetResolvers,
  engineCacheResolvers,
  engineQueryResolvers,
  engineResolvers,
} from "../api/resolvers/engine-cache.js";
import {
  changesetResolvers,
  diffStatResolvers,
  envFileResolvers,
  errorResolvers,
  errorValueResolvers,
  fsExtrasContainerResolvers,
  fsExtrasDirectoryResolvers,
  fsExtrasFileResolvers,
  fsExtrasQueryResolvers,
  jsonValueResolvers,
  searchResultResolvers,
  searchSubmatchResolvers,
} from "../api/resolvers/fs-extras.js";
import { gitExtrasDirectoryResolvers, gitExtrasRefResolvers } from "../api/resolvers/git-extras.js";
import { imageContainerResolvers } from "../api/resolvers/images.js";
import { queryResolvers } from "../api/resolvers/query.js";
import { secretContainerResolvers, secretQueryResolvers, secretResolvers } from "../api/resolvers/secrets.js";
import { serviceContainerResolvers, serviceHostResolvers, serviceResolvers } from "../api/resolvers/services.js";
import { socketContainerResolvers, socketHostResolvers, socketResolvers } from "../api/resolvers/sockets.js";
import { gitRefResolvers, gitRepositoryResolvers, sourcesQueryResolvers } from "../api/resolvers/sources.js";
import { terminalContainerResolvers, terminalDirectoryResolvers, terminalServiceResolvers } from "../api/resolvers/terminal.js";
import { cacheVolumeResolvers, namedValueResolvers, portResolvers } from "../api/resolvers/values.js";
import { volumeAddressResolvers, volumeContainerResolvers, volumeQueryResolvers, volumeResolvers } from "../api/resolvers/volumes.js";
import { addressesSDL } from "./sdl/addresses.js";
import { containerExtrasSDL } from "./sdl/container-extras.js";
import { coreSDL } from "./sdl/core.js";
import { directivesSDL } from "./sdl/directives.js";
import { dockerImagesSDL } from "./sdl/docker-images.js";
import { dockerfileSDL } from "./sdl/dockerfile.js";
import { engineCacheSDL } from "./sdl/engine-cache.js";
import { fsExtrasSDL } from "./sdl/fs-extras.js";
import { gitExtrasSDL } from "./sdl/git-extras.js";
import { imagesSDL } from "./sdl/images.js";
import { secretsSDL } from "./sdl/secrets.js";
import { servicesSDL } from "./sdl/services.js";
import { socketsSDL } from "./sdl/sockets.js";
import { sourcesSDL } from "./sdl/sources.js";
import { terminalSDL } from "./sdl/terminal.js";
import { volumesSDL } from "./sdl/volumes.js";
import type { SchemaPart } from "./types.js";

export const coreParts: readonly SchemaPart[] = [
  { name: "directives", sdl: directivesSDL },
  {
    name: "core",
    sdl: coreSDL,
    resolvers: {
      Query: queryResolvers,
      Container: containerResolvers,
      Directory: directoryResolvers,
      File: fileResolvers,
      Stat: statResolvers,
      Host: hostResolvers,
      CacheVolume: cacheVolumeResolvers,
      EnvVariable: namedValueResolvers,
      Label: namedValueResolvers,
      Port: portResolvers,
    },
  },
  { name: "secrets", sdl: secretsSDL, resolvers: { Query: secretQueryResolvers, Secret: secretResolvers, Container: secretContainerResolvers } },
  { name: "services", sdl: servicesSDL, resolvers: { Service: serviceResolvers, Container: serviceContainerResolvers, Host: serviceHostResolvers } },
  { name: "sources", sdl: sourcesSDL, resolvers: { Query: sourcesQueryResolvers, GitRepository: gitRepositoryResolvers, GitRef: gitRefResolvers } },
  { name: "images", sdl: imagesSDL, resolvers: { Container: imageContainerResolvers } },
  {
    name: "fs-extras",
    sdl: fsExtrasSDL,
    resolvers: {
      Query: fsExtrasQueryResolvers,
      Container: fsExtrasContainerResolvers,
      Directory: fsExtrasDirectoryResolvers,
      File: fsExtrasFileResolvers,
      SearchResult: searchResultResolvers,
      SearchSubmatch: searchSubmatchResolvers,
      Changeset: changesetResolvers,
      DiffStat: diffStatResolvers,
      JSONValue: jsonValueResolvers,
      EnvFile: envFileResolvers,
      Error: errorResolvers,
      ErrorValue: errorValueResolvers,
    },
  },
  { name: "container-extras", sdl: containerExtrasSDL, resolvers: { Container: containerExtrasResolvers, HealthcheckConfig: healthcheckConfigResolvers } },
  {
    name: "terminal",
    sdl: terminalSDL,
    resolvers: { Container: terminalContainerResolvers, Directory: terminalDirectoryResolvers, Service: terminalServiceResolvers },
  },
  { name: "sockets", sdl: socketsSDL, resolvers: { Socket: socketResolvers, Host: socketHostResolvers, Container: socketContainerResolvers } },
  { name: "docker-images", sdl: dockerImagesSDL, resolvers: { Container: dockerImagesContainerResolvers, Host: dockerImagesHostResolvers } },
  {
    name: "engine-cache",
    sdl: engineCacheSDL,
    resolvers: {
      Query: engineQueryResolvers,
      Engine: engineResolvers,
      EngineCache: engineCacheResolvers,
      EngineCacheEntrySet: engineCacheEntrySetResolvers,
      EngineCacheEntry: engineCacheEntryResolvers,
    },
  },
  { name: "addresses", sdl: addressesSDL, resolvers: { Query: addressQueryResolvers, Address: addressResolvers } },
  {
    name: "volumes",
    sdl: volumesSDL,
    resolvers: { Volume: volumeResolvers, Query: volumeQueryResolvers, Container: volumeContainerResolvers, Address: volumeAddressResolvers },
  },
  { name: "git-extras", sdl: gitExtrasSDL, resolvers: { GitRef: gitExtrasRefResolvers, Directory: gitExtrasDirectoryResolvers } },
  { name: "dockerfile", sdl: dockerfileSDL, resolvers: { Directory: dockerfileDirectoryResolvers } },
];
