/** Turning IDs back into core objects, for node(id:) and load*FromID. */

import { Container } from "../core/container.js";
import { Host } from "../core/host.js";
import { decodeId } from "../core/ids.js";
import { Secret } from "../core/secrets.js";
import { Service } from "../core/service.js";
import { GitRef, GitRepository } from "../core/sources.js";
import { CacheVolume, Directory, File, type FileType, NamedValue, Port, Stat } from "../core/values.js";
import { InvalidArgumentError } from "../errors.js";

export type CoreObject = Container | Directory | File | CacheVolume | NamedValue | Port | Stat | Host | Secret | Service | GitRepository | GitRef;

export function loadObject(id: string, want?: string): CoreObject {
  const { typename, state } = decodeId(id);
  if (want !== undefined && typename !== want) {
    throw new InvalidArgumentError(`ID is a ${typename}, expected a ${want}`);
  }
  const s = state as { name: string; value: string; port: number; protocol: "TCP" | "UDP"; description?: string; experimentalSkipHealthcheck?: boolean };
  switch (typename) {
    case "GitRepository":
      return GitRepository.fromJSON(state);
    case "GitRef":
      return GitRef.fromJSON(state);
    case "Container":
      return Container.fromJSON(state);
    case "Directory":
      return Directory.fromJSON(state);
    case "File":
      return File.fromJSON(state);
    case "CacheVolume":
      return CacheVolume.fromJSON(state);
    case "EnvVariable":
    case "Label":
      return new NamedValue(typename, s.name, s.value);
    case "Port":
      return new Port(s.port, s.protocol, s.description, s.experimentalSkipHealthcheck ?? false);
    case "Service":
      return Service.fromJSON(state);
    case "Secret":
      return Secret.fromJSON(state);
    case "Host":
      return new Host();
    case "Stat": {
      const st = state as { name: string; fileType: FileType; permissions: number; size: number };
      return new Stat(st.name, st.fileType, st.permissions, st.size);
    }
    default:
      throw new InvalidArgumentError(`ID of unknown type "${typename}"`);
  }
}
