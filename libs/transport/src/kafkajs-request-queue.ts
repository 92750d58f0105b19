/**
 * A fix for kafkajs 2.2.4's RequestQueue, applied once per process when @shoal/transport loads.
 *
 * In 2.2.4 every connection's RequestQueue re-arms a timer after each check of its pending requests, even
 * when nothing is pending and nothing is throttled: the delay is then `throttledUntil - Date.now()`, a large
 * negative number that Node runs as 1 ms, and the timer's callback checks again. From its first response on,
 * each connection spins at about 1 kHz for as long as it lives (kafkajs issues #1556, #1604, #1704; the fixes,
 * PRs #1667 and #1768, were never released). A Shoal service has several connections, so an idle service
 * woke about 900 times a second; under `shoal dev` six services did that on two cores, and every wake-up
 * competes for the CPU with the process that holds the next hop of a choreography.
 *
 * The replacement is the upstream method with one branch added, as PR #1667 proposes: with nothing pending
 * and no throttle in force there is nothing to check later, so no timer is armed. That loses nothing: a new
 * request either leaves at once or is queued by `push`, which schedules a check itself, and every response
 * checks the queue again. With requests pending it behaves exactly as before (a check when the throttle ends,
 * else every 10 ms).
 *
 * Only kafkajs 2.2.4 is patched (the version the repository pins); another version is left alone, since its
 * RequestQueue may differ.
 */
import { createRequire } from 'node:module';

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL (src/network/requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
const PATCHED_VERSION = '2.2.4';
const patched = Symbol.for('shoal.kafkajs.requestQueue.idleTimerFix');

/** The part of kafkajs's RequestQueue the fix reads and writes. */
export interface KafkajsRequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null | undefined;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

type RequestQueueClass = new (options: Record<string, unknown>) => KafkajsRequestQueue;

const require = createRequire(import.meta.url);

/** kafkajs's RequestQueue class (an internal module: kafkajs has no `exports` map, so it can be required). */
export function kafkajsRequestQueue(): RequestQueueClass {
  return require('kafkajs/src/network/requestQueue/index.js') as RequestQueueClass;
}

function scheduleCheckPendingRequests(this: KafkajsRequestQueue): void {
  if (this.throttleCheckTimeoutId) return;
  let scheduleAt = this.throttledUntil - Date.now();
  if (this.pending.length > 0) {
    scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL_MS;
  } else if (scheduleAt <= 0) {
    return;
  }
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, scheduleAt);
}

/** Patches kafkajs's RequestQueue (see the file comment); true when the fix is in place. Idempotent. */
export function fixKafkajsRequestQueue(): boolean {
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== PATCHED_VERSION) return false;
  const prototype = kafkajsRequestQueue().prototype as KafkajsRequestQueue & { [patched]?: true };
  if (prototype[patched] !== true) {
    prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
    prototype[patched] = true;
  }
  return true;
}

fixKafkajsRequestQueue();
