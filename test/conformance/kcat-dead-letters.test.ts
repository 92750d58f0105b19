/**
 * Dead letters as a client nobody here wrote sees them: kcat (librdkafka) reads `<group>.dlq` and finds the
 * original record byte for byte (key, Confluent-framed value, every ce_* header) plus the dlq.* headers
 * that say why, from where and after how many attempts. Operators inspect dead letters with such tools, so
 * the headers must be plain, readable Kafka headers and not something only Shoal can decode.
 */
import { eventually, tempDir, uniqueName } from '@shoal/testing';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ShoalError } from '@shoal/core';
import { subscribe } from '@shoal/consumer';
import { createEvent } from '@shoal/contract';
import { Publisher } from '@shoal/transport';
import { startTestPlatform } from '@shoal/contract/testing';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { KCAT, kcatMissingReason, processReport, runProcess } from './client-processes.js';

const missing = kcatMissingReason();
if (missing) console.warn(`skipping the kcat dead-letter test: ${missing}`);

describe.skipIf(missing !== null)('dead letters read by kcat', () => {
  it('carry the original key, value and ce_* headers plus the dlq.* reason headers', async () => {
    const platform = await startTestPlatform();
    const database = new SqliteServiceDatabase({ path: join(tempDir('dlq-kcat'), 'payments.db'), catalog: platform.catalog });
    onTestFinished(() => database.close());
    const group = uniqueName('payments');
    const subscription = subscribe({
      database,
      kafka: platform.kafka(),
      codec: platform.codec,
      group,
      topics: ['orders.order'],
      fromBeginning: true,
      handlers: {
        'shoal.orders.OrderCancelled': (event): void => {
          throw new ShoalError('SHOAL_EVENT_DATA_INVALID', `order ${event.data.orderId} was never placed here`, { retriable: false });
        },
      },
    });
    onTestFinished(() => subscription.stop());
    await subscription.start();

    const publisher = new Publisher({ kafka: platform.kafka(), codec: platform.codec });
    await publisher.connect();
    onTestFinished(() => publisher.disconnect());
    const cancelled = createEvent(
      'shoal.orders.OrderCancelled',
      { orderId: 'o-13', customerId: 'c-1', reason: 'CUSTOMER_REQUEST', detail: 'changed my mind', cancelledAt: 1_767_225_600_000 },
      { source: '/shoal/orders', subject: 'o-13' },
    );
    const [placed] = await publisher.publish(cancelled);
    await eventually(() => subscription.status().deadLettered === 1, () => `one record dead-lettered: ${JSON.stringify(subscription.status())}`);

    const consumed = await runProcess(KCAT, ['-b', platform.bootstrap, '-t', `${group}.dlq`, '-C', '-J', '-e', '-o', 'beginning', '-q'], { timeoutMs: 20_000 });
    expect(consumed.code, processReport(consumed)).toBe(0);
    const records = consumed.stdout.toString('utf8').trim().split('\n').map((line) => JSON.parse(line) as { key: string; headers: string[]; payload: string });
    expect(records).toHaveLength(1);
    const [record] = records;
    const headers = Object.fromEntries(Array.from({ length: record!.headers.length / 2 }, (_, i) => [record!.headers[2 * i], record!.headers[2 * i + 1]]));
    expect(record!.key).toBe('o-13');
    expect(record!.payload.charCodeAt(0)).toBe(0);
    expect(headers).toMatchObject({
      ce_id: cancelled.id,
      ce_type: 'shoal.orders.OrderCancelled',
      'content-type': 'application/avro',
      'dlq.error.code': 'SHOAL_EVENT_DATA_INVALID',
      'dlq.error.message': 'order o-13 was never placed here',
      'dlq.error.retriable': 'false',
      'dlq.original.topic': 'orders.order',
      'dlq.original.partition': String(placed!.partition),
      'dlq.original.offset': placed!.offset,
      'dlq.attempts': '1',
      'dlq.group': group,
    });
    expect(Number(headers['dlq.time'])).toBeGreaterThan(0);
  });
});
