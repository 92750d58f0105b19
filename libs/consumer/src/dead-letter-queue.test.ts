import type { IHeaders, KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ShoalError } from '@shoal/core';
import { DLQ_HEADERS, deadLetterMessage, type DeadLetter } from './dead-letter-queue.js';

function letter(error: ShoalError, headers: IHeaders = { ce_id: Buffer.from('evt-1'), ce_type: Buffer.from('shoal.orders.OrderPlaced') }): DeadLetter {
  const message: KafkaMessage = { key: Buffer.from('ord-1'), value: Buffer.from([0, 0, 0, 0, 1, 2]), timestamp: '1767225600000', attributes: 0, offset: '17', headers };
  return { group: 'inventory', topic: 'orders.order', partition: 2, message, error, attempts: 5, time: 1767225601234 };
}

describe('deadLetterMessage', () => {
  it('is the original record, key, value and headers untouched, plus what happened', () => {
    const original = letter(new ShoalError('SHOAL_EVENT_DECODE', 'not Avro'));
    const message = deadLetterMessage(original);
    expect(message.key).toBe(original.message.key);
    expect(message.value).toBe(original.message.value);
    expect(message.headers).toEqual({
      ce_id: Buffer.from('evt-1'),
      ce_type: Buffer.from('shoal.orders.OrderPlaced'),
      [DLQ_HEADERS.errorCode]: 'SHOAL_EVENT_DECODE',
      [DLQ_HEADERS.errorMessage]: 'not Avro',
      [DLQ_HEADERS.errorRetriable]: 'false',
      [DLQ_HEADERS.originalTopic]: 'orders.order',
      [DLQ_HEADERS.originalPartition]: '2',
      [DLQ_HEADERS.originalOffset]: '17',
      [DLQ_HEADERS.originalTimestamp]: '1767225600000',
      [DLQ_HEADERS.attempts]: '5',
      [DLQ_HEADERS.group]: 'inventory',
      [DLQ_HEADERS.time]: '1767225601234',
    });
  });

  it('names the class and code of the error a handler threw, and replaces headers of an earlier dead-lettering', () => {
    const cause = Object.assign(new Error('UNIQUE constraint failed'), { name: 'SqliteError', code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    const failed = new ShoalError('SHOAL_HANDLER_FAILED', cause.message, { cause, retriable: true });
    const message = deadLetterMessage(letter(failed, { [DLQ_HEADERS.errorCause]: 'TypeError', [DLQ_HEADERS.attempts]: '1' }));
    expect(message.headers).toMatchObject({ [DLQ_HEADERS.errorCause]: 'SqliteError SQLITE_CONSTRAINT_PRIMARYKEY', [DLQ_HEADERS.attempts]: '5', [DLQ_HEADERS.errorRetriable]: 'true' });
    const again = deadLetterMessage(letter(new ShoalError('SHOAL_EVENT_DECODE', 'bad'), { [DLQ_HEADERS.errorCause]: 'TypeError' }));
    expect(again.headers).not.toHaveProperty(DLQ_HEADERS.errorCause);
  });

  it('cuts a long error message to 4 KiB', () => {
    const message = deadLetterMessage(letter(new ShoalError('SHOAL_EVENT_DATA_INVALID', 'x'.repeat(10_000))));
    const text = message.headers?.[DLQ_HEADERS.errorMessage] as string;
    expect(text).toHaveLength(4096);
    expect(text.endsWith('…')).toBe(true);
  });
});
