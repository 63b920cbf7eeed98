/**
 * A `Mount` is a description of one mount(2) call, as containerd models it:
 * nothing is mounted until `mountAll` is called, so values can be passed
 * around, logged and turned into OCI runtime-spec mounts freely.
 *
 * Overlay lower directories may be given relative to `cwd`, which keeps the
 * option string under the kernel's 4096-byte page limit for deep stacks.
 */
export interface Mount {
  type: string;
  source: string;
  options: string[];
  /** Directory relative lowerdir/upperdir/workdir paths are resolved from. */
  cwd?: string;
}
