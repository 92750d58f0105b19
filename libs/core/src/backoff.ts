/**
 * Exponential backoff with full jitter (the AWS architecture blog's "full jitter"): attempt n waits a random
 * time in [0, min(max, initial * 2^(n-1))], so retries of many clients spread out instead of arriving in waves.
 * The one retry-delay rule of the platform (outbox relay, consumer runtime, projections).
 */
export interface BackoffOptions {
  /** Upper bound of the first retry's delay, ms. */
  initialMs: number;
  /** Cap of any delay, ms. */
  maxMs: number;
  /** Fraction of the delay that is random: 1 = full jitter (default), 0 = none. */
  jitter?: number;
}

/** The delay before retry number `attempt` (1 = the first retry). `random` is injectable for tests. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  const jitter = options.jitter ?? 1;
  return Math.round(ceiling * (1 - jitter) + ceiling * jitter * random());
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
