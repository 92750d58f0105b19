/**
 * The runtime under hostile records: `orders.order` carries valid OrderPlaced events interleaved with
 * mutated records (hostile-records.ts: flipped, cut and random Avro bytes, unknown schema ids, random or
 * missing headers, nonsense content types) and oversized ones (a value of 1.5 MiB, a 64 KiB header). Both
 * consumers of the topic must live through all of it:
 *
 *   consumer runtime  every record is handled, a duplicate, skipped, dead-lettered or parked behind a dead
 *                     letter of its key (the counts add up to what the topic holds), every valid event is
 *                     handled or parked, skipping every dead letter releases the parked ones so that every
 *                     valid event is handled, the DLQ holds exactly the dead-lettered records, and the
 *                     subscription is still running
 *   projector         every valid event is applied, every record is accounted for (applied, skipped or
 *                     poisoned), and the projection is still running
 *
 * Then the admin routes get malformed bodies and names: always a 4xx problem+json, never a 5xx.
 *
 * Seeded: replay a run with SHOAL_FUZZ_SEED=<seed> npx vitest run test/chaos/runtime-fuzz.test.ts
 */
import { join } from 'node:path';
import type { Message } from 'kafkajs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually, recordsOnTopics, seededRandom, tempDir, uniqueName } from '@shoal/testing';
import { subscribe } from '@shoal/consumer';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { createServiceApp, createServiceLogger, projectionAdminRoutes } from '@shoal/service';
import { orderPlaced, orderProjection, startProjectionPlatform } from '@shoal/projections/testing';
import { mutateHeaders, mutateValue } from './hostile-records.js';

const VALID = 150;
const HOSTILE = 250;
const TOPIC = 'orders.order';


/** The codec's string headers as the Buffers a consumer receives, for the mutations to work on. */
function asBuffers(headers: Record<string, string>): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value)]));
}

