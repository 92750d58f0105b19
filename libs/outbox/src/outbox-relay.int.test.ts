import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isShoalError, ShoalError } from '@shoal/core';
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { eventually, freePort, recordingLogger, recordsOnTopics, seededRandom, tempDir } from '@shoal/testing';
import { EventCodec, loadSchemaCatalog, registerCatalog, RegistryClient, type ShoalEvent } from '@shoal/contract';
import { startTestPlatform, type TestPlatform } from '@shoal/contract/testing';
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
import { outboxBacklog } from '@shoal/store-sqlite';
import { catalogWithNewField, collectEvents, idsByAggregate, plainEvent, type ReceivedEvent } from './testing/relay-checks.js';
import { eventTypes, sampleEvent } from '@shoal/contract/testing';
import { openTestDatabase } from '@shoal/store-sqlite/testing';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';

type Committed = Pick<ReceivedEvent, 'topic' | 'key' | 'event'>;

function topicsOf(platform: TestPlatform): string[] {
  return [...platform.catalog.topics.keys()];
}

/** A started relay, stopped when the test ends (before its database closes). */
function startRelay(platform: TestPlatform, database: SqliteServiceDatabase, options: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  const relay = new OutboxRelay({
    database,
    kafka: platform.kafka(),
    codec: new EventCodec({ registry: platform.registry, catalog: platform.catalog }),
    backoff: { initialMs: 5, maxMs: 50 },
    pollIntervalMs: 20,
    ...options,
  });
  relay.start();
  onTestFinished(() => relay.stop());
  return relay;
}

async function emit(database: SqliteServiceDatabase, committed: Committed[], events: readonly ShoalEvent[]): Promise<void> {
  await database.transact((tx) => {
    for (const event of events) tx.emit(event);
  });
  for (const event of events) committed.push({ topic: database.catalog.event(event.type).topic, key: event.subject, event });
}

/** The outbox rows in commit order, each with whether the relay's position is past it. */
function rows(database: SqliteServiceDatabase): Array<{ id: string; published: boolean }> {
  const { publishedThrough } = outboxBacklog(database.db);
  const all = database.db.prepare('SELECT sequence, id FROM outbox ORDER BY sequence').all() as Array<{ sequence: number; id: string }>;
  return all.map((row) => ({ id: row.id, published: row.sequence <= publishedThrough }));
}

function positionUpdatedAt(database: SqliteServiceDatabase): number {
  return database.db.prepare('SELECT updated_at FROM outbox_relay').pluck().get() as number;
}

class RolledBack extends Error {}

