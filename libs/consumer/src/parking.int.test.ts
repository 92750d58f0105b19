import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually, tempDir } from '@shoal/testing';
import { ShoalError } from '@shoal/core';
import type { ShoalEvent } from '@shoal/contract';
import { afterValue, type ServiceDatabase, type SqlDialect } from '@shoal/store';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { storeAdapters } from '@shoal/store-postgres/testing';
import { consumerTestbed, consumerTestbedOn, orderPlaced, parkingTraffic, poisonHeaders, readTopic, type ConsumerTestbed } from './testing/index.js';
import { DLQ_HEADERS } from './dead-letter-queue.js';
import type { Subscription } from './subscription.js';

const BAD = 'ord-bad';
const HANDLED: Record<SqlDialect, string> = {
  sqlite: 'CREATE TABLE handled (n INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, sequence INTEGER NOT NULL, event_id TEXT NOT NULL)',
  postgres: 'CREATE TABLE handled (n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id TEXT NOT NULL, sequence INTEGER NOT NULL, event_id TEXT NOT NULL)',
};

type Bed = ConsumerTestbed<ServiceDatabase>;

/** The orders handled, in the order their handlers committed. */
async function handledRows(bed: Bed, orderId?: string): Promise<Array<{ order_id: string; sequence: number; event_id: string }>> {
  const where = orderId === undefined ? '' : 'WHERE order_id = ?';
  return bed.database.sql.all(`SELECT order_id, sequence, event_id FROM handled ${where} ORDER BY n`, orderId === undefined ? [] : [orderId]);
}

async function createHandled(bed: Bed): Promise<void> {
  await bed.database.sql.run(HANDLED[bed.database.sql.dialect]);
}

/** A subscription whose handler records every OrderPlaced, and fails (poison) for `failing(event)`: the flag the test clears after the fix. */
async function recordingSubscription(bed: Bed, failing: (event: ShoalEvent<'shoal.orders.OrderPlaced'>) => boolean, options: { awaits?: boolean } = {}): Promise<Subscription> {
  await createHandled(bed);
  const record = (event: ShoalEvent<'shoal.orders.OrderPlaced'>, tx: Parameters<NonNullable<Parameters<Bed['subscription']>[0]['handlers']['shoal.orders.OrderPlaced']>>[1]) =>
    afterValue(tx.sql.run('INSERT INTO handled (order_id, sequence, event_id) VALUES (?, ?, ?)', [event.data.orderId, event.data.placedAt, event.id]), () => {
      if (failing(event)) throw new ShoalError('SHOAL_EVENT_DATA_INVALID', `order ${event.data.orderId} #${event.data.placedAt} cannot be handled yet`);
    });
  return bed.subscription({
    handlers: {
      // An asynchronous handler gives up the event loop inside its transaction before it writes.
      'shoal.orders.OrderPlaced': options.awaits === true ? (event, tx) => new Promise<void>((resolve) => setImmediate(resolve)).then(() => record(event, tx)) : (event, tx) => record(event, tx),
    },
  });
}

/** The bad order's first event (it fails), then its later events among 200 events of other orders. */
async function publishTraffic(bed: Bed, later = 5): Promise<{ bad: ShoalEvent<'shoal.orders.OrderPlaced'>[]; others: ShoalEvent<'shoal.orders.OrderPlaced'>[] }> {
  const { keyed, others, all } = parkingTraffic(BAD, later);
  await bed.publisher.publishBatch(all);
  return { bad: keyed, others };
}

