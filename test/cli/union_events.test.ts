/**
 * Events whose schemas have the unions Shoal's codec wraps (two records, several numbers, and a union of
 * records at the top level), between `shoal publish` / `shoal subscribe` and Python clients nobody here
 * wrote: Apache avro (Debian's python3-avro) and confluent-kafka's AvroSerializer and AvroDeserializer
 * (fastavro from PyPI, which .ci/run installs). Shoal writes and prints a wrapped union as Avro's JSON
 * encoding does, `{"<branch name>": value}`; what Python reads back shows which branch the bytes say.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startTestBroker } from '@shoal/broker/testing';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { PYTHON, processReport, pythonEnv, pythonModulesMissingReason, runProcess } from '../conformance/client-processes.js';
import { shoal } from './helpers.js';

const SCRIPT_DIR = fileURLToPath(new URL('../conformance/python/', import.meta.url));
const TOPIC = 'payments.interop';
const TAKEN = 'shoal.interop.PaymentTaken';
const CHOSEN = 'shoal.interop.PaymentMethodChosen';
const CARD = 'shoal.interop.Card';
const TRANSFER = 'shoal.interop.BankTransfer';

const card = { type: 'record', name: CARD, fields: [{ name: 'last4', type: 'string' }, { name: 'network', type: { type: 'enum', name: 'shoal.interop.Network', symbols: ['VISA', 'MASTERCARD'] } }] };
const transfer = { type: 'record', name: TRANSFER, fields: [{ name: 'iban', type: 'string' }] };
/** A union of records in a field, a union of numbers, and an optional string (which stays unwrapped). */
const paymentTaken = {
  type: 'record',
  name: TAKEN,
  fields: [
    { name: 'paymentId', type: 'string' },
    { name: 'method', type: ['null', card, transfer] },
    { name: 'amount', type: ['int', 'long', 'double'] },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};
/** A union of records as the whole schema. */
const methodChosen = [card, transfer];

/** Shoal's JSON for the data: wrapped unions as {"<branch>": value}, the optional string as it is. */
const shoalEvents = {
  [TAKEN]: [
    { paymentId: 'p-1', method: { [CARD]: { last4: '4242', network: 'VISA' } }, amount: { long: 10_000_000_000 }, note: 'first' },
    { paymentId: 'p-2', method: { [TRANSFER]: { iban: 'DE89370400440532013000' } }, amount: { double: 2.5 }, note: null },
    { paymentId: 'p-3', method: null, amount: { int: 7 }, note: null },
  ],
  [CHOSEN]: [{ [TRANSFER]: { iban: 'FR1420041010050500013M02606' } }],
};

/** The data as Python's Avro libraries take and give it: a record in a union is a plain dict. */
const pythonData = [
  { key: 'p-7', data: { paymentId: 'p-7', method: { iban: 'NL91ABNA0417164300' }, amount: 7, note: null } },
  { key: 'p-8', data: { paymentId: 'p-8', method: { last4: '0005', network: 'MASTERCARD' }, amount: 2.5, note: 'py' } },
];
/**
 * What Shoal makes of them: the branch each value was written in, by name. A library picks the branch of a
 * plain value itself: a record's by its fields, and for 7 Apache avro takes the last branch that fits
 * (double), fastavro the first (int).
 */
const pythonDataInShoal = (seven: 'int' | 'double') => [
  { paymentId: 'p-7', method: { [TRANSFER]: { iban: 'NL91ABNA0417164300' } }, amount: { [seven]: 7 }, note: null },
  { paymentId: 'p-8', method: { [CARD]: { last4: '0005', network: 'MASTERCARD' } }, amount: { double: 2.5 }, note: 'py' },
];

async function platform() {
  const [broker, registry] = await Promise.all([startTestBroker(), startTestRegistry()]);
  for (const [type, schema] of [[TAKEN, paymentTaken], [CHOSEN, methodChosen]] as const) {
    const response = await fetch(`${registry.url}/subjects/${TOPIC}-${type}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(schema) }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
  }
  return { broker, registry, env: { KAFKA_BROKERS: broker.bootstrap, SCHEMA_REGISTRY_URL: registry.url } };
}

/** `shoal publish` of the events of `types` in `shoalEvents`, as JSON lines on stdin: the types are not in schemas/. */
async function publishFromShoal(env: Record<string, string>, types: readonly (keyof typeof shoalEvents)[] = [TAKEN, CHOSEN]): Promise<void> {
  for (const type of types) {
    const events = shoalEvents[type];
    const lines = events.map((data) => JSON.stringify(data)).join('\n');
    const published = await shoal(['publish', TOPIC, '--type', type, '--key', 'k-1', '--json'], { env, input: `${lines}\n` });
    expect(published.code, published.stderr).toBe(0);
  }
}

/** What `shoal subscribe` prints for the topic, by event id. */
async function subscribe(env: Record<string, string>, count: number): Promise<Map<string, { type: string; data: unknown }>> {
  const read = await shoal(['subscribe', TOPIC, '--from-beginning', '--max-messages', String(count)], { env });
  expect(read.code, read.stderr).toBe(0);
  const events = read.out.trim().split('\n').map((line) => (JSON.parse(line) as { event: { id: string; type: string; data: unknown } }).event);
  return new Map(events.map((event) => [event.id, event]));
}

async function python<T>(script: string, args: string[], input?: string): Promise<T> {
  const result = await runProcess(PYTHON, ['-u', `${SCRIPT_DIR}${script}`, ...args], { timeoutMs: 60_000, env: pythonEnv(), ...(input === undefined ? {} : { input }) });
  let report: T & { ok: boolean; error?: string };
  try {
    report = JSON.parse(result.stdout.toString('utf8').trim().split('\n').at(-1) ?? '');
  } catch {
    throw new Error(`${script} printed no JSON result:\n${processReport(result)}`);
  }
  expect(report.ok, `${report.error}\n${processReport(result)}`).toBe(true);
  return report;
}

interface Decoded {
  events: { schemaName: string | null; headers: Record<string, string>; data: unknown; deserialized?: unknown }[];
}

const shoalEventCount = Object.values(shoalEvents).flat().length;

const missingAvro = pythonModulesMissingReason(['confluent_kafka.schema_registry', 'avro.io', 'requests']);
const missingSerdes = missingAvro ?? pythonModulesMissingReason(['confluent_kafka.schema_registry.avro'], `pip install --target .python-packages fastavro, as .ci/run does`);
for (const reason of [missingAvro, missingSerdes]) if (reason) console.warn(`skipping union interop with Python: ${reason}`);

describe('events with unions of records and of numbers, between Shoal and Python', () => {
  it.skipIf(missingAvro !== null)('round-trip through shoal publish and subscribe, and Apache avro reads and writes the same bytes', async () => {
    const { broker, registry, env } = await platform();
    await publishFromShoal(env);

    // Shoal prints what it was given: the JSON input and output share one representation.
    const printed = await subscribe(env, shoalEventCount);
    expect([...printed.values()].filter((e) => e.type === TAKEN).map((e) => e.data)).toEqual(shoalEvents[TAKEN]);
    expect([...printed.values()].filter((e) => e.type === CHOSEN).map((e) => e.data)).toEqual(shoalEvents[CHOSEN]);

    // Data that does not say the branch of a wrapped union is refused, with the shapes it can take.
    const unwrapped = await shoal(['publish', TOPIC, '--type', TAKEN, '--key', 'k-9', '--data', '{"paymentId":"p-9","method":{"iban":"X"},"amount":5}'], { env });
    expect(unwrapped.code).toBe(1);
    expect(unwrapped.stderr).toContain(`data.method: expected null | {"${CARD}": …} | {"${TRANSFER}": …}, got {"iban":"X"}`);
    expect(unwrapped.stderr).toContain('data.amount: expected {"int": …} | {"long": …} | {"double": …}, got 5');

    const decoded = await python<Decoded>('decode_shoal_events.py', [broker.bootstrap, registry.url, TOPIC, String(shoalEventCount), '40']);
    expect(decoded.events.map((e) => [e.headers['ce_type'], e.data])).toEqual([
      [TAKEN, { paymentId: 'p-1', method: { last4: '4242', network: 'VISA' }, amount: 10_000_000_000, note: 'first' }],
      [TAKEN, { paymentId: 'p-2', method: { iban: 'DE89370400440532013000' }, amount: 2.5, note: null }],
      [TAKEN, { paymentId: 'p-3', method: null, amount: 7, note: null }],
      [CHOSEN, { iban: 'FR1420041010050500013M02606' }],
    ]);

    const produced = await python<{ ids: string[]; unflushed: number }>(
      'produce_union_events.py',
      [broker.bootstrap, registry.url, TOPIC, `${TOPIC}-${TAKEN}`, '40'],
      JSON.stringify(pythonData),
    );
    expect(produced.unflushed).toBe(0);
    const chosen = await python<{ ids: string[]; unflushed: number }>(
      'produce_union_events.py',
      [broker.bootstrap, registry.url, TOPIC, `${TOPIC}-${CHOSEN}`, '40'],
      JSON.stringify([{ key: 'p-9', data: { last4: '1881', network: 'VISA' } }]),
    );
    expect(chosen.unflushed).toBe(0);
    const all = await subscribe(env, shoalEventCount + pythonData.length + 1);
    expect(produced.ids.map((id) => all.get(id)?.data)).toEqual(pythonDataInShoal('double'));
    expect(all.get(chosen.ids[0]!)).toMatchObject({ type: CHOSEN, data: { [CARD]: { last4: '1881', network: 'VISA' } } });
  });

  it.skipIf(missingSerdes !== null)("round-trip with confluent-kafka's AvroSerializer and AvroDeserializer", async () => {
    const { broker, registry, env } = await platform();
    // Not the union at the top level: Debian's confluent-kafka 1.7 takes any schema text that does not start
    // with '{' for a primitive type name (_schema_loads), so its deserializer cannot parse such a schema.
    await publishFromShoal(env, [TAKEN]);
    const count = String(shoalEvents[TAKEN].length);
    const decoded = await python<Decoded>('decode_shoal_events.py', [broker.bootstrap, registry.url, TOPIC, count, '40', 'deserializer']);
    // Asked for record names, the deserializer says which branch each record was written in.
    expect(decoded.events.map((e) => e.deserialized)).toEqual([
      { paymentId: 'p-1', method: [CARD, { last4: '4242', network: 'VISA' }], amount: 10_000_000_000, note: 'first' },
      { paymentId: 'p-2', method: [TRANSFER, { iban: 'DE89370400440532013000' }], amount: 2.5, note: null },
      { paymentId: 'p-3', method: null, amount: 7, note: null },
    ]);

    const produced = await python<{ ids: string[]; unflushed: number }>(
      'produce_union_events.py',
      [broker.bootstrap, registry.url, TOPIC, `${TOPIC}-${TAKEN}`, '40', 'serializer'],
      JSON.stringify(pythonData),
    );
    expect(produced.unflushed).toBe(0);
    const all = await subscribe(env, shoalEvents[TAKEN].length + pythonData.length);
    expect(produced.ids.map((id) => all.get(id)?.data)).toEqual(pythonDataInShoal('int'));
  });
});
