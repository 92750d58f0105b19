/**
 * Conformance of the embedded broker and Shoal's registry with confluent-kafka from PyPI: a newer librdkafka
 * than Debian's, its AdminClient, and its Schema Registry client with its own fastavro-based
 * AvroSerializer / AvroDeserializer, which decode what Shoal publishes and publish what Shoal consumes.
 * ./python/confluent_pypi.py runs in the venv `.ci/run` builds from ./python/requirements-pypi.txt.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { connected } from '@shoal/testing';
import { uniqueName } from '@shoal/testing';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { shoal } from '../cli/helpers.js';
import { processReport, runProcess } from './client-processes.js';

const SCRIPT = fileURLToPath(new URL('./python/confluent_pypi.py', import.meta.url));
const VENV_PYTHON = process.env.SHOAL_PYPI_PYTHON ?? fileURLToPath(new URL('./python/.venv/bin/python', import.meta.url));
const DEADLINE_S = 40;

const venvMissing = existsSync(VENV_PYTHON) ? null : `${VENV_PYTHON} does not exist (.ci/run creates it: python3 -m venv and pip install -r test/conformance/python/requirements-pypi.txt)`;
if (venvMissing !== null && process.env.CI === 'true') throw new Error(`CI runs the PyPI confluent-kafka tests: ${venvMissing}`);

if (venvMissing !== null) {
  describe('confluent-kafka from PyPI', () => {
    it.skip(`skipped: ${venvMissing}`, () => undefined);
  });
}

async function script<T>(scenario: string, args: string[], env: Record<string, string> = {}): Promise<T> {
  const result = await runProcess(VENV_PYTHON, ['-u', SCRIPT, scenario, String(DEADLINE_S), ...args], {
    timeoutMs: (DEADLINE_S + 15) * 1000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', NO_PROXY: '127.0.0.1,localhost', ...env },
  });
  const last = result.stdout.toString('utf8').trim().split('\n').at(-1) ?? '';
  let parsed: T & { ok: boolean; error?: string };
  try {
    parsed = JSON.parse(last) as T & { ok: boolean; error?: string };
  } catch {
    throw new Error(`confluent_pypi.py ${scenario} printed no JSON:\n${processReport(result)}`);
  }
  if (!parsed.ok) throw new Error(`confluent_pypi.py ${scenario} failed: ${parsed.error}\n${processReport(result)}`);
  return parsed;
}

describe.skipIf(venvMissing !== null)('confluent-kafka 2.16 from PyPI (librdkafka 2.16) against the embedded broker', () => {
  it('produces idempotently with keys and headers, consumes in a group, commits, and resumes after the commit', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('pypi-produce');
    const groupId = uniqueName('pypi-group');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });

    const produced = await script<{ delivered: string[]; errors: string[]; unflushed: number; librdkafka: string }>('produce', [broker.bootstrap, topic, '20']);
    expect(produced).toMatchObject({ errors: [], unflushed: 0 });
    expect(produced.delivered).toHaveLength(20);
    expect(produced.librdkafka).toMatch(/^2\.(1[6-9]|[2-9]\d)\./);
    expect((await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0)).toBe(20);

    const consumed = await script<{ records: string[]; committed: string[] }>('consume', [broker.bootstrap, topic, groupId, '20']);
    expect(consumed.records).toHaveLength(20);
    expect(consumed.records.find((r) => r.includes(' k7 '))).toMatch(/^\d:\d+ k7 py-7 \[ce_type:conformance\.ConfluentPyPI,n:7\]$/);
    const ends = await admin.fetchTopicOffsets(topic);
    expect(consumed.committed).toEqual(ends.map((p) => `${p.partition}:${p.high}`).sort());

    const producer = await connected(kafka.producer());
    await producer.send({ topic, messages: [{ partition: 1, key: 'late', value: 'after-commit' }] });
    const resumed = await script<{ records: string[] }>('consume', [broker.bootstrap, topic, groupId, '1']);
    expect(resumed.records).toEqual([`1:${ends.find((p) => p.partition === 1)!.high} late after-commit []`]);
  });

  it('rebalances two members on join and on leave', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('pypi-rebalance');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const producer = await connected(kafka.producer());
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: 'v' })) });

    const result = await script<Record<string, unknown>>('group', [broker.bootstrap, topic, uniqueName('pypi-rebalance'), '20']);
    expect(result).toMatchObject({ firstAlone: [0, 1, 2, 3], members: 2, state: 'STABLE', firstAfterLeave: [0, 1, 2, 3], keys: 20 });
    expect([...(result.firstShared as number[]), ...(result.secondShared as number[])].sort()).toEqual([0, 1, 2, 3]);
  });

  describe('with the consumer group protocol (group.protocol=consumer, KIP-848)', () => {
    const consumerProtocol = { GROUP_PROTOCOL: 'consumer' };
    // Members learn of a new target assignment on their next heartbeat: a short interval keeps the test short.
    const startBroker = () => startTestBroker({ consumerHeartbeatIntervalMs: 300 });

    it('consumes in a group, commits with its member epoch, and resumes after the commit', async () => {
      const broker = await startBroker();
      const kafka = kafkaFor(broker.bootstrap);
      const topic = uniqueName('pypi848-consume');
      const groupId = uniqueName('pypi848-group');
      const admin = await connected(kafka.admin());
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const producer = await connected(kafka.producer());
      await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `js-${i}` })) });

      const consumed = await script<{ records: string[]; committed: string[] }>('consume', [broker.bootstrap, topic, groupId, '10'], consumerProtocol);
      expect(consumed.records).toHaveLength(10);
      expect(consumed.committed).toEqual(['0:5', '1:5']);
      await producer.send({ topic, messages: [{ partition: 1, key: 'late', value: 'after-commit' }] });
      const resumed = await script<{ records: string[] }>('consume', [broker.bootstrap, topic, groupId, '1'], consumerProtocol);
      expect(resumed.records).toEqual(['1:5 late after-commit []']);
      const apis = new Set(broker.requestCounts().map((c) => c.api));
      expect(apis).toContain('ConsumerGroupHeartbeat');
      expect(apis).not.toContain('JoinGroup');
    });

    it('assigns on the broker: two members split the partitions on join, the first takes them all back on leave', async () => {
      const broker = await startBroker();
      const kafka = kafkaFor(broker.bootstrap);
      const topic = uniqueName('pypi848-rebalance');
      const admin = await connected(kafka.admin());
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      const producer = await connected(kafka.producer());
      await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: 'v' })) });

      const result = await script<Record<string, unknown>>('group', [broker.bootstrap, topic, uniqueName('pypi848-rebalance'), '20'], consumerProtocol);
      expect(result).toMatchObject({ firstAlone: [0, 1, 2, 3], members: 2, state: 'STABLE', firstAfterLeave: [0, 1, 2, 3], keys: 20 });
      expect([(result.firstShared as number[]).length, (result.secondShared as number[]).length]).toEqual([2, 2]);
      expect([...(result.firstShared as number[]), ...(result.secondShared as number[])].sort()).toEqual([0, 1, 2, 3]);
      expect(new Set(broker.requestCounts().map((c) => c.api))).not.toContain('JoinGroup');
    });
  });

  it('administers topics, configs, offsets, records and groups through AdminClient', async () => {
    const broker = await startTestBroker();
    const topic = uniqueName('pypi-admin');
    const result = await script<Record<string, unknown>>('admin', [broker.bootstrap, topic]);
    expect(result).toEqual({
      ok: true,
      clusterNodes: 1,
      createAgain: 'TOPIC_ALREADY_EXISTS',
      listed: true,
      partitions: 2,
      'retention.ms': '3600000',
      'altered.retention.ms': '7200000',
      'altered.max.message.bytes': '500000',
      grown: 3,
      earliest: 0,
      latest: 10,
      forTimestamp: 5,
      maxTimestamp: 9,
      afterDeleteEarliest: 3,
      groupListed: true,
      groupState: 'EMPTY',
      groupOffsetP0: 10,
      groupDeleted: true,
      deleted: topic,
    });
  });

  it("decodes what Shoal publishes with AvroDeserializer, and Shoal reads what AvroSerializer wrote", async () => {
    const [broker, registry] = await Promise.all([startTestBroker(), startTestRegistry({ defaultCompatibility: 'BACKWARD_TRANSITIVE' })]);
    const env = { KAFKA_BROKERS: broker.bootstrap, SCHEMA_REGISTRY_URL: registry.url };
    const registered = await shoal(['schemas', 'register'], { env });
    expect(registered.code, registered.stderr).toBe(0);

    // OrderPlaced references Money and LineItem: the deserializer resolves the references through the registry.
    const placed = { orderId: 'o-pypi', customerId: 'c-9', lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: { amount: 1500, currency: 'EUR' } }], total: { amount: 3000, currency: 'EUR' }, shippingAddress: null, placedAt: 1_767_225_600_000 };
    const published = await shoal(['publish', 'orders.order', '--type', 'shoal.orders.OrderPlaced', '--data', JSON.stringify(placed), '--json'], { env });
    expect(published.code, published.stderr).toBe(0);
    const { id } = JSON.parse(published.out) as { id: string };
    const decoded = await script<{ events: { key: string; headers: Record<string, string>; data: unknown }[] }>('avro-decode', [broker.bootstrap, registry.url, 'orders.order', '1']);
    expect(decoded.events).toEqual([{ key: 'o-pypi', headers: expect.objectContaining({ ce_id: id, ce_type: 'shoal.orders.OrderPlaced', 'content-type': 'application/avro' }), data: placed }]);

    const written = await script<{ id: string; unflushed: number }>('avro-produce', [broker.bootstrap, registry.url, 'orders.order', 'orders.order-shoal.orders.OrderShipped', 'o-pypi']);
    expect(written.unflushed).toBe(0);
    const read = await shoal(['subscribe', 'orders.order', '--from-beginning', '--type', 'shoal.orders.OrderShipped', '--max-messages', '1'], { env });
    expect(read.code, read.stderr).toBe(0);
    const event = JSON.parse(read.out.trim().split('\n')[0]!).event;
    expect(event).toMatchObject({ id: written.id, type: 'shoal.orders.OrderShipped', source: '/python/pypi', subject: 'o-pypi', datacontenttype: 'application/avro' });
    expect(event.data).toEqual({ orderId: 'o-pypi', customerId: 'c-pypi', shipmentId: 's-o-pypi', trackingNumber: 'PYPI1', shippedAt: 1_767_225_600_000 });
  });
});
