/**
 * The same end-to-end scenarios against Apache Kafka and Confluent's schema registry in containers
 * (testcontainers), with the six services run by `shoal dev --brokers … --registry …` instead of the embedded
 * platform. It needs a Docker engine: where testcontainers finds none (as on the machines this project is
 * built on), the suite is skipped with the reason; wherever one is reachable it runs.
 */
import { freePort } from '@shoal/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAFKA_VERSION } from '@shoal/apache-kafka';
import { burstInvariants, cancelAfterConfirmation, declinedPayment, happyPath, outOfStock, placeBurst } from './support/scenarios.js';
import { startShoalDev, type ShoalDev } from './support/shoal-dev.js';
import { Shop } from './support/shop.js';

// The version the other Apache Kafka suites run as a JVM process (infra/apache-kafka/pom.xml).
const KAFKA_IMAGE = `apache/kafka:${KAFKA_VERSION}`;
const REGISTRY_IMAGE = 'confluentinc/cp-schema-registry:8.0.0';

/** Why there is no container engine to run on, or null when there is one. */
async function dockerMissingReason(): Promise<string | null> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await Promise.race([
      getContainerRuntimeClient(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 15 s')), 15_000)),
    ]);
    return client === undefined ? 'testcontainers found no container runtime' : null;
  } catch (error) {
    return (error as Error).message;
  }
}

const missing = await dockerMissingReason();

describe.runIf(missing !== null)('order fulfilment against Apache Kafka (testcontainers)', () => {
  it.skip(`skipped: no Docker engine is reachable (${missing}); this suite runs wherever testcontainers finds one`, () => undefined);
});

describe.runIf(missing === null)('order fulfilment against Apache Kafka (testcontainers)', () => {
  let dev: ShoalDev;
  let shop: Shop;
  let dataDir: string;
  const stops: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    const { GenericContainer, Network, Wait } = await import('testcontainers');
    const network = await new Network().start();
    stops.push(() => network.stop());
    // Kafka advertises the address clients reach it at, so the host port is chosen before the container starts.
    const kafkaPort = await freePort();
    const kafka = await new GenericContainer(KAFKA_IMAGE)
      .withNetwork(network)
      .withNetworkAliases('kafka')
      .withExposedPorts({ container: 9092, host: kafkaPort })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'EXTERNAL://:9092,INTERNAL://:19092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: `EXTERNAL://127.0.0.1:${kafkaPort},INTERNAL://kafka:19092`,
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT,INTERNAL:PLAINTEXT',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .withStartupTimeout(180_000)
      .start();
    stops.push(() => kafka.stop());
    const registry = await new GenericContainer(REGISTRY_IMAGE)
      .withNetwork(network)
      .withExposedPorts(8081)
      .withEnvironment({
        SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
        SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
        SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:19092',
      })
      .withWaitStrategy(Wait.forHttp('/subjects', 8081).forStatusCode(200))
      .withStartupTimeout(180_000)
      .start();
    stops.push(() => registry.stop());

    dataDir = mkdtempSync(join(tmpdir(), 'shoal-e2e-kafka-'));
    dev = await startShoalDev({
      dataDir,
      args: ['--brokers', `127.0.0.1:${kafkaPort}`, '--registry', `http://${registry.getHost()}:${registry.getMappedPort(8081)}`],
    });
    shop = new Shop((service) => dev.url(service));
  }, 600_000);

  afterAll(async () => {
    if (dev !== undefined) expect(await dev.stop()).toBe(0);
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }, 180_000);

  it('ships an order', () => happyPath(shop), 120_000);
  it('cancels an order whose stock is short', () => outOfStock(shop), 90_000);
  it('cancels an order whose payment is declined and releases its stock', () => declinedPayment(shop), 90_000);
  it('refunds, releases and cancels the shipment when a confirmed order is cancelled', () => cancelAfterConfirmation(shop), 120_000);
  it('keeps every invariant over a burst of 500 concurrent orders', async () => {
    const burst = await placeBurst(shop, { count: 500, seed: 5 });
    expect(burst.refused).toBe(0);
    await burstInvariants(shop, burst);
  }, 300_000);
});
