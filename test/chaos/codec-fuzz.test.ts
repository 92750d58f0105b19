/**
 * Robustness of the event codec against hostile records: valid events of every catalog type, then their
 * Avro bytes flipped, cut and extended, their header values replaced by random bytes (invalid UTF-8
 * included) or dropped, their content type switched to structured mode over random JSON. Decoding must
 * either give an event or throw one of the codec's typed, non-retriable errors: anything else (a TypeError,
 * a RangeError from avsc, a hang) would take a consumer down or be retried forever.
 *
 * Seeded: replay a run with SHOAL_FUZZ_SEED=<seed> npx vitest run test/chaos/codec-fuzz.test.ts
 */
import { describe, expect, it } from 'vitest';
import { isShoalError } from '@shoal/core';
import { EventCodec, RegistryClient, loadSchemaCatalog, registerCatalog, type CloudEvent, type KafkaMessageIn } from '@shoal/contract';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { mutateHeaders, mutateValue } from './hostile-records.js';
import { fuzzSeed, seededRandom } from './random.js';

const SEED = fuzzSeed('test/chaos/codec-fuzz.test.ts');
const ROUNDS = 20_000;
const EXPECTED_CODES = new Set(['SHOAL_EVENT_INVALID', 'SHOAL_EVENT_DECODE', 'SHOAL_SCHEMA_UNKNOWN_ID', 'SHOAL_EVENT_DATA_INVALID']);

describe('event codec under hostile records', () => {
  it(`decodes ${ROUNDS} mutated records into an event or a typed, non-retriable error`, async () => {
    const random = seededRandom(SEED, 'codec fuzz');
    const registry = await startTestRegistry();
    const catalog = loadSchemaCatalog();
    const client = new RegistryClient({ url: registry.url, retries: 0 });
    await registerCatalog(client, catalog);
    const codec = new EventCodec({ registry: client, catalog });

    const valid: { key: Buffer | null; value: Buffer; headers: Record<string, Buffer> }[] = [];
    for (const type of catalog.events.keys()) {
      for (let i = 0; i < 5; i++) {
        const event: CloudEvent<unknown> = {
          specversion: '1.0',
          id: `id-${type}-${i}`,
          source: '/fuzz',
          type,
          time: '2026-01-01T00:00:00Z',
          subject: `agg-${i}`,
          partitionkey: `agg-${i}`,
          data: catalog.avroType(type).random(),
        };
        const message = await codec.encode(event);
        valid.push({
          key: message.key === null ? null : Buffer.from(message.key),
          value: message.value!,
          headers: Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, Buffer.from(v)])),
        });
      }
    }

    const outcomes = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const base = random.pick(valid);
      const record: KafkaMessageIn = { key: base.key, value: base.value, headers: base.headers };
      const change = random.int(0, 3);
      if (change === 0 || change === 3) record.value = mutateValue(random, base.value);
      if (change === 1 || change === 3) record.headers = mutateHeaders(random, base.headers);
      if (change === 2) {
        record.headers = { 'content-type': Buffer.from('application/cloudevents+json') };
        record.value = random.chance(0.5) ? random.bytes(random.int(0, 40)) : Buffer.from(JSON.stringify({ specversion: '1.0', id: 'x', source: '/s', type: random.pick([...catalog.events.keys()]), data: random.pick([null, 1, 'x', {}, { orderId: 5 }]), data_base64: random.chance(0.3) ? '!!' : undefined }));
      }
      let outcome: string;
      try {
        await codec.decode(record);
        outcome = 'decoded';
      } catch (error) {
        const where = `seed ${SEED} round ${round}: ${JSON.stringify({ value: Buffer.from(record.value as Buffer).toString('hex'), headers: record.headers })}`;
        expect(isShoalError(error), `${where}: ${String(error)}`).toBe(true);
        if (!isShoalError(error)) throw error;
        expect(EXPECTED_CODES.has(error.code), `${where}: ${error.code} ${error.message}`).toBe(true);
        expect(error.retriable, where).toBe(false);
        outcome = error.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // Both outcomes and every kind of refusal must have been reached, or the fuzz tested little.
    expect([...outcomes.keys()].sort()).toEqual(['SHOAL_EVENT_DATA_INVALID', 'SHOAL_EVENT_DECODE', 'SHOAL_EVENT_INVALID', 'SHOAL_SCHEMA_UNKNOWN_ID', 'decoded']);
  });
});
