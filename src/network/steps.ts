/**
 * Teardown steps that must each run even when one before failed (closing a
 * network: namespaces, DNS, firewall, host state), with what each took for
 * the log.
 */
export interface StepsResult {
  errors: unknown[];
  /** `<step>_ms` per step run. */
  timings: Record<string, number>;
}

/** Run `steps` in order; a failure is collected, never thrown. */
export async function runSteps(
  steps: ReadonlyArray<readonly [string, () => Promise<unknown>]>,
  into: StepsResult = { errors: [], timings: {} },
): Promise<StepsResult> {
  for (const [what, fn] of steps) {
    const started = performance.now();
    try {
      await fn();
    } catch (err) {
      into.errors.push(err);
    }
    into.timings[`${what}_ms`] = Math.round(performance.now() - started);
  }
  return into;
}