describe('OutboxRelay', () => {
  it('publishes exactly the events of committed transactions, in commit order per aggregate, none of rolled back ones', async () => {
    const random = seededRandom();
    const platform = await startTestPlatform();
    const database = openTestDatabase(platform.catalog);
    database.db.exec('CREATE TABLE aggregates (id TEXT PRIMARY KEY, version INTEGER NOT NULL)');
    const bump = database.db.prepare('INSERT INTO aggregates (id, version) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET version = version + 1');
    const received = await collectEvents(platform.kafka(), platform.codec, topicsOf(platform));
    const relay = startRelay(platform, database, { batchSize: 50 });

    const committed: Committed[] = [];
    const discarded = new Set<string>();
    let versions = 0;
    for (let t = 0; t < 1000; t++) {
      const emitted: Committed[] = [];
      try {
        await database.transact(async (tx) => {
          for (let i = 1 + random.int(0, 2); i > 0; i--) {
            const aggregate = `agg-${random.int(0, 11)}`;
            const event = sampleEvent(random.pick(eventTypes), aggregate, t);
            tx.emit(event);
            bump.run(aggregate);
            emitted.push({ topic: platform.catalog.event(event.type).topic, key: aggregate, event });
          }
          if (random.chance(0.1)) {
            // A savepoint that fails alone: its event is discarded, the outer transaction goes on.
            const inner = sampleEvent(random.pick(eventTypes), `agg-${random.int(0, 11)}`, t);
            try {
              await tx.transact((nested) => {
                nested.emit(inner);
                throw new RolledBack();
              });
            } catch (error) {
              if (!(error instanceof RolledBack)) throw error;
              discarded.add(inner.id);
            }
          }
          if (random.chance(0.25)) throw new RolledBack();
        });
        committed.push(...emitted);
        versions += emitted.length;
      } catch (error) {
        if (!(error instanceof RolledBack)) throw error;
        for (const { event } of emitted) discarded.add(event.id);
      }
      // Let the relay publish while transactions keep committing.
      if (t % 25 === 0) await nextTurn();
    }

    await relay.flush();
    await eventually(() => received.length >= committed.length, `${committed.length} events`);
    expect(await recordsOnTopics(platform.kafka(), topicsOf(platform))).toBe(committed.length);
    expect(idsByAggregate(received)).toEqual(idsByAggregate(committed));
    expect(received.filter(({ event }) => discarded.has(event.id))).toEqual([]);
    expect(discarded.size).toBeGreaterThan(0);
    // The state changes committed with exactly the events that were published.
    expect((database.db.prepare('SELECT SUM(version) AS total FROM aggregates').get() as { total: number }).total).toBe(versions);
    const byId = new Map(committed.map(({ event }) => [event.id, event]));
    for (const { event } of received) expect(plainEvent(event)).toEqual(plainEvent(byId.get(event.id)!));
    expect((await relay.status())).toMatchObject({ state: 'running', backlog: 0, published: committed.length, consecutiveFailures: 0, lastError: undefined });
    expect(rows(database).every((row) => row.published)).toBe(true);
  });

  it('publishes the events before one it cannot encode, retries that one with backoff, and resumes in order once it can', async () => {
    const platform = await startTestPlatform();
    const database = openTestDatabase(platform.catalog);
    // The relay writes with a newer catalog whose OrderShipped schema is not registered yet.
    const newer = catalogWithNewField('orders/OrderShipped.avsc');
    const logger = recordingLogger();
    const received = await collectEvents(platform.kafka(), platform.codec, topicsOf(platform));
    const committed: Committed[] = [];
    const before = sampleEvent('shoal.orders.OrderPlaced', 'ord-a');
    const blocked = sampleEvent('shoal.orders.OrderShipped', 'ord-a');
    const behind = sampleEvent('shoal.orders.OrderPlaced', 'ord-b');
    await emit(database, committed, [before, blocked]);
    await emit(database, committed, [behind]);
    const relay = startRelay(platform, database, { codec: new EventCodec({ registry: platform.registry, catalog: newer }), logger });

    await eventually(async () => (await relay.status()).consecutiveFailures >= 3, 'three failed attempts');
    expect((await relay.status())).toMatchObject({ backlog: 2, published: 1, lastError: { code: 'SHOAL_SCHEMA_NOT_REGISTERED', eventId: blocked.id, retriable: false } });
    expect(rows(database)).toEqual([
      { id: before.id, published: true },
      { id: blocked.id, published: false },
      { id: behind.id, published: false },
    ]);
    const logged = logger.entries.find((entry) => entry.level === 'error');
    expect(logged?.details['eventId']).toBe(blocked.id);
    expect(logged?.message).toContain(blocked.id);

    await registerCatalog(platform.registry, newer);
    await relay.flush();
    await eventually(() => received.length >= 3, 'the three events');
    expect(idsByAggregate(received)).toEqual(idsByAggregate(committed));
    expect(plainEvent(received.find(({ event }) => event.id === blocked.id)!.event)).toEqual(plainEvent(blocked));
    expect((await relay.status())).toMatchObject({ backlog: 0, published: 3, consecutiveFailures: 0, lastError: { eventId: blocked.id } });
  });

  it('stops at a row that does not hold JSON, after publishing the rows before it, and goes on once the row is repaired', async () => {
    const platform = await startTestPlatform();
    const database = openTestDatabase(platform.catalog);
    const committed: Committed[] = [];
    const before = sampleEvent('shoal.orders.OrderPlaced', 'ord-a');
    const broken = sampleEvent('shoal.orders.OrderConfirmed', 'ord-a');
    const behind = sampleEvent('shoal.orders.OrderPlaced', 'ord-b');
    await emit(database, committed, [before, broken, behind]);
    const setPayload = database.db.prepare('UPDATE outbox SET payload = ? WHERE id = ?');
    setPayload.run('{"orderId": ', broken.id);
    const received = await collectEvents(platform.kafka(), platform.codec, topicsOf(platform));
    const relay = startRelay(platform, database);

    await eventually(async () => (await relay.status()).consecutiveFailures >= 2, 'two failed attempts');
    expect((await relay.status())).toMatchObject({ backlog: 2, published: 1, lastError: { code: 'SHOAL_EVENT_DECODE', eventId: broken.id, retriable: false } });
    expect(rows(database).map((row) => row.published)).toEqual([true, false, false]);

    setPayload.run(JSON.stringify(broken.data), broken.id);
    await relay.flush();
    await eventually(() => received.length >= 3, 'the three events');
    expect(idsByAggregate(received)).toEqual(idsByAggregate(committed));
    expect((await relay.status())).toMatchObject({ backlog: 0, published: 3, consecutiveFailures: 0 });
  });

  it('publishes what another connection to the file commits (as another process would), found by polling, in commit order with its own commits', async () => {
    const platform = await startTestPlatform();
    const database = openTestDatabase(platform.catalog);
    const other = new SqliteServiceDatabase({ path: database.path, catalog: platform.catalog });
    const received = await collectEvents(platform.kafka(), platform.codec, topicsOf(platform));
    const relay = startRelay(platform, database, { batchSize: 7 });
    onTestFinished(() => other.close());
    const committed: Committed[] = [];
    const next = (n: number) => sampleEvent(eventTypes[n % 4]!, `ord-${n % 5}`, n);
    for (let n = 0; n < 200; n++) {
      emit(n % 3 === 0 ? database : other, committed, [next(n)]);
      if (n % 10 === 0) await nextTurn();
    }
    // Commits of the other connection alone: nothing wakes the relay, its polling finds them.
    for (let n = 200; n < 220; n++) emit(other, committed, [next(n)]);
    await eventually(() => received.length >= committed.length, `${committed.length} events`);
    expect(idsByAggregate(received)).toEqual(idsByAggregate(committed));
    expect(await recordsOnTopics(platform.kafka(), topicsOf(platform))).toBe(committed.length);
    expect((await relay.status())).toMatchObject({ backlog: 0, published: committed.length });
  });

  it('moves its position at its clock and prunes published rows in chunks once their retention passed, never unpublished ones', async () => {
    const platform = await startTestPlatform();
    let clock = 1_000_000;
    const now = () => clock;
    const database = openTestDatabase(platform.catalog, { now });
    const options = { now, retentionMs: 60_000, pruneIntervalMs: 1_000, pruneChunkSize: 2 };
    const relay = startRelay(platform, database, options);
    const committed: Committed[] = [];
    await emit(database, committed, [0, 1, 2, 3, 4].map((n) => sampleEvent('shoal.orders.OrderPlaced', `ord-${n}`)));
    await relay.flush();
    expect(rows(database).every((row) => row.published)).toBe(true);
    expect(positionUpdatedAt(database)).toBe(1_000_000);
    expect((await relay.status()).lastPublishedAt).toBe(1_000_000);

    clock = 1_030_000;
    const recent = sampleEvent('shoal.orders.OrderPlaced', 'ord-5');
    await emit(database, committed, [recent]);
    await relay.flush();
    expect(positionUpdatedAt(database)).toBe(1_030_000);
    // The first five expire, the sixth was committed 30 s later: three chunks of at most two rows.
    clock = 1_060_001;
    await eventually(() => rows(database).length === 1, 'the expired rows pruned');
    expect(rows(database)).toEqual([{ id: recent.id, published: true }]);

    await relay.stop();
    const unsent = sampleEvent('shoal.orders.OrderPlaced', 'ord-6');
    await emit(database, committed, [unsent]);
    clock = 10_000_000;
    const idle = new OutboxRelay({ database, kafka: platform.kafka(), codec: platform.codec, ...options });
    expect(await idle.prune()).toBe(1);
    expect(rows(database)).toEqual([{ id: unsent.id, published: false }]);
    expect((await idle.status())).toMatchObject({ backlog: 1, oldestUnsentAt: 1_060_001 });
  });

  it('stop({ drain }) publishes everything committed before it; a stopped relay refuses to wait or restart', async () => {
    const platform = await startTestPlatform();
    const database = openTestDatabase(platform.catalog);
    const relay = startRelay(platform, database, { batchSize: 64 });
    const committed: Committed[] = [];
    for (let n = 0; n < 300; n++) await emit(database, committed, [sampleEvent(eventTypes[n % eventTypes.length]!, `agg-${n % 7}`, n)]);
    await relay.stop({ drain: true });
    expect((await relay.status())).toMatchObject({ state: 'stopped', backlog: 0, published: 300 });
    expect(await recordsOnTopics(platform.kafka(), topicsOf(platform))).toBe(300);
    const refusal = await relay.whenIdle().catch((error: unknown) => error);
    expect(isShoalError(refusal, 'SHOAL_SERVICE_UNAVAILABLE')).toBe(true);
    expect(() => relay.start()).toThrow(ShoalError);
    // A commit after the stop stays in the outbox for the next relay.
    await emit(database, committed, [sampleEvent('shoal.orders.OrderPlaced', 'ord-late')]);
    expect((await relay.status()).backlog).toBe(1);
  });

  it('keeps committing while the broker is down and publishes everything, in order, once it is back', async () => {
    const brokerDataDir = tempDir('broker');
    const brokerPort = await freePort();
    const platform = await startTestPlatform({ brokerDataDir, brokerPort });
    const database = openTestDatabase(platform.catalog);
    const kafka = platform.kafka({ retry: { retries: 5, initialRetryTime: 50, maxRetryTime: 250 } });
    const relay = startRelay(platform, database, { kafka, batchSize: 10 });
    const committed: Committed[] = [];
    const next = (n: number) => sampleEvent(eventTypes[n % 4]!, `ord-${n % 5}`, n);
    for (let n = 0; n < 20; n++) await emit(database, committed, [next(n)]);
    await relay.flush();

    await platform.stopBroker();
    for (let n = 20; n < 60; n += 2) await emit(database, committed, [next(n), next(n + 1)]);
    // The producer retries a batch while the broker is away: the relay shows it in flight.
    await eventually(async () => (await relay.status()).publishingSince !== undefined, 'a batch in flight');
    expect((await relay.status()).backlog).toBe(40);
    await startTestBroker({ dataDir: brokerDataDir, port: brokerPort });

    await relay.flush();
    const topics = topicsOf(platform);
    const received = await collectEvents(platform.kafka(), platform.codec, topics);
    await eventually(() => received.length >= 60, 'the 60 events');
    expect(idsByAggregate(received)).toEqual(idsByAggregate(committed));
    expect(await recordsOnTopics(platform.kafka(), topics)).toBe(60);
    expect((await relay.status())).toMatchObject({ backlog: 0, published: 60 });
  });

  it('starts while the broker is down, retries connecting with backoff, and publishes once it is up', async () => {
    const brokerDataDir = tempDir('broker');
    const brokerPort = await freePort();
    const platform = await startTestPlatform({ brokerDataDir, brokerPort });
    await platform.stopBroker();
    const database = openTestDatabase(platform.catalog);
    const committed: Committed[] = [];
    await emit(database, committed, [0, 1, 2].map((n) => sampleEvent('shoal.payments.PaymentAuthorized', `ord-${n}`, n)));
    const kafka = platform.kafka({ retry: { retries: 1, initialRetryTime: 20, maxRetryTime: 50 } });
    const relay = startRelay(platform, database, { kafka });
    await eventually(async () => (await relay.status()).consecutiveFailures >= 2, 'two failed connection attempts');
    expect((await relay.status())).toMatchObject({ state: 'running', backlog: 3, published: 0, lastError: { retriable: true } });

    await startTestBroker({ dataDir: brokerDataDir, port: brokerPort });
    await relay.flush();
    const received = await collectEvents(platform.kafka(), platform.codec, topicsOf(platform));
    await eventually(() => received.length >= 3, 'the 3 events');
    expect(idsByAggregate(received)).toEqual(idsByAggregate(committed));
    expect((await relay.status())).toMatchObject({ backlog: 0, published: 3, consecutiveFailures: 0 });
  });

  it('refuses options that cannot work', () => {
    // Nothing connects before start(): clients of nothing are enough.
    const catalog = loadSchemaCatalog();
    const database = openTestDatabase(catalog);
    const options = { database, kafka: kafkaFor('127.0.0.1:1'), codec: new EventCodec({ registry: new RegistryClient({ url: 'http://127.0.0.1:1' }), catalog }) };
    for (const bad of [{ batchSize: 0 }, { pollIntervalMs: -1 }, { retentionMs: Number.NaN }, { pruneChunkSize: 1.5 }]) {
      expect(() => new OutboxRelay({ ...options, ...bad }), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'SHOAL_CONFIG_INVALID' }));
    }
  });
});
