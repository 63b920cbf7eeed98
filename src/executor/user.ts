/**
 * Resolving an image's `USER` string ("name", "uid", "name:group", "uid:gid")
 * to numeric ids, the way runc and Docker do: a matched passwd entry gives the
 * primary gid and, unless a group was named, the supplementary groups the user
 * is listed in. The rootfs is untrusted: /etc/passwd may be a symlink, so paths
 * are resolved as if the rootfs were `/` and can never point outside it.
 */
import { readFile } from "node:fs/promises";
import { InvalidArgumentError } from "../errors.js";
import { resolveInRoot } from "../fsutil/in-root.js";

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;

function parseId(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined;
}

/** Lines of `name:x:uid:gid:gecos:home:shell`; malformed lines are skipped, as libc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const [name, , uidText, gidText, , home] = line.split(":");
    if (name === undefined || name === "") continue;
    const uid = parseId(uidText ?? "");
    const gid = parseId(gidText ?? "");
    if (uid === undefined || gid === undefined) continue;
    entries.push({ name, uid, gid, home: home ?? "" });
  }
  return entries;
}

/** Lines of `name:x:gid:member,member`. */
export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const [name, , gidText, memberText] = line.split(":");
    if (name === undefined || name === "") continue;
    const gid = parseId(gidText ?? "");
    if (gid === undefined) continue;
    const members = (memberText ?? "")
      .split(",")
      .map((m) => m.trim())
      .filter((m) => m !== "");
    entries.push({ name, gid, members });
  }
  return entries;
}

/** The pure part of resolution, given the parsed files (undefined when a file is absent). */
export function resolveUserFrom(user: string, passwd: PasswdEntry[] | undefined, group: GroupEntry[] | undefined): ResolvedUser {
  const sep = user.indexOf(":");
  const userPart = sep === -1 ? user : user.slice(0, sep);
  const groupPart = sep === -1 ? undefined : user.slice(sep + 1);

  let uid = 0;
  let gid = 0;
  let matched: PasswdEntry | undefined;
  if (userPart !== "") {
    const numericUid = parseId(userPart);
    matched = passwd?.find((e) => (numericUid === undefined ? e.name === userPart : e.uid === numericUid));
    if (matched !== undefined) {
      uid = matched.uid;
      gid = matched.gid;
    } else if (numericUid !== undefined) {
      uid = numericUid;
    } else {
      throw new InvalidArgumentError(
        passwd === undefined
          ? `unable to find user "${userPart}": no /etc/passwd in the container's rootfs`
          : `unable to find user "${userPart}": no matching entries in passwd file`,
      );
    }
  } else if (groupPart === undefined) {
    matched = passwd?.find((e) => e.uid === 0);
    if (matched !== undefined) gid = matched.gid;
  }

  if (groupPart !== undefined && groupPart !== "") {
    const numericGid = parseId(groupPart);
    if (numericGid !== undefined) {
      gid = numericGid;
    } else {
      const found = group?.find((g) => g.name === groupPart);
      if (found === undefined) {
        throw new InvalidArgumentError(
          group === undefined
            ? `unable to find group "${groupPart}": no /etc/group in the container's rootfs`
            : `unable to find group "${groupPart}": no matching entries in group file`,
        );
      }
      gid = found.gid;
    }
    // An explicit group replaces the user's memberships, as in runc.
    return { uid, gid, additionalGids: [] };
  }

  const additionalGids: number[] = [];
  if (matched !== undefined && group !== undefined) {
    for (const g of group) {
      if (g.members.includes(matched.name) && !additionalGids.includes(g.gid)) additionalGids.push(g.gid);
    }
  }
  return { uid, gid, additionalGids };
}

async function readInRoot(rootDir: string, path: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  const host = await resolveInRoot(rootDir, path, { followLast: true });
  try {
    return await readFile(host, { encoding: "utf8", ...(signal === undefined ? {} : { signal }) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A missing or unreadable-as-file entry means "no database": numeric ids still work.
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw err;
  }
}

/** Resolve `user` against `<rootfsDir>/etc/passwd` and `/etc/group`. An empty string means root. */
export async function resolveUser(user: string, rootfsDir: string, opts: { signal?: AbortSignal } = {}): Promise<ResolvedUser> {
  const sep = user.indexOf(":");
  const userPart = sep === -1 ? user : user.slice(0, sep);
  const groupPart = sep === -1 ? undefined : user.slice(sep + 1);
  // Purely numeric "uid:gid" needs no files; skip the reads on the common fast path.
  if (parseId(userPart) !== undefined && groupPart !== undefined && parseId(groupPart) !== undefined) {
    return resolveUserFrom(user, undefined, undefined);
  }
  const passwdText = await readInRoot(rootfsDir, "/etc/passwd", opts.signal);
  const groupText = await readInRoot(rootfsDir, "/etc/group", opts.signal);
  return resolveUserFrom(user, passwdText === undefined ? undefined : parsePasswd(passwdText), groupText === undefined ? undefined : parseGroup(groupText));
}
