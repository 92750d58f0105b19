import { describe, expect, it, onTestFinished } from 'vitest';
import { fixKafkajsRequestQueue, kafkajsRequestQueue, type KafkajsRequestQueue } from './kafkajs-request-queue.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function requestQueue(): KafkajsRequestQueue {
  const RequestQueue = kafkajsRequestQueue();
  const queue = new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'localhost:0', logger: quiet });
  onTestFinished(() => {
    if (queue.throttleCheckTimeoutId) clearTimeout(queue.throttleCheckTimeoutId);
    queue.pending.length = 0;
  });
  return queue;
}

describe('the kafkajs 2.2.4 RequestQueue fix', () => {
  it('is in place for the pinned kafkajs, and applying it again changes nothing', () => {
    const method = kafkajsRequestQueue().prototype.scheduleCheckPendingRequests;
    expect(fixKafkajsRequestQueue()).toBe(true);
    expect(kafkajsRequestQueue().prototype.scheduleCheckPendingRequests).toBe(method);
  });

  it('arms no timer when nothing is pending and nothing is throttled (kafkajs 2.2.4 re-armed a 1 ms one forever)', () => {
    const queue = requestQueue();
    queue.checkPendingRequests();
    expect(queue.throttleCheckTimeoutId).toBeFalsy();
  });

  it('still checks pending requests later, and waits out a throttle', () => {
    const pending = requestQueue();
    pending.pending.push({});
    pending.scheduleCheckPendingRequests();
    expect(pending.throttleCheckTimeoutId).toBeTruthy();

    const throttled = requestQueue();
    throttled.throttledUntil = Date.now() + 60_000;
    throttled.scheduleCheckPendingRequests();
    expect(throttled.throttleCheckTimeoutId).toBeTruthy();
  });
});
