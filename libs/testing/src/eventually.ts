/**
 * The one poller of the tests: wait for a condition with a deadline, instead of sleeping and hoping.
 *
 * The timers are the ones this module found when it was loaded, so a test that fakes `setTimeout` and
 * `Date` (to drive an injected clock) can still wait for a real signal.
 */
const realSetTimeout = globalThis.setTimeout;
const realNow = performance.now.bind(performance);

export interface EventuallyOptions {
  /** What is waited for, for the failure message ("3 records on orders.order"); computed at the deadline when a function. */
  what?: string | (() => string);
  /** Give up after this long, ms. Default 20 s. */
  timeoutMs?: number;
  /** Pause between two checks, ms. Default 20. */
  intervalMs?: number;
}

/**
 * Calls `check` until it passes and returns what it returned. A check passes when it returns (or resolves)
 * without throwing and with anything but `false`, so both an assertion (`() => expect(x).toBe(3)`) and a
 * predicate (`() => rows.length >= 3`) work. At the deadline it fails saying what it waited for: the
 * check's last error is rethrown with that in front (an assertion keeps its diff); a predicate, which
 * only ever answered `false`, needs `what` to say anything. The second argument is `what` alone, or options.
 */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions | EventuallyOptions['what'] = {}): Promise<Exclude<Awaited<T>, false>> {
  const { what, timeoutMs = 20_000, intervalMs = 20 } = typeof options === 'object' ? options : { what: options };
  const deadline = realNow() + timeoutMs;
  for (;;) {
    let failure: unknown = undefined;
    try {
      const answer = await check();
      if (answer !== false) return answer as Exclude<Awaited<T>, false>;
    } catch (error) {
      failure = error;
    }
    if (realNow() >= deadline) throw timedOut(typeof what === 'function' ? what() : what, timeoutMs, failure);
    await new Promise((resolve) => realSetTimeout(resolve, intervalMs));
  }
}

function timedOut(what: string | undefined, timeoutMs: number, failure: unknown): Error {
  const prefix = `waited ${timeoutMs} ms for ${what ?? 'the check to pass'}`;
  if (failure instanceof Error) {
    failure.message = `${prefix}; last: ${failure.message}`;
    return failure;
  }
  return new Error(failure === undefined ? `${prefix}; it kept answering false` : `${prefix}; last: ${String(failure)}`);
}
