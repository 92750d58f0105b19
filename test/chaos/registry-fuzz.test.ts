/**
 * Robustness of the schema registry against hostile and broken schemas: thousands of random mutations of
 * the real schemas of schemas/ (keys deleted, values replaced by random JSON, types swapped, names broken,
 * deep nesting, references to nothing), sent to registration, lookup and compatibility checks under random
 * levels, plus bodies that are not JSON at all. Every answer must be one of Confluent's (a 2xx, or a 4xx
 * with its `{error_code, message}` body): a 5xx means the registry failed on what a client sent. Afterwards
 * every schema it accepted must still be served and re-register to the same id.
 *
 * Seeded: replay a run with SHOAL_FUZZ_SEED=<seed> npx vitest run test/chaos/registry-fuzz.test.ts
 */
import { describe, expect, it } from 'vitest';
import { loadSchemaCatalog } from '@shoal/contract';
import { COMPATIBILITY_LEVELS } from '@shoal/core';
import { registryCaller, testRegistryApp } from '@shoal/schema-registry/testing';
import { fuzzSeed, seededRandom, type Random } from './random.js';

const SEED = fuzzSeed('test/chaos/registry-fuzz.test.ts');
const ROUNDS = 2500;
const ALLOWED_FAILURES = new Set([400, 404, 409, 413, 415, 422]);
const TYPE_NAMES = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string', 'record', 'enum', 'array', 'map', 'fixed', 'shoal.common.Money', 'Nope', '', 'shoal..x'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function randomJson(random: Random, depth: number): Json {
  switch (random.int(0, depth > 3 ? 4 : 6)) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), Number.MAX_VALUE, 7]);
    case 3:
      return random.pick(TYPE_NAMES);
    case 4:
      return random.bytes(random.int(0, 12)).toString('latin1');
    case 5:
      return Array.from({ length: random.int(0, 3) }, () => randomJson(random, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: random.int(0, 3) }, () => [random.pick(['type', 'name', 'fields', 'items', 'values', 'symbols', 'default', 'aliases', 'namespace', 'size', 'x']), randomJson(random, depth + 1)]));
  }
}

/** One random change somewhere in `node` (in place); returns the possibly replaced root. */
function mutate(random: Random, node: Json): Json {
  const containers: (Json[] | { [key: string]: Json })[] = [];
  const walk = (value: Json) => {
    if (value !== null && typeof value === 'object') {
      containers.push(value);
      for (const child of Array.isArray(value) ? value : Object.values(value)) walk(child);
    }
  };
  walk(node);
  if (containers.length === 0 || random.chance(0.03)) return randomJson(random, 0);
  const target = random.pick(containers);
  const keys: (string | number)[] = Array.isArray(target) ? target.map((_, i) => i) : Object.keys(target);
  if (keys.length === 0) return node;
  const key = random.pick(keys);
  const slot = target as Record<string | number, Json>;
  switch (random.int(0, 5)) {
    case 0:
      if (Array.isArray(target)) target.splice(key as number, 1);
      else delete slot[key];
      break;
    case 1:
      slot[key] = randomJson(random, 1);
      break;
    case 2:
      slot[key] = random.pick(TYPE_NAMES);
      break;
    case 3:
      slot[key] = Array.from({ length: random.int(1, 30) }).reduce<Json>((inner) => ({ type: 'array', items: inner }), 'string');
      break;
    case 4:
      if (Array.isArray(target)) target.push(structuredClone(target[key as number] ?? null));
      else slot[`${String(key)}`] = structuredClone(slot[key] ?? null);
      break;
    default:
      slot[key] = structuredClone(random.pick(containers)) as Json;
  }
  return node;
}

describe('schema registry under hostile schemas', () => {
  it(`answers ${ROUNDS} mutated registrations, lookups and checks with Confluent's errors, never a 5xx`, async () => {
    const random = seededRandom(SEED, 'registry fuzz');
    const { app } = await testRegistryApp();
    const call = registryCaller(app);
    const catalog = loadSchemaCatalog();
    const commons = [...catalog.common.values()];
    const references: { name: string; subject: string; version: number }[] = [];
    for (const common of catalog.registrationOrder().filter((f) => catalog.common.has(f.name))) {
      const refs = common.references.map((name) => references.find((r) => r.name === name)!);
      const answer = await call('POST', `/subjects/${common.subject}/versions`, { schema: common.schema, references: refs });
      expect(answer.status).toBe(200);
      references.push({ name: common.name, subject: common.subject, version: 1 });
    }
    const bases = [...catalog.events.values(), ...commons].map((f) => JSON.parse(f.schema) as Json);
    const accepted = new Map<string, { subject: string; body: unknown; id: number }>();
    const statuses = new Map<number, number>();

    for (let round = 0; round < ROUNDS; round++) {
      const subject = `fuzz-${random.int(0, 20)}`;
      let schema: Json = structuredClone(random.pick(bases));
      for (let m = random.int(1, 3); m > 0; m--) schema = mutate(random, schema);
      const refs = random.chance(0.8) ? references : [...references.slice(0, random.int(0, 2)), { name: 'shoal.common.Ghost', subject: 'nope', version: random.int(-2, 3) }];
      // Nesting far deeper than any real schema: the shape that overflows the stack of a recursive parser.
      const depth = random.int(1000, 20_000);
      const text = random.chance(0.02) ? `${'{"type":"array","items":'.repeat(depth)}"string"${'}'.repeat(depth)}` : JSON.stringify(schema);
      const body = random.chance(0.05)
        ? random.bytes(random.int(0, 40)).toString('latin1')
        : { schema: random.chance(0.05) ? (schema as unknown as string) : text, references: refs, ...(random.chance(0.05) ? { schemaType: random.pick(['AVRO', 'PROTOBUF', 7]) } : {}) };
      const action = random.int(0, 3);
      if (action === 0) await call('PUT', `/config/${subject}`, { compatibility: random.pick([...COMPATIBILITY_LEVELS, 'SIDEWAYS']) });
      const url =
        action <= 1 ? `/subjects/${subject}/versions` : action === 2 ? `/subjects/${subject}` : `/compatibility/subjects/${subject}/versions/${random.pick(['latest', '1', '-1', 'x'])}?verbose=true`;
      const answer = await call('POST', url, body);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const where = `seed ${SEED} round ${round}: POST ${url} ${JSON.stringify(body).slice(0, 300)}`;
      expect(answer.status === 200 || ALLOWED_FAILURES.has(answer.status), `${where} -> ${answer.status} ${JSON.stringify(answer.body)}`).toBe(true);
      expect(answer.contentType, where).toContain('application/vnd.schemaregistry.v1+json');
      if (answer.status >= 400) {
        expect(answer.body, where).toMatchObject({ error_code: expect.any(Number), message: expect.any(String) });
      } else if (action <= 1) {
        const { id } = answer.body as { id: number };
        accepted.set(`${subject} ${JSON.stringify(body)}`, { subject, body, id });
      }
    }

    // The fuzz must have exercised both outcomes, or it tested nothing.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(50);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(50);
    // Nothing was deleted: whatever it accepted is still served, and registering it again is idempotent.
    for (const { subject, body, id } of accepted.values()) {
      const served = await call('GET', `/schemas/ids/${id}`);
      expect(served.status).toBe(200);
      const again = await call('POST', `/subjects/${subject}/versions`, body);
      expect(again.body, `seed ${SEED}: re-registering schema ${id} under ${subject}`).toEqual({ id });
    }
  });
});