describe('the runtime under hostile records', () => {
  it(`consumer runtime and projector live through ${HOSTILE} mutated and oversized records among ${VALID} valid events`, async () => {
    const random = seededRandom();
    const platform = await startProjectionPlatform();
    const kafka = platform.kafka();

    const valid = Array.from({ length: VALID }, (_, seq) => orderPlaced(seq, 40));
    const messages: Message[] = [];
    let hostileLeft = HOSTILE;
    for (const event of valid) {
      const encoded = await platform.codec.encode(event);
      messages.push({ key: encoded.key, value: encoded.value, headers: encoded.headers });
      for (let n = random.int(1, 3); n > 0 && hostileLeft > 0; n--, hostileLeft--) {
        const headers = asBuffers(encoded.headers);
        const mutated = random.int(0, 2);
        messages.push({
          key: random.chance(0.5) ? encoded.key : random.bytes(random.int(0, 12)),
          value: mutated === 1 ? encoded.value : mutateValue(random, encoded.value as Buffer),
          headers: mutated === 0 ? headers : mutateHeaders(random, headers),
        } as Message);
      }
    }
    const headers = asBuffers((await platform.codec.encode(valid[0]!)).headers);
    messages.push({ key: 'huge-value', value: random.bytes(1_536 * 1024), headers: { ...headers, ce_id: Buffer.from('huge-value') } });
    messages.push({ key: 'huge-header', value: random.bytes(64), headers: { ...headers, ce_id: Buffer.from('huge-header'), ce_subject: random.bytes(64 * 1024) } });
    const producer = kafka.producer();
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    for (let from = 0; from < messages.length; from += 50) await producer.send({ topic: TOPIC, acks: -1, messages: messages.slice(from, from + 50) });
    const total = await recordsOnTopics(kafka, TOPIC);
    expect(total).toBe(messages.length);

    const dir = tempDir('runtime-fuzz');
    const database = new SqliteServiceDatabase({ path: join(dir, 'service.db'), catalog: platform.catalog });
    onTestFinished(() => database.close());
    database.db.exec('CREATE TABLE seen (event_id TEXT PRIMARY KEY)');
    const remember = database.db.prepare('INSERT OR IGNORE INTO seen (event_id) VALUES (?)');
    const group = uniqueName('fuzz');
    const subscription = subscribe({
      database,
      kafka: platform.kafka(),
      codec: platform.codec,
      group,
      topics: [TOPIC],
      fromBeginning: true,
      retry: { attempts: 2, initialMs: 1, maxMs: 5 },
      handlers: {
        'shoal.orders.OrderPlaced': (event) => {
          remember.run(event.id);
        },
      },
    });
    onTestFinished(() => subscription.stop());

    const projector = platform.projector({ projection: orderProjection(), dataDir: join(dir, 'projections') });
    await Promise.all([subscription.start(), projector.start()]);

    const accounted = () => {
      const s = subscription.status();
      return s.handled + s.duplicates + s.skipped + s.deadLettered + s.parked;
    };
    await eventually(() => expect(accounted(), JSON.stringify(subscription.status())).toBe(total), { what: 'every record accounted for by the subscription', timeoutMs: 60_000 });
    const status = subscription.status();
    expect(status.state).toBe('running');
    const seenIds = () => new Set(database.db.prepare('SELECT event_id FROM seen').pluck().all() as string[]);
    // A valid event behind a hostile record of its key is parked, not lost: every one is handled or parked.
    const parkedIds = new Set((await subscription.deadLetterList()).flatMap((letter) => letter.parked.map((record) => record.eventId)));
    expect(valid.filter((event) => !seenIds().has(event.id) && !parkedIds.has(event.id)).map((event) => event.id)).toEqual([]);
    expect(status.deadLettered).toBeGreaterThan(0);
    expect(status.parking.deadLetters).toBeGreaterThan(0);
    // Skipping every dead letter (again while a released hostile record fails and takes its place) releases them all.
    for (let keys = await subscription.blockedKeys(); keys.length > 0; keys = await subscription.blockedKeys()) {
      for (const key of keys) await subscription.skip(key);
    }
    expect(subscription.status().parking).toEqual({ deadLetters: 0, parked: 0 });
    const seen = seenIds();
    expect(valid.filter((event) => !seen.has(event.id)).map((event) => event.id)).toEqual([]);
    expect(await recordsOnTopics(kafka, `${group}.dlq`)).toBe(subscription.status().deadLettered);

    await eventually(() => {
      const projection = projector.status();
      expect(projection.applied + projection.skipped + projection.poisoned, JSON.stringify(projection)).toBe(total);
    }, { what: 'every record accounted for by the projector', timeoutMs: 60_000 });
    expect(projector.status().state).toBe('running');
    expect(projector.status().poisoned).toBeGreaterThan(0);
    const counted = await projector.read(async ({ sql }) => Number((await sql.get<{ n: number }>('SELECT sum(events) AS n FROM order_events'))!.n));
    // Every valid event, plus the mutants that still decode as an OrderPlaced (a flipped byte inside a string).
    expect(counted).toBeGreaterThanOrEqual(VALID);
    expect(counted).toBe(projector.status().applied);

    const app = createServiceApp({ logger: createServiceLogger('test', 'silent') });
    await app.register(projectionAdminRoutes, { projectors: [projector] });
    onTestFinished(() => app.close());
    const bodies: Array<string | undefined> = [
      undefined,
      '',
      'null',
      '[]',
      '{',
      '{"from":"yesterday"}',
      '{"fromTimestamp":"not a time"}',
      '{"fromTimestamp":-1}',
      '{"fromTimestamp":"2999-01-01T00:00:00Z"}',
      '{"from":"beginning","fromTimestamp":0}',
      JSON.stringify({ from: 'beginning', extra: 'x'.repeat(10_000) }),
      'x'.repeat(2 * 1024 * 1024),
      random.bytes(256).toString('latin1'),
    ];
    // Names up to fastify's maxParamLength (100): a longer one never reaches the plugin (the host app answers 414).
    const names = ['order-counts', 'nope', '..%2F..%2Fetc%2Fpasswd', '%00', 'x'.repeat(100)];
    for (const name of names) {
      for (const body of bodies) {
        const response = await app.inject({
          method: 'POST',
          url: `/admin/projections/${name}/rebuild`,
          headers: { 'content-type': 'application/json' },
          ...(body === undefined ? {} : { payload: body }),
        });
        if (response.statusCode === 202) {
          // A valid request (the first combination that is one) starts a rebuild: let it finish before the next.
          await projector.rebuilding()?.done;
          continue;
        }
        expect(response.statusCode, `${name.slice(0, 40)} ${body?.slice(0, 80)}: ${response.body}`).toBeGreaterThanOrEqual(400);
        expect(response.statusCode, `${name.slice(0, 40)} ${body?.slice(0, 80)}: ${response.body}`).toBeLessThan(500);
        expect(response.headers['content-type'], `${name.slice(0, 40)} ${body?.slice(0, 80)}: ${response.statusCode} ${response.body.slice(0, 200)}`).toMatch(/^application\/problem\+json/);
      }
    }
    expect(projector.status().state).toBe('running');
  });
});
