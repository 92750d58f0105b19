/**
 * The same end-to-end scenarios as choreography.test.ts, from the same code (support/choreography-suite.ts),
 * on Apache Kafka: the pinned version as a JVM process (@shoal/apache-kafka), with `shoal dev --brokers`
 * running Shoal's own schema registry and the six services against it. Runs wherever Java and Maven are
 * (CI included); elsewhere it is skipped with the reason.
 */
import { describe, it } from 'vitest';
import { KAFKA_VERSION, startApacheKafka, type ApacheKafka } from '@shoal/apache-kafka';
import { apacheKafkaMissing } from '../apache-kafka/shared-apache-kafka.js';
import { choreographySuite } from './support/choreography-suite.js';

if (apacheKafkaMissing !== null) {
  describe('order fulfilment on Apache Kafka', () => {
    it.skip(`skipped: ${apacheKafkaMissing}`, () => undefined);
  });
} else {
  let kafka: ApacheKafka | undefined;
  choreographySuite({
    name: `Apache Kafka ${KAFKA_VERSION}`,
    // Kafka's defaults otherwise, as docker-compose.yml runs it.
    before: async () => void (kafka = await startApacheKafka()),
    devArgs: () => ['--brokers', kafka!.bootstrap],
    after: async () => kafka?.stop(),
  });
}
