/**
 * What an abort does to an attached runc (pipe-attach.ts, pty-attach.ts):
 * `kill` the container, given a probe telling whether runc has exited; if
 * runc has not exited RUNC_EXIT_GRACE_MS after a kill that succeeded (it
 * waits for its stdio copies to end), or the kill failed, runc itself gets
 * SIGKILL through `killRunc`.
 *
 *   const abort = onAbortKill(signal, () => exited, kill, () => child.kill("SIGKILL"));
 *   …when runc exits or fails to start: abort.dispose(); resolve({ …, aborted: abort.aborted });
 */

/** After a successful kill, how long runc may take to exit before it is killed too. */
const RUNC_EXIT_GRACE_MS = 2_000;

export interface RuncAbort {
  /** Whether the signal aborted the run. */
  readonly aborted: boolean;
  /** End the run as an abort of the signal would (the caller gave up on it). */
  abortNow(): void;
  /** runc is gone: stop listening and cancel a pending SIGKILL. */
  dispose(): void;
}

export function onAbortKill(signal: AbortSignal, exited: () => boolean, kill: (exited: () => boolean) => Promise<void>, killRunc: () => void): RuncAbort {
  let aborted = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const killRuncIfRunning = (): void => {
    if (!exited()) killRunc();
  };
  const onAbort = (): void => {
    if (aborted || exited()) return;
    aborted = true;
    kill(exited).then(() => {
      graceTimer = setTimeout(killRuncIfRunning, RUNC_EXIT_GRACE_MS);
    }, killRuncIfRunning);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  return {
    get aborted() {
      return aborted;
    },
    abortNow: onAbort,
    dispose() {
      clearTimeout(graceTimer);
      signal.removeEventListener("abort", onAbort);
    },
  };
}
