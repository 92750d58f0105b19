import { spawn } from 'node:child_process';
import { eventually, freePort } from '@shoal/testing';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { EventCodec, RegistryClient, createEvent, loadSchemaCatalog, registerCatalog } from '@shoal/contract';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { Publisher } from '@shoal/transport';
import { orderPlaced } from '@shoal/service-inventory/testing';
import { apacheKafkaMissing, sharedApacheKafka } from '../apache-kafka/shared-apache-kafka.js';
import { SHOAL_BIN, REPO_ROOT } from '../cli/helpers.js';

/**
 * `shoal console` standalone against Apache Kafka (the pinned version as a JVM, @shoal/apache-kafka) and a
 * schema registry: it reads what a producer of the test published there and answers the flow, the map and the
 * consumer groups over HTTP.
 */
if (apacheKafkaMissing !== null) {
  describe('the console on Apache Kafka', () => {
    it.skip(`skipped: ${apacheKafkaMissing}`, () => undefined);
  });
}

describe.skipIf(apacheKafkaMissing !== null)('the console on Apache Kafka', () => {
  const kafka = sharedApacheKafka();

  it('shows an order’s flow and its reaction, read from Apache Kafka by shoal console', async () => {
    const catalog = loadSchemaCatalog();
    const registryServer = await startTestRegistry();
    const registry = new RegistryClient({ url: registryServer.url });
    await registerCatalog(registry, catalog);
    const client = new Kafka({ clientId: 'console-apache-kafka-test', brokers: [kafka.current.bootstrap], logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    onTestFinished(() => admin.disconnect());
    await admin.createTopics({ waitForLeaders: true, topics: [...catalog.topics.values()].map((topic) => ({ topic: topic.name, numPartitions: topic.partitions })) });
    const publisher = new Publisher({ kafka: client, codec: new EventCodec({ registry, catalog }) });
    await publisher.connect();
    onTestFinished(() => publisher.disconnect());
    const placed = orderPlaced([['SKU-K', 1]], { orderId: 'o-on-kafka' });
    const reserved = createEvent(
      'shoal.inventory.StockReserved',
      { orderId: 'o-on-kafka', customerId: 'c-1', lines: placed.data.lines, total: placed.data.total, reservedAt: Date.now() },
      { source: '/shoal/inventory', subject: 'o-on-kafka', causedBy: placed },
    );
    await publisher.publishBatch([placed, reserved]);

    const port = await freePort();
    const child = spawn(process.execPath, [SHOAL_BIN, 'console', '--brokers', kafka.current.bootstrap, '--registry', registryServer.url, '--port', String(port), '--no-services', '--log-level', 'warn'], {
      cwd: REPO_ROOT,
      env: { ...process.env, KAFKA_BROKERS: undefined, SCHEMA_REGISTRY_URL: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    onTestFinished(() => void child.kill('SIGKILL'));
    const url = `http://127.0.0.1:${port}`;

    const flow = await eventually(
      async () => {
        const response = await fetch(`${url}/api/flows?q=o-on-kafka`, { signal: AbortSignal.timeout(5_000) });
        expect(response.status).toBe(200);
        const body = (await response.json()) as any;
        expect(body.events).toBe(2);
        return body;
      },
      { what: () => `the console's flow of o-on-kafka; its output:\n${output}`, timeoutMs: 60_000 },
    );
    expect(flow.roots[0]).toMatchObject({ type: 'shoal.orders.OrderPlaced', decoded: { data: { orderId: 'o-on-kafka' } } });
    expect(flow.roots[0].children[0]).toMatchObject({ type: 'shoal.inventory.StockReserved', service: 'inventory' });
    const map = (await (await fetch(`${url}/api/map`)).json()) as any;
    expect(map.edges).toEqual([expect.objectContaining({ from: 'orders', type: 'shoal.orders.OrderPlaced', to: 'inventory', count: 1 })]);
    const groups = (await (await fetch(`${url}/api/groups`)).json()) as any;
    expect(groups.groups).toEqual([]);

    child.kill('SIGINT');
    expect(await exited, output).toBe(0);
  }, 120_000);
});
