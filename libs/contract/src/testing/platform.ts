/** Broker + registry for the calling test, with the catalog registered and its topics created. */
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { uniqueName } from '@shoal/testing';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import type { Kafka, KafkaConfig } from 'kafkajs';
import { onTestFinished } from 'vitest';
import { loadSchemaCatalog, type SchemaCatalog } from '../catalog/index.js';
import { registerCatalog } from '../catalog-registration.js';
import { EventCodec } from '../event-codec.js';
import { RegistryClient } from '../registry-client.js';

export interface TestPlatform {
  /** `host:port` of the broker. */
  bootstrap: string;
  registryUrl: string;
  catalog: SchemaCatalog;
  registry: RegistryClient;
  /** A codec on the registry and the catalog; warm once it has encoded or decoded a type. */
  codec: EventCodec;
  /** A new quiet kafkajs client of the broker (a unique client id each call). */
  kafka(config?: Partial<KafkaConfig>): Kafka;
  /** Creates a topic (default 3 partitions) and returns its name. */
  createTopic(name?: string, partitions?: number): Promise<string>;
  /** Stops the broker before the test ends (it is stopped at the end anyway). */
  stopBroker(): Promise<void>;
}

/**
 * Broker + registry for the calling test, closed when it finishes. The catalog (default: the repository's)
 * is registered and every catalog topic exists with its manifest partition count. With `bootstrap`, the
 * broker is one the caller runs (Apache Kafka, @shoal/apache-kafka), shared by the tests that use it: it is
 * neither started nor stopped here, and its topics may hold what earlier tests wrote.
 */
export async function startTestPlatform(options: { catalog?: SchemaCatalog; brokerDataDir?: string; brokerPort?: number; bootstrap?: string } = {}): Promise<TestPlatform> {
  const catalog = options.catalog ?? loadSchemaCatalog();
  const external = options.bootstrap;
  const [broker, registryServer] = await Promise.all([
    external === undefined
      ? startTestBroker({ ...(options.brokerDataDir ? { dataDir: options.brokerDataDir } : {}), ...(options.brokerPort ? { port: options.brokerPort } : {}) })
      : {
          bootstrap: external,
          close: () => Promise.reject(new Error(`the broker at ${external} is the caller's: stop it where it was started`)),
        },
    startTestRegistry(),
  ]);
  const registry = new RegistryClient({ url: registryServer.url });
  await registerCatalog(registry, catalog);
  const kafka = (config: Partial<KafkaConfig> = {}) => kafkaFor(broker.bootstrap, config);
  const admin = kafka().admin();
  await admin.connect();
  onTestFinished(() => admin.disconnect());
  await admin.createTopics({
    waitForLeaders: true,
    topics: [...catalog.topics.values()].map((topic) => ({ topic: topic.name, numPartitions: topic.partitions })),
  });
  return {
    bootstrap: broker.bootstrap,
    registryUrl: registryServer.url,
    catalog,
    registry,
    codec: new EventCodec({ registry, catalog }),
    kafka,
    async createTopic(name = uniqueName('topic'), partitions = 3) {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: partitions }] });
      return name;
    },
    stopBroker: () => broker.close(),
  };
}
