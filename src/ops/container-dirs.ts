/**
 * Where each exec makes its directory: the mount points of its root overlay and of its
 * mounted directories, its secret files and its forwarded sockets (`<dir>/<container id>/…`).
 *
 * All of that is made and removed with every exec, so it lives on a tmpfs of its own. On the
 * state filesystem each exec would make and free a few inodes, and on ext4 without a journal
 * every later inode allocation skips each inode freed in the last minute (up to five while its
 * inode table block is dirty): with a loop of execs that scan grew to milliseconds per exec
 * (perf: recently_deleted, find_inode_bit). Secret files never reach a disk this way either.
 * The tmpfs is nosuid and nodev (binds of its files keep those flags), not noexec: a secret
 * file or mounted directory may hold a program.
 */
import { mountPrivateTmpfs } from "../mount/mount.js";

export interface ContainerDirs {
  dir: string;
  /** Settles once the tmpfs is mounted; an exec waits for it and fails with its error. */
  ready: Promise<void>;
}

/** Secret files are the only content; this bounds a runaway, not normal use. */
const CONTAINERS_TMPFS_SIZE = "256m";

export function prepareContainerDirs(dir: string): Promise<void> {
  return mountPrivateTmpfs(dir, { source: "tanto-containers", size: CONTAINERS_TMPFS_SIZE });
}
