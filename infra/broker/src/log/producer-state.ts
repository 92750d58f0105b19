import { ErrorCode } from '../protocol/error-codes.js';

/**
 * Idempotent-producer bookkeeping for one partition, following Kafka's ProducerStateManager: per producer
 * id the current epoch and the last five batches (first/last sequence and the offset they were given).
 *
 *   - a batch already in the window is a retry: answer success with its original offset, append nothing;
 *   - a newer epoch starts over at sequence 0; an older epoch is fenced (INVALID_PRODUCER_EPOCH);
 *   - otherwise the batch must start right after the last sequence, else OUT_OF_ORDER_SEQUENCE_NUMBER.
 */
export const PRODUCER_WINDOW = 5;
const MAX_SEQUENCE = 2147483647;

export interface SequencedBatch {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  /** The batch's max timestamp, which Kafka answers a duplicate's log_append_time_ms with (absent in state saved before it was kept). */
  maxTimestamp?: number;
}

export interface ProducerEntry {
  epoch: number;
  batches: SequencedBatch[];
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number; maxTimestamp: number }
  | { kind: 'error'; errorCode: number; message: string };

function nextSequence(sequence: number): number {
  return sequence === MAX_SEQUENCE ? 0 : sequence + 1;
}

export function lastSequenceOf(firstSeq: number, recordCount: number): number {
  const last = firstSeq + recordCount - 1;
  return last > MAX_SEQUENCE ? last - MAX_SEQUENCE - 1 : last;
}

export function checkSequence(entry: ProducerEntry | undefined, epoch: number, firstSeq: number, lastSeq: number): SequenceCheck {
  if (entry === undefined || entry.batches.length === 0) {
    // Unknown producer (first write, or its state aged out with the log): Kafka accepts any sequence here.
    return { kind: 'append' };
  }
  if (epoch < entry.epoch) {
    return { kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH, message: `producer epoch ${epoch} is older than the current epoch ${entry.epoch}` };
  }
  if (epoch > entry.epoch) {
    if (firstSeq !== 0) {
      return { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `a new producer epoch ${epoch} must start at sequence 0, got ${firstSeq}` };
    }
    return { kind: 'append' };
  }
  const duplicate = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
  if (duplicate) return { kind: 'duplicate', baseOffset: duplicate.baseOffset, maxTimestamp: duplicate.maxTimestamp ?? -1 };
  const expected = nextSequence(entry.batches[entry.batches.length - 1]!.lastSeq);
  if (firstSeq !== expected) {
    return {
      kind: 'error',
      errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      message: `out of order sequence: expected ${expected}, got ${firstSeq}`,
    };
  }
  return { kind: 'append' };
}

/** The entry after appending a batch (a new object: callers apply it only once the append is committed). */
export function recordAppend(entry: ProducerEntry | undefined, epoch: number, batch: SequencedBatch): ProducerEntry {
  const previous = entry !== undefined && entry.epoch === epoch ? entry.batches : [];
  return { epoch, batches: [...previous, batch].slice(-PRODUCER_WINDOW) };
}
