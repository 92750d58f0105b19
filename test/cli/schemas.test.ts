/** `shoal schemas register|check|list` as a user and a CI gate run them, against a real registry and real git. */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '@shoal/testing';
import { createEvent, encodeWireFormat, toKafkaMessage } from '@shoal/contract';
import { orderPlacedData, startTestPlatform } from '@shoal/contract/testing';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { Publisher } from '@shoal/transport';
import { REPO_ROOT, shoal } from './helpers.js';

/** A copy of the repository's schemas/ that a test may change. */
function schemasCopy(): string {
  const dir = join(tempDir('schemas'), 'schemas');
  cpSync(join(REPO_ROOT, 'schemas'), dir, { recursive: true });
  return dir;
}

/** OrderShipped gains a field: with a default it is a safe change, without one it breaks old events. */
function addCarrierField(schemasDir: string, withDefault: boolean): void {
  const file = join(schemasDir, 'orders/OrderShipped.avsc');
  const schema = JSON.parse(readFileSync(file, 'utf8'));
  schema.fields.push({ name: 'carrier', type: 'string', doc: 'Who carries the parcel.', ...(withDefault ? { default: 'unknown' } : {}) });
  writeFileSync(file, JSON.stringify(schema, null, 2));
}

describe('shoal schemas', () => {
  it('registers every schema idempotently and lists what the registry holds', async () => {
    const registry = await startTestRegistry({ defaultCompatibility: 'BACKWARD_TRANSITIVE' });
    const env = { SCHEMA_REGISTRY_URL: registry.url };
    const before = JSON.parse((await shoal(['schemas', 'list', '--json'], { env })).out) as { type: string; state: string }[];
    expect(before).toHaveLength(16);
    expect(new Set(before.map((r) => r.state))).toEqual(new Set(['not registered']));

    const first = await shoal(['schemas', 'register', '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    const registered = JSON.parse(first.out) as { subject: string; id: number; version: number }[];
    expect(registered).toHaveLength(19);
    expect(registered.map((r) => r.subject)).toContain('orders.order-shoal.orders.OrderPlaced');
    expect(registered.slice(0, 3).map((r) => r.subject).sort()).toEqual(['shoal.common.Address', 'shoal.common.LineItem', 'shoal.common.Money']);
    const again = JSON.parse((await shoal(['schemas', 'register', '--json'], { env })).out);
    expect(again).toEqual(registered);

    const text = await shoal(['schemas', 'register'], { env });
    expect(text.out).toMatch(/^orders\.order-shoal\.orders\.OrderPlaced\s+\d+\s+1$/m);
    expect(text.out).toContain(`19 schema(s) registered at ${registry.url}`);

    const after = JSON.parse((await shoal(['schemas', 'list', '--json'], { env })).out) as { type: string; topic: string; state: string; version: number }[];
    expect(after.find((r) => r.type === 'shoal.payments.PaymentDeclined')).toMatchObject({ topic: 'payments.payment', state: 'registered', version: 1 });
  });

  it('checks the working tree against the registry, explaining each incompatible field, as a CI gate', async () => {
    const registry = await startTestRegistry({ defaultCompatibility: 'BACKWARD_TRANSITIVE' });
    const env = { SCHEMA_REGISTRY_URL: registry.url };
    expect((await shoal(['schemas', 'register'], { env })).code).toBe(0);
    const schemas = schemasCopy();

    const unchanged = await shoal(['schemas', 'check', '--schemas', schemas], { env });
    expect(unchanged.code, unchanged.stderr).toBe(0);
    expect(unchanged.out).toContain(`all 19 schema(s) are compatible with the registry at ${registry.url}`);

    addCarrierField(schemas, false);
    const broken = await shoal(['schemas', 'check', '--schemas', schemas], { env });
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^INCOMPATIBLE\s+orders\.order-shoal\.orders\.OrderShipped$/m);
    expect(broken.out).toContain("the new schema cannot read data written with version 1: READER_FIELD_MISSING_DEFAULT_VALUE: field 'carrier'");
    expect(broken.out).toContain('1 of 19 schema(s) are incompatible');

    const fixed = schemasCopy();
    addCarrierField(fixed, true);
    const compatible = await shoal(['schemas', 'check', '--schemas', fixed, '--json'], { env });
    expect(compatible.code, compatible.out).toBe(0);
    expect(JSON.parse(compatible.out).compatible).toBe(true);
  });

  it('checks against the schemas of another git commit without a registry', async () => {
    const repo = tempDir('git');
    cpSync(join(REPO_ROOT, 'schemas'), join(repo, 'schemas'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'schemas');
    const schemas = join(repo, 'schemas');
    // No registry anywhere: port 1 refuses, and --against must not need one.
    const env = { SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1' };

    expect((await shoal(['schemas', 'check', '--schemas', schemas, '--against', 'HEAD'], { env })).code).toBe(0);

    addCarrierField(schemas, false);
    const broken = await shoal(['schemas', 'check', '--schemas', schemas, '--against', 'HEAD'], { env });
    expect(broken.code).toBe(1);
    expect(broken.out).toContain("the new schema cannot read data written with HEAD: READER_FIELD_MISSING_DEFAULT_VALUE: field 'carrier'");
    expect(broken.out).toContain('incompatible with HEAD (BACKWARD_TRANSITIVE)');

    const unknownRef = await shoal(['schemas', 'check', '--schemas', schemas, '--against', 'no-such-branch'], { env });
    expect(unknownRef.code).toBe(2);
    expect(unknownRef.stderr).toContain('--against no-such-branch: not a commit, branch or tag');
  });

  it('checks every writer schema id the topics retain against the reader schemas, seeing a history the registry forgot after a subject reset', async () => {
    const platform = await startTestPlatform();
    const env = { KAFKA_BROKERS: platform.bootstrap, SCHEMA_REGISTRY_URL: platform.registryUrl };
    const kafka = platform.kafka();
    const publisher = new Publisher({ kafka, codec: platform.codec });
    await publisher.connect();
    onTestFinished(() => publisher.disconnect());
    const source = '/shoal/orders';
    const shipped = (orderId: string) => ({ orderId, customerId: 'c-1', shipmentId: `s-${orderId}`, trackingNumber: 'TRK-1', shippedAt: 1_700_000_000_000 });
    await publisher.publishRecords([
      ...['o-1', 'o-2', 'o-3'].map((orderId) => ({ event: createEvent('shoal.orders.OrderPlaced', orderPlacedData({ orderId }), { source, subject: orderId }), topic: 'orders.order' })),
      { event: createEvent('shoal.orders.OrderShipped', shipped('o-1'), { source, subject: 'o-1' }), topic: 'orders.order' },
    ]);

    const clean = await shoal(['schemas', 'check', '--against-topics'], { env });
    expect(clean.code, clean.stderr + clean.out).toBe(0);
    expect(clean.out).toMatch(/^ok {2}orders\.order {2}schema id \d+ {2}shoal\.orders\.OrderPlaced {2}\(3 record\(s\), the first at orders\.order\/\d+@\d+\)$/m);
    expect(clean.out).toMatch(/^ok {2}orders\.order {2}schema id \d+ {2}shoal\.orders\.OrderShipped {2}\(1 record\(s\)/m);
    expect(clean.out).toContain('empty    payments.payment: no retained records');
    expect(clean.out).toMatch(/the reader schemas read all 2 writer schema\(s\) found in 4 record\(s\) of \d+ topic\(s\)/);

    // The subject is reset and an OrderShipped without trackingNumber is registered (no earlier version to
    // be compatible with) and written; the subject is reset again and today's schema registered anew.
    const subject = 'orders.order-shoal.orders.OrderShipped';
    const registry = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${platform.registryUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status, `${method} ${path}`).toBe(200);
      return (await response.json()) as { id: number };
    };
    const current = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas/orders/OrderShipped.avsc'), 'utf8')) as { fields: { name: string }[] };
    const older = { ...current, fields: current.fields.filter((field) => field.name !== 'trackingNumber') };
    await registry('DELETE', `/subjects/${subject}`);
    const { id: olderId } = await registry('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(older) });
    const olderType = await platform.registry.schemaType(olderId);
    const { trackingNumber: _dropped, ...olderData } = shipped('o-2');
    const producer = kafka.producer();
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    const oldEvent = createEvent('shoal.orders.OrderShipped', shipped('o-2'), { source, subject: 'o-2' });
    await producer.send({ topic: 'orders.order', messages: [toKafkaMessage({ ...oldEvent, datacontenttype: 'application/avro', data: encodeWireFormat(olderId, olderType, olderData) })] });
    await registry('DELETE', `/subjects/${subject}`);
    await registry('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(current) });

    // The registry sees nothing wrong: the subject holds today's schema only.
    const registryCheck = await shoal(['schemas', 'check'], { env });
    expect(registryCheck.code, registryCheck.out).toBe(0);

    const broken = await shoal(['schemas', 'check', '--against-topics'], { env });
    expect(broken.code, broken.stderr).toBe(1);
    expect(broken.out).toContain(`INCOMPATIBLE  orders.order  schema id ${olderId}  shoal.orders.OrderShipped  (1 record(s), the first at orders.order/`);
    expect(broken.out).toContain("READER_FIELD_MISSING_DEFAULT_VALUE: field 'trackingNumber'");
    expect(broken.out).toContain('1 of 3 writer schema(s) in the topics cannot be read by the current reader schemas');

    const json = await shoal(['schemas', 'check', '--against-topics', '--json'], { env });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as { compatible: boolean; results: { topic: string; schemaId: number; type: string; status: string; messages: string[] }[] };
    expect(report.compatible).toBe(false);
    expect(report.results.filter((result) => result.status !== 'ok')).toEqual([
      expect.objectContaining({ topic: 'orders.order', schemaId: olderId, type: 'shoal.orders.OrderShipped', status: 'incompatible', messages: [expect.stringContaining("field 'trackingNumber'")] }),
    ]);

    const misuse = await shoal(['schemas', 'list', '--against-topics'], { env });
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toContain('--against-topics applies to check only');
  });
});
