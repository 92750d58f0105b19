import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { isShoalError } from '@shoal/core';
import { EventCodec, loadSchemaCatalog, RegistryClient } from '@shoal/contract';
import { openDatabase } from './testing/consumer-testbed.js';
import type { EventHandlers } from './event-handlers.js';
import { subscribe, type SubscribeOptions } from './subscription.js';
import { createConsumerTables } from './consumer-tables.js';

// Nothing here connects: a subscription only reaches the broker and the registry in start().
const catalog = loadSchemaCatalog();
const kafka = new Kafka({ brokers: ['127.0.0.1:9'], logLevel: logLevel.NOTHING });
const codec = new EventCodec({ registry: new RegistryClient({ url: 'http://127.0.0.1:9' }), catalog });

function options<H extends EventHandlers>(handlers: H, extra: Partial<SubscribeOptions> = {}): SubscribeOptions<H> {
  const database = openDatabase({ catalog }, join(tempDir('consumer'), 'service.db'));
  return { database, kafka, codec, group: 'inventory', topics: ['orders.order'], handlers: handlers as H & never, ...extra } as SubscribeOptions<H>;
}

function refusal(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    if (isShoalError(error, 'SHOAL_CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error('expected SHOAL_CONFIG_INVALID, the subscription was made');
}

describe('subscribe options', () => {
  it('types each handler’s event by its key and refuses asynchronous handlers at compile time', () => {
    const database = openDatabase({ catalog }, join(tempDir('consumer'), 'service.db'));
    const base = { database, kafka, codec, group: 'inventory', topics: ['orders.order'] };
    const typed = subscribe({
      ...base,
      handlers: {
        'shoal.orders.OrderPlaced': (event, _tx, context) => {
          const units: number = event.data.lines.reduce((sum, line) => sum + line.quantity, 0);
          void units;
          void context.attempt;
        },
        'shoal.payments.PaymentDeclined': (event) => void event.data.orderId,
      },
    });
    expect(typed.dlqTopic).toBe('inventory.dlq');
    // An async handler: what it awaits runs inside the transaction.
    expect(subscribe({ ...base, group: 'asynchronous', handlers: { 'shoal.orders.OrderPlaced': async (event) => void event.id } }).group).toBe('asynchronous');
    // @ts-expect-error OrderPlaced has no paymentId
    subscribe({ ...base, group: 'mistyped', handlers: { 'shoal.orders.OrderPlaced': (event) => void event.data.paymentId } });
    expect(() => subscribe({ ...base, handlers: { 'shoal.orders.OrderPlaced': () => undefined }, dlqTopic: 'inventory.failures' }).dlqTopic).not.toThrow();
  });

  it('refuses handlers the catalog cannot type, no handlers, no topics, its own DLQ as a topic and impossible retry settings', () => {
    expect(refusal(() => subscribe(options({ 'tools.Ping': () => undefined } as EventHandlers)))).toMatch(/handles tools\.Ping, which the codec's schema catalog does not know/);
    expect(refusal(() => subscribe(options({})))).toMatch(/no handlers/);
    const handlers = { 'shoal.orders.OrderPlaced': () => undefined };
    expect(refusal(() => subscribe(options(handlers, { topics: [] })))).toMatch(/no topics/);
    expect(refusal(() => subscribe(options(handlers, { topics: ['orders.order', 'inventory.dlq'] })))).toMatch(/its own dead-letter topic inventory\.dlq/);
    expect(refusal(() => subscribe(options(handlers, { retry: { attempts: 0 } })))).toMatch(/retry\.attempts must be a whole number >= 1/);
    expect(refusal(() => subscribe(options(handlers, { recordsPerTransaction: 0.5 })))).toMatch(/recordsPerTransaction/);
  });

  it('prunes inbox rows older than the retention window on demand', async () => {
    let clock = 1_000_000;
    const made = options({ 'shoal.orders.OrderPlaced': () => undefined }, { inboxRetentionMs: 1000, inboxPruneChunk: 2, now: () => clock });
    const subscription = subscribe(made);
    // The subscription creates its tables when it starts (or prunes); this test writes rows first.
    await createConsumerTables(made.database);
    const insert = made.database.db.prepare(`INSERT INTO inbox (consumer_group, event_id, topic, "partition", "offset", type, processed_at) VALUES (?, ?, 'orders.order', 0, 0, 'shoal.orders.OrderPlaced', ?)`);
    for (const [id, at] of [['old-1', 998_000], ['old-2', 998_999], ['old-3', 998_500], ['kept', 999_000]] as const) insert.run('inventory', id, at);
    insert.run('payments', 'old-elsewhere', 1);
    expect(await subscription.pruneInbox()).toBe(3);
    expect(made.database.db.prepare('SELECT event_id FROM inbox ORDER BY event_id').pluck().all()).toEqual(['kept', 'old-elsewhere']);
    clock += 1;
    expect(await subscription.pruneInbox()).toBe(1);
  });

  it('starts once', async () => {
    const subscription = subscribe(options({ 'shoal.orders.OrderPlaced': () => undefined }));
    await subscription.stop();
    await expect(subscription.whenStopped()).resolves.toBeUndefined();
    await expect(subscription.start()).rejects.toMatchObject({ code: 'SHOAL_CONFIG_INVALID', message: expect.stringMatching(/already started/) });
  });
});