describe.each(storeAdapters)('parking by key on $name', (adapter) => {
  const testbed = (): Promise<Bed> => consumerTestbedOn(adapter.open);

  it.skipIf(adapter.missing !== undefined)('parks the later records of a key behind its dead letter while other keys flow, and redrives them once each, in order, after the fix', async () => {
    const bed = await testbed();
    let broken = true;
    const subscription = await recordingSubscription(bed, (event) => broken && event.data.orderId === BAD);
    const { bad, others } = await publishTraffic(bed);
    await subscription.start();

    await eventually(() => expect(subscription.status()).toMatchObject({ handled: 200, deadLettered: 1, parked: 5, parking: { deadLetters: 1, parked: 5 } }));
    expect((await handledRows(bed)).filter((row) => row.order_id !== BAD).map((row) => row.event_id).sort()).toEqual(others.map((event) => event.id).sort());
    // The failing handler's write was rolled back; nothing of the parked records ran.
    expect((await handledRows(bed, BAD))).toEqual([]);
    // The partition moved past the parked records.
    await eventually(() => {
      for (const p of subscription.status().partitions) if (p.highWatermark !== null) expect(p).toMatchObject({ lag: 0, nextOffset: p.highWatermark });
    });

    const [letter] = await readTopic(bed.platform, subscription.dlqTopic, 1);
    expect(letter!.text).toMatchObject({ ce_id: bad[0]!.id, [DLQ_HEADERS.errorCode]: 'SHOAL_EVENT_DATA_INVALID', [DLQ_HEADERS.attempts]: '1' });
    const [listed, ...more] = (await subscription.deadLetterList());
    expect(more).toEqual([]);
    expect(listed).toMatchObject({
      key: BAD,
      topic: 'orders.order',
      offset: letter!.text[DLQ_HEADERS.originalOffset],
      eventId: bad[0]!.id,
      type: 'shoal.orders.OrderPlaced',
      reason: { code: 'SHOAL_EVENT_DATA_INVALID', message: `order ${BAD} #0 cannot be handled yet`, kind: 'poison', attempts: 1 },
    });
    expect(new Date(listed!.failedAt).getTime()).toBeGreaterThan(0);
    expect(listed!.parked.map((record) => record.eventId)).toEqual(bad.slice(1).map((event) => event.id));
    const offsets = listed!.parked.map((record) => BigInt(record.offset));
    expect([...offsets].sort((a, b) => (a < b ? -1 : 1))).toEqual(offsets);

    broken = false;
    expect(await subscription.redrive(BAD)).toEqual({ group: subscription.group, key: BAD, handled: 6, stillParked: 0 });
    expect((await handledRows(bed, BAD)).map((row) => row.event_id)).toEqual(bad.map((event) => event.id));
    expect(subscription.status()).toMatchObject({ handled: 206, parking: { deadLetters: 0, parked: 0 } });
    expect((await subscription.deadLetterList())).toEqual([]);
    expect(await subscription.redrive(BAD)).toBeUndefined();

    // Unblocked: the key's next record is handled at once, and the inbox keeps a redriven event from running twice.
    const next = orderPlaced(BAD, 6);
    await bed.publisher.publishBatch([bad[3]!, next]);
    await eventually(() => expect(subscription.status()).toMatchObject({ handled: 207, duplicates: 1, parked: 5 }));
    expect((await handledRows(bed, BAD)).map((row) => row.sequence)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it.skipIf(adapter.missing !== undefined)('keeps what fails again parked: the record that fails is the dead letter then, published; skip drops it and releases the rest', async () => {
    const bed = await testbed();
    let failing = new Set([0]);
    const subscription = await recordingSubscription(bed, (event) => event.data.orderId === BAD && failing.has(event.data.placedAt));
    const { bad } = await publishTraffic(bed);
    await subscription.start();
    await eventually(() => expect(subscription.status()).toMatchObject({ handled: 200, parking: { deadLetters: 1, parked: 5 } }));

    // Not fixed yet: the dead letter fails again and everything stays.
    const again = await subscription.redrive(BAD);
    expect(again).toEqual({ group: subscription.group, key: BAD, handled: 0, stillParked: 5, error: { code: 'SHOAL_EVENT_DATA_INVALID', message: `order ${BAD} #0 cannot be handled yet` } });
    expect((await subscription.deadLetterList())[0]).toMatchObject({ eventId: bad[0]!.id, reason: { attempts: 2 } });

    // Half fixed: #0 to #2 go through, #3 fails and becomes the dead letter, #4 and #5 wait behind it.
    failing = new Set([3]);
    expect(await subscription.redrive(BAD)).toEqual({ group: subscription.group, key: BAD, handled: 3, stillParked: 2, error: { code: 'SHOAL_EVENT_DATA_INVALID', message: `order ${BAD} #3 cannot be handled yet` } });
    const [letter] = (await subscription.deadLetterList());
    expect(letter).toMatchObject({ eventId: bad[3]!.id, reason: { kind: 'poison', attempts: 1 } });
    expect(letter!.parked.map((record) => record.eventId)).toEqual([bad[4]!.id, bad[5]!.id]);
    // It had only been parked: now that it failed for good it is in the dead-letter topic too.
    const letters = await readTopic(bed.platform, subscription.dlqTopic, 2);
    expect(letters.map((record) => record.text.ce_id)).toEqual([bad[0]!.id, bad[3]!.id]);
    expect(letters[1]!.text).toMatchObject({ [DLQ_HEADERS.errorCode]: 'SHOAL_EVENT_DATA_INVALID', [DLQ_HEADERS.originalOffset]: letter!.offset });

    expect(await subscription.skip(BAD)).toEqual({ group: subscription.group, key: BAD, skipped: bad[3]!.id, handled: 2, stillParked: 0 });
    expect((await handledRows(bed, BAD)).map((row) => row.sequence)).toEqual([0, 1, 2, 4, 5]);
    expect(subscription.status().parking).toEqual({ deadLetters: 0, parked: 0 });
    expect(await subscription.skip(BAD)).toBeUndefined();
  });

  it.skipIf(adapter.missing !== undefined)('parks behind a record that cannot be decoded, and a record that fails while its key is blocked waits behind the first', async () => {
    const bed = await testbed();
    const subscription = await recordingSubscription(bed, (event) => event.data.placedAt === 2);
    const first = orderPlaced(BAD, 1);
    const failsLater = orderPlaced(BAD, 2);
    const last = orderPlaced(BAD, 3);
    await bed.producer.send({ topic: 'orders.order', acks: -1, messages: [{ key: BAD, value: Buffer.from([7, 1, 2, 3, 4, 5, 6, 7]), headers: poisonHeaders('not-avro') }] });
    await bed.publisher.publishBatch([first, failsLater, last]);
    await subscription.start();
    await eventually(() => expect(subscription.status()).toMatchObject({ deadLettered: 1, parked: 3 }));
    const [letter] = (await subscription.deadLetterList());
    expect(letter).toMatchObject({ eventId: 'not-avro', type: 'shoal.orders.OrderPlaced', reason: { kind: 'poison' } });
    expect(letter!.parked.map((record) => record.eventId)).toEqual([first.id, failsLater.id, last.id]);

    // Skipping the undecodable record releases #1, then #2 fails (published now) and #3 stays behind it.
    expect(await subscription.skip(BAD)).toEqual({
      group: subscription.group,
      key: BAD,
      skipped: 'not-avro',
      handled: 1,
      stillParked: 1,
      error: { code: 'SHOAL_EVENT_DATA_INVALID', message: `order ${BAD} #2 cannot be handled yet` },
    });
    expect((await handledRows(bed, BAD)).map((row) => row.sequence)).toEqual([1]);
    expect((await readTopic(bed.platform, subscription.dlqTopic, 2)).map((record) => record.text.ce_id)).toEqual(['not-avro', failsLater.id]);
  });

  it.skipIf(adapter.missing !== undefined).each([
    ['synchronous', false],
    ['asynchronous', true],
  ])('keeps the order of a key whose records arrive while it is redriven (%s handler)', async (_kind, awaits) => {
    const bed = await testbed();
    let broken = true;
    const subscription = await recordingSubscription(bed, (event) => broken && event.data.orderId === BAD, { awaits });
    const { bad } = await publishTraffic(bed, 20);
    await subscription.start();
    await eventually(() => expect(subscription.status().parking).toEqual({ deadLetters: 1, parked: 20 }));

    broken = false;
    const arriving = Array.from({ length: 60 }, (_, n) => orderPlaced(BAD, 21 + n));
    const publishing = (async () => {
      for (let n = 0; n < arriving.length; n += 10) await bed.publisher.publishBatch(arriving.slice(n, n + 10));
    })();
    const [redriven] = await Promise.all([subscription.redrive(BAD), publishing]);
    expect(redriven).toMatchObject({ key: BAD, stillParked: 0 });
    expect(redriven!.handled).toBeGreaterThanOrEqual(21);
    await eventually(async () => expect(await handledRows(bed, BAD)).toHaveLength(81));
    expect((await handledRows(bed, BAD)).map((row) => row.event_id)).toEqual([...bad, ...arriving].map((event) => event.id));
    // Anything parked while the redrive ran was redriven by it: nothing is left behind.
    expect(subscription.status().parking).toEqual({ deadLetters: 0, parked: 0 });
  });

  it.skipIf(adapter.missing !== undefined)('dead-letters only, without parking, when the subscription says so', async () => {
    const bed = await testbed();
    await createHandled(bed);
    const handled: number[] = [];
    const subscription = bed.subscription({
      parkByKey: false,
      handlers: {
        'shoal.orders.OrderPlaced': (event): void => {
          if (event.data.placedAt === 1) throw new ShoalError('SHOAL_EVENT_DATA_INVALID', 'no');
          handled.push(event.data.placedAt);
        },
      },
    });
    await bed.publisher.publishBatch([orderPlaced(BAD, 1), orderPlaced(BAD, 2)]);
    await subscription.start();
    await eventually(() => expect(handled).toEqual([2]));
    expect(subscription.status()).toMatchObject({ deadLettered: 1, parked: 0, parking: { deadLetters: 0, parked: 0 } });
    expect((await subscription.deadLetterList())).toEqual([]);
    expect(await subscription.redrive(BAD)).toBeUndefined();
  });
});

describe('parking by key on SQLite', () => {
  it('never parks or dead-letters while the database is busy: another connection holding the write lock is waited out', async () => {
    const bed = await consumerTestbed();
    const database = new SqliteServiceDatabase({ path: join(tempDir('busy'), 'service.db'), catalog: bed.platform.catalog, busyTimeoutMs: 20 });
    onTestFinished(() => database.close());
    const blocker = new Database(database.path);
    onTestFinished(() => {
      blocker.close();
    });
    const handled: string[] = [];
    const subscription = bed.subscription({ database, retry: { attempts: 2, initialMs: 5, maxMs: 20 }, handlers: { 'shoal.orders.OrderPlaced': (event) => void handled.push(event.id) } });
    const events = [orderPlaced(BAD, 1), orderPlaced(BAD, 2), orderPlaced('ord-2', 3)];
    await subscription.start();
    blocker.exec('BEGIN IMMEDIATE');
    await bed.publisher.publishBatch(events);

    await eventually(() => expect(subscription.status().outageRetries).toBeGreaterThan(6));
    expect(subscription.status()).toMatchObject({ handled: 0, deadLettered: 0, parked: 0, retries: 0, parking: { deadLetters: 0, parked: 0 } });

    blocker.exec('COMMIT');
    await eventually(() => expect(handled.sort()).toEqual(events.map((event) => event.id).sort()));
    expect(subscription.status()).toMatchObject({ deadLettered: 0, parked: 0, parking: { deadLetters: 0, parked: 0 } });
  });
});
