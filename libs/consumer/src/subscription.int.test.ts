import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { eventually, uniqueName } from '@shoal/testing';
import { ShoalError } from '@shoal/core';
import { eventOfRow, type OutboxRow } from '@shoal/store';
import {
  consumerTestbed,
  orderPlaced,
  orderShipped,
  poisonHeaders,
  readTopic,
  stockReserved,
} from './testing/consumer-testbed.js';
import { DLQ_HEADERS } from './dead-letter-queue.js';
import type { MessageContext } from '@shoal/transport';
import type { EventHandler, EventHandlers } from './event-handlers.js';
import type { InboxRow } from './inbox-table.js';

const RESERVATIONS = 'CREATE TABLE reservations (order_id TEXT PRIMARY KEY, event_id TEXT NOT NULL)';

describe('subscribe', () => {
  it('commits each handler’s writes, the events it emits and the inbox row together, and skips types without a handler', async () => {
    const bed = await consumerTestbed();
    bed.database.db.exec(RESERVATIONS);
    const placed = [orderPlaced('ord-1'), orderPlaced('ord-2'), orderPlaced('ord-3')];
    const published = await bed.publisher.publishBatch([placed[0]!, orderShipped('ord-1'), placed[1]!, placed[2]!, orderShipped('ord-2')]);
    const contexts: MessageContext[] = [];
    const subscription = bed.subscription({
      handlers: {
        'shoal.orders.OrderPlaced': (event, tx, context) => {
          contexts.push(context);
          tx.db.prepare('INSERT INTO reservations (order_id, event_id) VALUES (?, ?)').run(event.data.orderId, event.id);
          tx.emit(stockReserved(event));
        },
      },
    });
    await subscription.start();
    expect(subscription.status()).toMatchObject({ state: 'running', connected: true, joined: true });

    await eventually(() => expect(subscription.status()).toMatchObject({ handled: 3, skipped: 2 }));
    const status = subscription.status();
    expect(status).toMatchObject({ duplicates: 0, deadLettered: 0, retries: 0, skippedByType: { 'shoal.orders.OrderShipped': 2 }, lastFailure: null });
    expect(status.handlerLatency.count).toBe(3);
    // The slowest of three is at least their mean and at most their sum.
    expect(status.handlerLatency.maxMs).toBeGreaterThanOrEqual(status.handlerLatency.sumMs / status.handlerLatency.count);
    expect(status.handlerLatency.sumMs).toBeGreaterThanOrEqual(status.handlerLatency.maxMs);
    expect(status.partitions.map((p) => `${p.topic}/${p.partition}`)).toEqual(['orders.order/0', 'orders.order/1', 'orders.order/2']);
    await eventually(() => {
      const fetched = subscription.status().partitions.filter((p) => p.lag !== null);
      expect(fetched.length).toBeGreaterThan(0);
      for (const p of fetched) expect(p).toMatchObject({ lag: 0, nextOffset: p.highWatermark });
    });

    const where = new Map(published.map((entry) => [entry.id, entry]));
    for (const context of contexts) expect(context.attempt).toBe(1);
    expect(contexts.map((c) => `${c.key}@${c.partition}/${c.offset}`).sort()).toEqual(
      placed.map((event) => `${event.data.orderId}@${where.get(event.id)!.partition}/${where.get(event.id)!.offset}`).sort(),
    );
    const db = bed.database.db;
    expect(db.prepare('SELECT order_id, event_id FROM reservations ORDER BY order_id').all()).toEqual(placed.map((event) => ({ order_id: event.data.orderId, event_id: event.id })));
    const inbox = db.prepare('SELECT * FROM inbox ORDER BY event_id').all() as InboxRow[];
    expect(inbox.map((row) => row.event_id)).toEqual(placed.map((event) => event.id).sort());
    for (const row of inbox) {
      const at = where.get(row.event_id)!;
      expect(row).toMatchObject({ consumer_group: subscription.group, topic: 'orders.order', partition: at.partition, offset: Number(at.offset), type: 'shoal.orders.OrderPlaced' });
    }
    const emitted = (db.prepare('SELECT * FROM outbox ORDER BY sequence').all() as OutboxRow[]).map(eventOfRow);
    expect(emitted.map((event) => event.type)).toEqual(['shoal.inventory.StockReserved', 'shoal.inventory.StockReserved', 'shoal.inventory.StockReserved']);
    expect(emitted.map((event) => event.causationid).sort()).toEqual(placed.map((event) => event.id).sort());

    await subscription.stop();
    await expect(subscription.whenStopped()).resolves.toBeUndefined();
    expect(subscription.status()).toMatchObject({ state: 'stopped', connected: false, joined: false });
  });

  it('dead-letters poison records with the reason in headers and goes on with the partition', async () => {
    const bed = await consumerTestbed();
    const before = orderPlaced('ord-p', 1);
    const after = orderPlaced('ord-p', 2);
    const [first] = await bed.publisher.publish(before);
    const notAvro = Buffer.from([7, 1, 2, 3, 4, 5, 6, 7]);
    const unknownSchema = Buffer.from([0, 0, 1, 0x86, 0x9f, 2, 4, 6]);
    await bed.producer.send({
      topic: 'orders.order',
      acks: -1,
      messages: [
        { key: 'ord-p', value: notAvro, headers: { ...poisonHeaders('poison-bytes'), trace: 'kept' } },
        { key: 'ord-p', value: unknownSchema, headers: poisonHeaders('poison-schema') },
      ],
    });
    await bed.publisher.publish(after);
    const handled: string[] = [];
    // Dead-lettering alone: without parking, the key's record after the poison ones is handled (parking.int.test.ts parks it).
    const subscription = bed.subscription({ parkByKey: false, handlers: { 'shoal.orders.OrderPlaced': (event) => void handled.push(event.id) } });
    await subscription.start();

    await eventually(() => expect(handled).toEqual([before.id, after.id]));
    expect(subscription.status()).toMatchObject({ handled: 2, deadLettered: 2, retries: 0 });
    expect(subscription.status().lastFailure).toMatchObject({ code: 'SHOAL_SCHEMA_UNKNOWN_ID', topic: 'orders.order', partition: first!.partition });

    const letters = await readTopic(bed.platform, `${subscription.group}.dlq`, 2);
    expect(letters).toHaveLength(2);
    const offset = (n: number) => String(Number(first!.offset) + n);
    expect(letters[0]!.key?.toString()).toBe('ord-p');
    expect(letters[0]!.value).toEqual(notAvro);
    expect(letters[0]!.text).toMatchObject({
      ...poisonHeaders('poison-bytes'),
      trace: 'kept',
      [DLQ_HEADERS.errorCode]: 'SHOAL_EVENT_DECODE',
      [DLQ_HEADERS.errorRetriable]: 'false',
      [DLQ_HEADERS.originalTopic]: 'orders.order',
      [DLQ_HEADERS.originalPartition]: String(first!.partition),
      [DLQ_HEADERS.originalOffset]: offset(1),
      [DLQ_HEADERS.attempts]: '1',
      [DLQ_HEADERS.group]: subscription.group,
    });
    expect(letters[0]!.text[DLQ_HEADERS.errorMessage]).toMatch(/\S/);
    expect(Number(letters[0]!.text[DLQ_HEADERS.originalTimestamp])).toBeGreaterThan(0);
    expect(Number(letters[0]!.text[DLQ_HEADERS.time])).toBeGreaterThanOrEqual(Number(letters[0]!.text[DLQ_HEADERS.originalTimestamp]));
    expect(letters[0]!.text).not.toHaveProperty(DLQ_HEADERS.errorCause);
    expect(letters[1]!.value).toEqual(unknownSchema);
    expect(letters[1]!.text).toMatchObject({ ce_id: 'poison-schema', [DLQ_HEADERS.errorCode]: 'SHOAL_SCHEMA_UNKNOWN_ID', [DLQ_HEADERS.originalOffset]: offset(2), [DLQ_HEADERS.attempts]: '1' });
    const inboxIds = bed.database.db.prepare('SELECT event_id FROM inbox ORDER BY "offset"').pluck().all();
    expect(inboxIds).toEqual([before.id, after.id]);
  });

  it('retries a retriable failure in place, and dead-letters a record whose attempts ran out', async () => {
    const bed = await consumerTestbed();
    const flaky = orderPlaced('ord-r', 2);
    const hopeless = orderPlaced('ord-r', 3);
    const events = [orderPlaced('ord-r', 1), flaky, hopeless, orderPlaced('ord-r', 4)];
    await bed.publisher.publishBatch(events);
    const calls: Array<{ id: string; attempt: number }> = [];
    const subscription = bed.subscription({
      retry: { attempts: 3, initialMs: 5, maxMs: 20 },
      // The last record is of the same key: handled here, it shows the partition went on (with parking it would wait).
      parkByKey: false,
      handlers: {
        'shoal.orders.OrderPlaced': (event, _tx, context) => {
          calls.push({ id: event.id, attempt: context.attempt });
          if (event.id === flaky.id && context.attempt < 3) throw new Error(`flaky, attempt ${context.attempt}`);
          if (event.id === hopeless.id) throw new TypeError('never works');
        },
      },
    });
    await subscription.start();

    await eventually(() => expect(subscription.status()).toMatchObject({ handled: 3, deadLettered: 1 }));
    expect(calls).toEqual([
      { id: events[0]!.id, attempt: 1 },
      { id: flaky.id, attempt: 1 },
      // The run of both was rolled back at flaky's failure, and the record before it applied again.
      { id: events[0]!.id, attempt: 1 },
      { id: flaky.id, attempt: 2 },
      { id: flaky.id, attempt: 3 },
      { id: hopeless.id, attempt: 1 },
      { id: hopeless.id, attempt: 2 },
      { id: hopeless.id, attempt: 3 },
      { id: events[3]!.id, attempt: 1 },
    ]);
    expect(subscription.status()).toMatchObject({ retries: 4, outageRetries: 0, lastFailure: { code: 'SHOAL_HANDLER_FAILED', message: 'never works' } });
    const [letter] = await readTopic(bed.platform, subscription.dlqTopic, 1);
    expect(letter!.text).toMatchObject({
      ce_id: hopeless.id,
      [DLQ_HEADERS.errorCode]: 'SHOAL_HANDLER_FAILED',
      [DLQ_HEADERS.errorMessage]: 'never works',
      [DLQ_HEADERS.errorRetriable]: 'true',
      [DLQ_HEADERS.errorCause]: 'TypeError',
      [DLQ_HEADERS.attempts]: '3',
    });
  });

  it('awaits an asynchronous handler inside the transaction, and leaves nothing of one that throws after writing: no row, no outbox row, no inbox row', async () => {
    const bed = await consumerTestbed();
    bed.database.db.exec(RESERVATIONS);
    const [good, bad, late, last] = [orderPlaced('ord-w', 1), orderPlaced('ord-w', 2), orderPlaced('ord-w', 3), orderPlaced('ord-w', 4)];
    // One batch, so the failing records sit between committed ones in one run of the processor.
    await bed.publisher.publishBatch([good!, bad!, late!, last!]);
    const subscription = bed.subscription({
      parkByKey: false,
      handlers: {
        'shoal.orders.OrderPlaced': async (event, tx) => {
          tx.db.prepare('INSERT INTO reservations (order_id, event_id) VALUES (?, ?)').run(`${event.data.orderId}-${event.data.placedAt}`, event.id);
          if (event.id === bad!.id) throw new ShoalError('SHOAL_HANDLER_FAILED', 'the order cannot be reserved', { retriable: false });
          // A turn of the event loop inside the transaction: what follows is still part of it.
          await nextTurn();
          tx.emit(stockReserved(event));
          if (event.id === late!.id) throw new ShoalError('SHOAL_HANDLER_FAILED', 'failed after an await', { retriable: false });
        },
      },
    });
    await subscription.start();

    await eventually(() => expect(subscription.status()).toMatchObject({ handled: 2, deadLettered: 2 }));
    const db = bed.database.db;
    expect(db.prepare('SELECT event_id FROM reservations ORDER BY order_id').pluck().all()).toEqual([good!.id, last!.id]);
    expect(db.prepare('SELECT event_id FROM inbox ORDER BY "offset"').pluck().all()).toEqual([good!.id, last!.id]);
    const emitted = (db.prepare('SELECT * FROM outbox ORDER BY sequence').all() as OutboxRow[]).map(eventOfRow);
    expect(emitted.map((event) => event.causationid)).toEqual([good!.id, last!.id]);
    const letters = await readTopic(bed.platform, subscription.dlqTopic, 2);
    expect(letters.map((letter) => [letter.text.ce_id, letter.text[DLQ_HEADERS.errorCode], letter.text[DLQ_HEADERS.errorMessage]])).toEqual([
      [bad!.id, 'SHOAL_HANDLER_FAILED', 'the order cannot be reserved'],
      [late!.id, 'SHOAL_HANDLER_FAILED', 'failed after an await'],
    ]);
  });

  it('commits the records before a failure in the middle of a run once each, though their handlers ran twice', async () => {
    const bed = await consumerTestbed();
    bed.database.db.exec('CREATE TABLE counts (event_id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    // One key, one batch: the six records sit on one partition and, after the cold first decode, in one run.
    const events = Array.from({ length: 6 }, (_, n) => orderPlaced('ord-m', n));
    const failing = events[3]!;
    await bed.publisher.publishBatch(events);
    const calls: Array<{ id: string; attempt: number }> = [];
    const subscription = bed.subscription({
      handlers: {
        'shoal.orders.OrderPlaced': (event, tx, context) => {
          calls.push({ id: event.id, attempt: context.attempt });
          tx.db.prepare('INSERT INTO counts (event_id, n) VALUES (?, 1) ON CONFLICT (event_id) DO UPDATE SET n = n + 1').run(event.id);
          tx.emit(stockReserved(event));
          if (event.id === failing.id && context.attempt === 1) throw new Error('not yet');
        },
      },
    });
    await subscription.start();

    await eventually(() => expect(subscription.status()).toMatchObject({ handled: 6 }));
    expect(subscription.status()).toMatchObject({ duplicates: 0, retries: 1, deadLettered: 0 });
    // The run was rolled back at the failure and its first three records applied again: that is the only
    // trace of the first application, which never committed.
    const before = events.slice(0, 3).map((event) => ({ id: event.id, attempt: 1 }));
    expect(calls).toEqual([
      ...before,
      { id: failing.id, attempt: 1 },
      ...before,
      { id: failing.id, attempt: 2 },
      ...events.slice(4).map((event) => ({ id: event.id, attempt: 1 })),
    ]);
    const db = bed.database.db;
    expect(db.prepare('SELECT event_id, n FROM counts ORDER BY rowid').all()).toEqual(events.map((event) => ({ event_id: event.id, n: 1 })));
    expect(db.prepare('SELECT event_id FROM inbox ORDER BY rowid').pluck().all()).toEqual(events.map((event) => event.id));
    const emitted = (db.prepare('SELECT * FROM outbox ORDER BY sequence').all() as OutboxRow[]).map(eventOfRow);
    expect(emitted.map((event) => event.causationid)).toEqual(events.map((event) => event.id));
  });

  it('deals with a failure of its own first when a handler fails again while its run is applied again', async () => {
    const bed = await consumerTestbed();
    bed.database.db.exec('CREATE TABLE counts (event_id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    const events = Array.from({ length: 5 }, (_, n) => orderPlaced('ord-n', n));
    const [, fickle, , failing] = events;
    await bed.publisher.publishBatch(events);
    const calls: string[] = [];
    const subscription = bed.subscription({
      handlers: {
        'shoal.orders.OrderPlaced': (event, tx) => {
          calls.push(event.id);
          tx.db.prepare('INSERT INTO counts (event_id, n) VALUES (?, 1) ON CONFLICT (event_id) DO UPDATE SET n = n + 1').run(event.id);
          const call = calls.filter((id) => id === event.id).length;
          // `failing` fails once; `fickle` ran fine before it, and fails on its second call, the replay.
          if ((event.id === failing!.id && call === 1) || (event.id === fickle!.id && call === 2)) throw new Error(`call ${call} fails`);
        },
      },
    });
    await subscription.start();

    await eventually(() => expect(subscription.status()).toMatchObject({ handled: 5 }));
    // Only fickle's failure counts: failing's first failure belonged to a run that was rolled back, and it is
    // tried afresh once fickle is through.
    expect(subscription.status()).toMatchObject({ retries: 1, deadLettered: 0, lastFailure: { message: 'call 2 fails' } });
    const ids = events.map((event) => event.id);
    expect(calls).toEqual([ids[0], ids[1], ids[2], ids[3], ids[0], ids[1], ids[0], ids[1], ids[2], ids[3], ids[4]]);
    expect(bed.database.db.prepare('SELECT event_id, n FROM counts ORDER BY rowid').all()).toEqual(ids.map((id) => ({ event_id: id, n: 1 })));
    expect(bed.database.db.prepare('SELECT event_id FROM inbox ORDER BY rowid').pluck().all()).toEqual(ids);
  });

  it('runs the handler once per event id: a duplicate publish and a whole redelivery after the group was reset are acknowledged only', async () => {
    const bed = await consumerTestbed();
    bed.database.db.exec('CREATE TABLE counts (event_id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    const twice = orderPlaced('ord-d', 1);
    const once = orderPlaced('ord-d', 2);
    await bed.publisher.publish(twice);
    await bed.publisher.publish(twice);
    await bed.publisher.publish(once);
    const group = uniqueName('group');
    const handlers: EventHandlers = {
      'shoal.orders.OrderPlaced': (event, tx) => {
        tx.db.prepare('INSERT INTO counts (event_id, n) VALUES (?, 1) ON CONFLICT (event_id) DO UPDATE SET n = n + 1').run(event.id);
      },
    };
    const first = bed.subscription({ group, handlers });
    await first.start();
    await eventually(() => expect(first.status()).toMatchObject({ handled: 2, duplicates: 1 }));
    await first.stop();

    const admin = bed.platform.kafka().admin();
    await admin.connect();
    // Deleting the group deletes its committed offsets: the next member starts from the beginning again.
    await admin.deleteGroups([group]);
    await admin.disconnect();
    const again = bed.subscription({ group, handlers });
    await again.start();
    await eventually(() => expect(again.status()).toMatchObject({ duplicates: 3 }));
    expect(again.status().handled).toBe(0);
    expect(bed.database.db.prepare('SELECT event_id, n FROM counts ORDER BY event_id').all()).toEqual(
      [twice, once].map((event) => ({ event_id: event.id, n: 1 })).sort((a, b) => (a.event_id < b.event_id ? -1 : 1)),
    );
  });

  // Asynchronous handlers hold their transaction open across a turn of the event loop while the other
  // partitions' runs queue for the connection: a run interleaved with another would lose rows to its rollback.
  for (const mode of ['synchronous', 'asynchronous'] as const) {
    it(`keeps the order of every key across partitions processed concurrently, retries included (${mode} handlers)`, async () => {
      const bed = await consumerTestbed();
      bed.database.db.exec('CREATE TABLE seen (key TEXT NOT NULL, sequence INTEGER NOT NULL)');
      const keys = Array.from({ length: 24 }, (_, n) => `ord-k${n}`);
      const perKey = 8;
      const events = [];
      for (let sequence = 0; sequence < perKey; sequence++) for (const key of keys) events.push(orderPlaced(key, sequence));
      await bed.publisher.publishBatch(events.slice(0, events.length / 2));
      let calls = 0;
      const handle: EventHandler<'shoal.orders.OrderPlaced'> = (event, tx, context) => {
        tx.db.prepare('INSERT INTO seen (key, sequence) VALUES (?, ?)').run(event.data.orderId, event.data.placedAt);
        calls += 1;
        // Every fifth first try fails after writing: the retry must neither reorder nor double the write.
        if (calls % 5 === 0 && context.attempt === 1) throw new Error('transient');
      };
      const subscription = bed.subscription({
        partitionsInFlight: 3,
        recordsPerTransaction: 7,
        retry: { attempts: 5, initialMs: 1, maxMs: 5 },
        handlers: {
          'shoal.orders.OrderPlaced':
            mode === 'synchronous'
              ? handle
              : async (event, tx, context) => {
                  await nextTurn();
                  await handle(event, tx, context);
                },
        },
      });
      await subscription.start();
      await bed.publisher.publishBatch(events.slice(events.length / 2));

      await eventually(() => expect(subscription.status().handled).toBe(events.length));
      expect(subscription.status().retries).toBeGreaterThan(0);
      const rows = bed.database.db.prepare('SELECT key, sequence FROM seen ORDER BY rowid').all() as Array<{ key: string; sequence: number }>;
      for (const key of keys) {
        expect(rows.filter((row) => row.key === key).map((row) => row.sequence), key).toEqual(Array.from({ length: perKey }, (_, n) => n));
      }
    });
  }

  it('on stop, abandons a record waiting for a retry and commits what it handled: the next member resumes right there', async () => {
    const bed = await consumerTestbed();
    const group = uniqueName('group');
    const handledFirst = [orderPlaced('ord-s', 1), orderPlaced('ord-s', 2)];
    const stuck = orderPlaced('ord-s', 3);
    await bed.publisher.publishBatch([...handledFirst, stuck]);
    const firstCalls: string[] = [];
    const first = bed.subscription({
      group,
      retry: { attempts: 5, initialMs: 600_000, maxMs: 600_000, jitter: 0 },
      handlers: {
        'shoal.orders.OrderPlaced': (event) => {
          firstCalls.push(event.id);
          if (event.id === stuck.id) throw new Error('not now');
        },
      },
    });
    await first.start();
    await eventually(() => expect(first.status().retries).toBe(1));
    await first.stop();
    await expect(first.whenStopped()).resolves.toBeUndefined();
    // The records before stuck were applied again after its failure rolled their run back, and committed then.
    expect(firstCalls).toEqual([...handledFirst.map((event) => event.id), stuck.id, ...handledFirst.map((event) => event.id)]);

    const later = orderPlaced('ord-s', 4);
    await bed.publisher.publish(later);
    const secondCalls: string[] = [];
    const second = bed.subscription({ group, handlers: { 'shoal.orders.OrderPlaced': (event) => void secondCalls.push(event.id) } });
    await second.start();
    await eventually(() => expect(secondCalls).toEqual([stuck.id, later.id]));
    expect(second.status()).toMatchObject({ handled: 2, duplicates: 0 });
  });

  it('stops with the error when it cannot start', async () => {
    const bed = await consumerTestbed();
    await bed.platform.stopBroker();
    const subscription = bed.subscription({
      kafka: bed.platform.kafka({ retry: { retries: 0 } }),
      handlers: { 'shoal.orders.OrderPlaced': () => undefined },
    });
    const failure = await subscription.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    await expect(subscription.whenStopped()).rejects.toBe(failure);
    expect(subscription.status().state).toBe('stopped');
  });
});
