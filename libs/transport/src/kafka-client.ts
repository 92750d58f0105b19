import { Kafka, type KafkaConfig } from 'kafkajs';
import { fixKafkajsRequestQueue } from './kafkajs-request-queue.js';

/**
 * Every kafkajs client of Shoal's production code comes from here, so none can be created before the
 * kafkajs 2.2.4 fix is in place (the import alone applies it; calling it again is a no-op).
 */
export function kafkaClient(config: KafkaConfig): Kafka {
  fixKafkajsRequestQueue();
  return new Kafka(config);
}
