/**
 * `shoal publish` and `shoal subscribe` as a user runs them, and what they write read by clients nobody here
 * wrote: kcat shows the CloudEvents headers, Python's confluent-kafka + Apache avro decode the data through
 * the registry (the Confluent wire format is the interop point).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { uniqueName, connected } from '@shoal/testing';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { KCAT, PYTHON, kcatMissingReason, processReport, pythonModulesMissingReason, runProcess } from '../conformance/client-processes.js';
import { SHOAL_BIN, shoal } from './helpers.js';

const SCRIPT_DIR = fileURLToPath(new URL('../conformance/python/', import.meta.url));
const SCRIPT = '/usr/bin/script';

async function platform() {
  const [broker, registry] = await Promise.all([startTestBroker(), startTestRegistry({ defaultCompatibility: 'BACKWARD_TRANSITIVE' })]);
  const env = { KAFKA_BROKERS: broker.bootstrap, SCHEMA_REGISTRY_URL: registry.url };
  const registered = await shoal(['schemas', 'register'], { env });
  expect(registered.code, registered.stderr).toBe(0);
  return { broker, registry, env };
}

const shipped = (orderId: string, n: number) => ({ orderId, customerId: 'c-1', shipmentId: `s-${n}`, trackingNumber: `T${n}`, shippedAt: 1_767_225_600_000 + n });

describe('shoal publish and subscribe', () => {
  it('publishes JSON data as Avro CloudEvents and subscribes to them decoded, as JSON lines', async () => {
    const { env } = await platform();
    const one = await shoal(['publish', 'orders.order', '--type', 'shoal.orders.OrderShipped', '--data', JSON.stringify(shipped('o-1', 1)), '--correlation-id', 'corr-1'], { env });
    expect(one.code, one.stderr).toBe(0);
    expect(one.out).toMatch(/^published shoal\.orders\.OrderShipped [0-9a-f-]{36} to orders\.order partition \d offset 0\n$/);

    const lines = [shipped('o-2', 2), shipped('o-2', 3)].map((d) => JSON.stringify(d)).join('\n');
    const batch = await shoal(['publish', 'orders.order', '--type', 'shoal.orders.OrderShipped', '--json'], { env, input: `${lines}\n` });
    expect(batch.code, batch.stderr).toBe(0);
    const placed = batch.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(placed).toHaveLength(2);
    // Same key, same partition, consecutive offsets: per-aggregate order.
    expect(placed[1].partition).toBe(placed[0].partition);
    expect(Number(placed[1].offset)).toBe(Number(placed[0].offset) + 1);

    const read = await shoal(['subscribe', 'orders.order', '--from-beginning', '--max-messages', '3'], { env });
    expect(read.code, read.stderr).toBe(0);
    const received = read.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(received).toHaveLength(3);
    const first = received.find((r) => r.key === 'o-1');
    expect(first.event).toMatchObject({
      specversion: '1.0',
      type: 'shoal.orders.OrderShipped',
      source: '/shoal/cli',
      subject: 'o-1',
      partitionkey: 'o-1',
      correlationid: 'corr-1',
      datacontenttype: 'application/avro',
      data: shipped('o-1', 1),
    });
    expect(received.filter((r) => r.key === 'o-2').map((r) => r.event.data.shipmentId)).toEqual(['s-2', 's-3']);

    const filtered = await shoal(['subscribe', 'orders.order', 'payments.payment', '--from-beginning', '--type', 'shoal.orders.OrderShipped', '--max-messages', '1', '--group', uniqueName('g')], { env });
    expect(filtered.code, filtered.stderr).toBe(0);
    expect(JSON.parse(filtered.out).event.type).toBe('shoal.orders.OrderShipped');
  });

  // util-linux's script(1) runs the subscriber on a pseudo-terminal, as a person would see it.
  it.skipIf(!existsSync(SCRIPT))('shows events readably and in colour on a terminal', async () => {
    const { env } = await platform();
    expect((await shoal(['publish', 'orders.order', '--type', 'shoal.orders.OrderShipped', '--data', JSON.stringify(shipped('o-5', 5))], { env })).code).toBe(0);
    const command = [process.execPath, SHOAL_BIN, 'subscribe', 'orders.order', '--from-beginning', '--max-messages', '1'].map((a) => `'${a}'`).join(' ');
    const { NO_COLOR: _noColor, ...terminalEnv } = process.env;
    const result = await runProcess(SCRIPT, ['-qec', command, '/dev/null'], { timeoutMs: 30_000, env: { ...terminalEnv, ...env, TERM: 'xterm-256color' } });
    expect(result.code, processReport(result)).toBe(0);
    const screen = result.stdout.toString('utf8');
    // Bold cyan event type, the position, the attributes, and the data laid out by util.inspect (not JSON).
    expect(screen).toContain('\u001b[1m\u001b[36mshoal.orders.OrderShipped');
    expect(screen).toMatch(/orders\.order\/\d@0/);
    expect(screen).toContain('partitionkey=');
    expect(screen).toContain("orderId: \u001b[32m'o-5'\u001b[39m");
    expect(screen).not.toContain('{"topic"');
  });

  it('refuses data that does not match the schema, naming each field, and sends nothing', async () => {
    const { env } = await platform();
    const bad = await shoal(['publish', 'orders.order', '--type', 'shoal.orders.OrderShipped', '--data', '{"orderId":"o-9","customerId":"c","shipmentId":7,"shippedAt":"soon"}'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('data.shipmentId: expected string, got 7');
    expect(bad.stderr).toContain('data.trackingNumber: expected string, got undefined');
    expect(bad.stderr).toContain('data.shippedAt: expected long, got "soon"');

    const notJson = await shoal(['publish', 'orders.order', '--type', 'shoal.orders.OrderShipped', '--data', '{"orderId":'], { env });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('--data line 1 is not JSON');

    const wrongTopic = await shoal(['publish', 'payments.payment', '--type', 'shoal.orders.OrderShipped', '--data', JSON.stringify(shipped('o-9', 9))], { env });
    expect(wrongTopic.code).toBe(2);
    expect(wrongTopic.stderr).toContain('shoal.orders.OrderShipped belongs on topic orders.order');

    const topics = await shoal(['topics', 'list', '--json'], { env });
    const ordersTopic = (JSON.parse(topics.out) as { topic: string; messages: number }[]).find((t) => t.topic === 'orders.order');
    expect(ordersTopic?.messages ?? 0).toBe(0);
  });

  it('reports a record that is not a Shoal event on stderr and goes on with the next one', async () => {
    const { broker, env } = await platform();
    const producer = await connected(kafkaFor(broker.bootstrap).producer());
    // Same key, so the same partition: the poison record comes first.
    await producer.send({ topic: 'orders.order', messages: [{ key: 'o-3', value: 'not avro', headers: { ce_specversion: '1.0', ce_id: 'x-1', ce_source: '/elsewhere', ce_type: 'shoal.orders.OrderShipped', 'content-type': 'application/avro' } }] });
    expect((await shoal(['publish', 'orders.order', '--type', 'shoal.orders.OrderShipped', '--data', JSON.stringify(shipped('o-3', 3))], { env })).code).toBe(0);
    const read = await shoal(['subscribe', 'orders.order', '--from-beginning', '--max-messages', '1'], { env });
    expect(read.code, read.stderr).toBe(0);
    expect(read.stderr).toMatch(/^skipped orders\.order\/\d@0: SHOAL_EVENT_DECODE: Cannot decode the event value: value starts with magic byte 0x6e, expected 0x00/m);
    expect(JSON.parse(read.out).event.data).toEqual(shipped('o-3', 3));
  });

  it('says in one line which server is unreachable and how to point at another', async () => {
    const { broker } = await startTestBroker().then((b) => ({ broker: b }));
    const noRegistry = await shoal(['publish', 'orders.order', '--type', 'shoal.orders.OrderShipped', '--data', JSON.stringify(shipped('o-1', 1))], {
      env: { KAFKA_BROKERS: broker.bootstrap, SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1' },
    });
    expect(noRegistry.code).toBe(1);
    expect(noRegistry.stderr.trim().split('\n')).toHaveLength(1);
    expect(noRegistry.stderr).toContain('Schema registry at http://127.0.0.1:1 is unreachable');
    expect(noRegistry.stderr).toContain('SCHEMA_REGISTRY_URL');

    const noBroker = await shoal(['subscribe', 'orders.order'], { env: { KAFKA_BROKERS: '127.0.0.1:1' } });
    expect(noBroker.code).toBe(1);
    expect(noBroker.stderr).toContain('cannot reach the Kafka broker at 127.0.0.1:1');
  });

  it.skipIf(kcatMissingReason() !== null)('writes binary-mode CloudEvents that kcat shows as ce_* headers and a Confluent-framed value', async () => {
    const { broker, env } = await platform();
    const published = await shoal(['publish', 'orders.order', '--type', 'shoal.orders.OrderShipped', '--data', JSON.stringify(shipped('o-7', 7)), '--causation-id', 'cause-1'], { env });
    expect(published.code, published.stderr).toBe(0);
    const consumed = await runProcess(KCAT, ['-b', broker.bootstrap, '-t', 'orders.order', '-C', '-J', '-e', '-o', 'beginning', '-q'], { timeoutMs: 20_000 });
    expect(consumed.code, processReport(consumed)).toBe(0);
    const record = JSON.parse(consumed.stdout.toString('utf8').trim()) as { key: string; headers: string[]; payload: string };
    const headers = Object.fromEntries(Array.from({ length: record.headers.length / 2 }, (_, i) => [record.headers[2 * i], record.headers[2 * i + 1]]));
    expect(headers).toMatchObject({
      ce_specversion: '1.0',
      ce_type: 'shoal.orders.OrderShipped',
      ce_source: '/shoal/cli',
      ce_subject: 'o-7',
      ce_partitionkey: 'o-7',
      ce_causationid: 'cause-1',
      'content-type': 'application/avro',
    });
    expect(headers.ce_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.isNaN(Date.parse(headers.ce_time ?? ''))).toBe(false);
    expect(record.key).toBe('o-7');
    expect(record.payload.charCodeAt(0)).toBe(0);
  });

  const missingPython = pythonModulesMissingReason(['confluent_kafka', 'confluent_kafka.schema_registry', 'avro.io']);
  it.skipIf(missingPython !== null)('writes events that Python decodes with confluent-kafka, its registry client and Apache avro', async () => {
    const { broker, registry, env } = await platform();
    const data = { orderId: 'o-42', customerId: 'c-9', lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: { amount: 1500, currency: 'EUR' } }], total: { amount: 3000, currency: 'EUR' }, shippingAddress: null, placedAt: 1_767_225_600_000 };
    const published = await shoal(['publish', 'orders.order', '--type', 'shoal.orders.OrderPlaced', '--data', JSON.stringify(data), '--json'], { env });
    expect(published.code, published.stderr).toBe(0);
    const { id } = JSON.parse(published.out) as { id: string };

    const result = await runProcess(PYTHON, ['-u', `${SCRIPT_DIR}decode_shoal_events.py`, broker.bootstrap, registry.url, 'orders.order', '1', '40'], {
      timeoutMs: 60_000,
      env: { ...process.env, PYTHONNOUSERSITE: '1', PYTHONDONTWRITEBYTECODE: '1', NO_PROXY: '127.0.0.1,localhost' },
    });
    expect(result.code, processReport(result)).toBe(0);
    const report = JSON.parse(result.stdout.toString('utf8'));
    expect(report.ok, processReport(result)).toBe(true);
    const [event] = report.events;
    expect(event.magic).toBe(0);
    expect(event.schemaName).toBe('shoal.orders.OrderPlaced');
    expect(event.key).toBe('o-42');
    expect(event.headers).toMatchObject({ ce_id: id, ce_type: 'shoal.orders.OrderPlaced', 'content-type': 'application/avro' });
    expect(event.data).toEqual(data);
  });

  it.skipIf(missingPython !== null)('reads events that Python wrote in binary mode (Apache avro) and structured mode', async () => {
    const { broker, registry, env } = await platform();
    const result = await runProcess(
      PYTHON,
      ['-u', `${SCRIPT_DIR}produce_foreign_events.py`, broker.bootstrap, registry.url, 'orders.order', 'orders.order-shoal.orders.OrderShipped', '40'],
      { timeoutMs: 60_000, env: { ...process.env, PYTHONNOUSERSITE: '1', PYTHONDONTWRITEBYTECODE: '1', NO_PROXY: '127.0.0.1,localhost' } },
    );
    const report = JSON.parse(result.stdout.toString('utf8'));
    expect(report.ok && report.unflushed === 0, processReport(result)).toBe(true);

    const read = await shoal(['subscribe', 'orders.order', '--from-beginning', '--max-messages', '2'], { env });
    expect(read.code, read.stderr).toBe(0);
    const events = read.out.trim().split('\n').map((l) => JSON.parse(l).event);
    const binary = events.find((e) => e.id === report.binaryId);
    expect(binary).toMatchObject({ type: 'shoal.orders.OrderShipped', source: '/python/shipping', subject: 'py-1', partitionkey: 'py-1', datacontenttype: 'application/avro' });
    expect(binary.data).toEqual({ orderId: 'py-1', customerId: 'c-py', shipmentId: 's-py-1', trackingNumber: 'PY1', shippedAt: 1_767_225_600_000 });
    const structured = events.find((e) => e.id === report.structuredId);
    expect(structured).toMatchObject({ datacontenttype: 'application/json', partitionkey: 'py-2', time: '2026-01-01T00:00:01Z' });
    expect(structured.data).toMatchObject({ orderId: 'py-2', trackingNumber: 'PY2' });
  });
});
