/**
 * PAX extended records tar-stream leaves to its caller. tar-stream applies
 * `path`, `linkpath` and `size` itself but not ownership, so a layer that
 * gives a file to uid 3000000 in a PAX record (the ustar field holds at most
 * 2097151) would otherwise keep the clamped or zero ustar value — and a
 * setuid file meant for an unprivileged owner would become setuid-root.
 */
import type { Header } from "tar-stream";
import { InvalidArgumentError } from "../errors.js";

/** Largest id a ustar octal field holds (7 digits). */
export const USTAR_MAX_ID = 0o7777777;
/** Largest id Linux accepts ((uid_t)-1 means "unchanged"). */
const MAX_ID = 0xfffffffe;
/** PATH_MAX counts the trailing NUL: a symlink target holds at most 4095 bytes. */
export const MAX_LINK_TARGET = 4095;

/** tar-stream's typings leave `pax` untyped; the records are strings by key. */
function records(header: Header): Record<string, string | undefined> | undefined {
  const pax: unknown = header.pax;
  return typeof pax === "object" && pax !== null ? (pax as Record<string, string | undefined>) : undefined;
}

function paxId(header: Header, key: "uid" | "gid"): number | undefined {
  const raw = records(header)?.[key];
  if (raw === undefined) return undefined;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > MAX_ID) {
    throw new InvalidArgumentError(`layer entry "${header.name.slice(0, 200)}": PAX ${key} record "${raw.slice(0, 40)}" is not a valid id`);
  }
  return Number(raw);
}

/** The header with PAX `uid`/`gid` (and `mtime`) records applied over the ustar fields. */
export function withPaxRecords(header: Header): Header {
  const pax = records(header);
  if (pax === undefined) return header;
  const uid = paxId(header, "uid");
  const gid = paxId(header, "gid");
  const mtime = pax["mtime"];
  const out: Header = { ...header };
  if (uid !== undefined) out.uid = uid;
  if (gid !== undefined) out.gid = gid;
  if (mtime !== undefined && /^-?\d+(\.\d+)?$/.test(mtime)) out.mtime = new Date(Number(mtime) * 1000);
  return out;
}

/** PAX records a writer must add for ids a ustar field cannot hold (undefined when none are needed). */
export function paxForIds(uid: number | undefined, gid: number | undefined): Record<string, string> | undefined {
  const pax: Record<string, string> = {};
  if (uid !== undefined && uid > USTAR_MAX_ID) pax["uid"] = String(uid);
  if (gid !== undefined && gid > USTAR_MAX_ID) pax["gid"] = String(gid);
  return Object.keys(pax).length > 0 ? pax : undefined;
}
