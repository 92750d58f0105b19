import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/error-codes.js';
import { checkSequence, lastSequenceOf, recordAppend, type ProducerEntry } from './producer-state.js';

function entryAfter(batches: [number, number, number][], epoch = 0): ProducerEntry {
  let entry: ProducerEntry | undefined;
  for (const [firstSeq, lastSeq, baseOffset] of batches) entry = recordAppend(entry, epoch, { firstSeq, lastSeq, baseOffset });
  return entry!;
}

describe('idempotent producer sequence checks', () => {
  it('accepts the first batch of an unknown producer and the next in sequence', () => {
    expect(checkSequence(undefined, 0, 0, 9).kind).toBe('append');
    expect(checkSequence(entryAfter([[0, 9, 100]]), 0, 10, 19).kind).toBe('append');
  });

  it('answers a retried batch with its original offset', () => {
    const entry = entryAfter([[0, 9, 100], [10, 19, 110]]);
    // (No timestamps in these entries: a duplicate answers log_append_time_ms -1 then.)
    expect(checkSequence(entry, 0, 0, 9)).toEqual({ kind: 'duplicate', baseOffset: 100, maxTimestamp: -1 });
    expect(checkSequence(entry, 0, 10, 19)).toEqual({ kind: 'duplicate', baseOffset: 110, maxTimestamp: -1 });
  });

  it('remembers only the last five batches', () => {
    const entry = entryAfter([0, 1, 2, 3, 4, 5].map((i) => [i * 10, i * 10 + 9, i * 10] as [number, number, number]));
    expect(entry.batches).toHaveLength(5);
    expect(checkSequence(entry, 0, 0, 9).kind).toBe('error');
    expect(checkSequence(entry, 0, 10, 19).kind).toBe('duplicate');
  });

  it('rejects a gap with OUT_OF_ORDER_SEQUENCE_NUMBER', () => {
    const result = checkSequence(entryAfter([[0, 9, 0]]), 0, 12, 20);
    expect(result).toMatchObject({ kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  });

  it('fences an older epoch and restarts a newer one at sequence 0', () => {
    const entry = entryAfter([[0, 9, 0]], 3);
    expect(checkSequence(entry, 2, 10, 19)).toMatchObject({ kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(checkSequence(entry, 4, 0, 4).kind).toBe('append');
    expect(checkSequence(entry, 4, 5, 9)).toMatchObject({ kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(recordAppend(entry, 4, { firstSeq: 0, lastSeq: 4, baseOffset: 10 }).batches).toEqual([{ firstSeq: 0, lastSeq: 4, baseOffset: 10 }]);
  });

  it('wraps sequences at INT32 max', () => {
    expect(lastSequenceOf(2147483646, 3)).toBe(0);
    const entry = entryAfter([[2147483640, 2147483647, 0]]);
    expect(checkSequence(entry, 0, 0, 4).kind).toBe('append');
  });
});
