import { describe, expect, it } from 'vitest';
import { RuntimeCounters } from './subscription-status.js';

describe('RuntimeCounters', () => {
  it('adds committed runs, dead letters and handler latency', () => {
    const counters = new RuntimeCounters();
    counters.committed(3, 1);
    counters.committed(0, 2);
    counters.deadLettered += 1;
    counters.handlerCalled(2);
    counters.handlerCalled(5);
    expect(counters).toMatchObject({ handled: 3, duplicates: 3, deadLettered: 1 });
    expect(counters.latency()).toEqual({ count: 2, sumMs: 7, maxMs: 5 });
  });
});
