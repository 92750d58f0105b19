/**
 * Optimistic concurrency of a stream (the EventStoreDB and emmett vocabulary). A writer states what it
 * believes the stream's version is; the append fails with a ConcurrencyError when the stream moved on since,
 * instead of interleaving two decisions taken on the same state.
 *
 *   a number n        the stream has exactly n events (0: it does not exist yet)
 *   'no_stream'       the stream has no events; the same as 0
 *   'stream_exists'   the stream has at least one event
 *   'any'             no check
 *
 * Versions count events: the first event of a stream has version 1, so a stream's version is its length and
 * 0 means "no stream", with no separate -1.
 */
import { ShoalError } from '@shoal/core';

export type ExpectedVersion = number | 'no_stream' | 'stream_exists' | 'any';

/** The version of a stream without events. */
export const NO_STREAM_VERSION = 0;

/**
 * Another writer appended to the stream between the caller's read and its append. Retriable: reading the
 * stream again and deciding again is the cure (handleCommand does it).
 */
export class ConcurrencyError extends ShoalError {
  readonly streamId: string;
  readonly expected: ExpectedVersion;
  readonly actual: number;

  constructor(streamId: string, expected: ExpectedVersion, actual: number) {
    super('SHOAL_CONCURRENCY_CONFLICT', `Stream ${streamId} is at version ${actual}, the writer expected ${describeExpected(expected)}`, {
      retriable: true,
      details: { streamId, expected, actual },
    });
    this.name = 'ConcurrencyError';
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
  }
}

export function matchesExpected(expected: ExpectedVersion, actual: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === NO_STREAM_VERSION;
    case 'stream_exists':
      return actual > NO_STREAM_VERSION;
    default:
      return actual === expected;
  }
}

/** Refuses a number that no stream can have (e.g. EventStoreDB's -1 for "no stream"), before anything is written. */
export function checkExpectedVersion(expected: ExpectedVersion): void {
  if (typeof expected === 'number' && !(Number.isSafeInteger(expected) && expected >= NO_STREAM_VERSION)) {
    throw new ShoalError('SHOAL_HANDLER_INVALID', `Expected version ${expected} is not a stream version: use a count of events (0 for no stream), 'no_stream', 'stream_exists' or 'any'`, {
      details: { expected },
    });
  }
}

function describeExpected(expected: ExpectedVersion): string {
  switch (expected) {
    case 'any':
      return 'any version';
    case 'no_stream':
      return 'no stream';
    case 'stream_exists':
      return 'an existing stream';
    default:
      return `version ${expected}`;
  }
}
