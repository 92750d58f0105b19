/**
 * Test support for any package that needs a real broker: `@shoal/broker/testing`. Not part of the
 * runtime surface (it imports vitest).
 */
export { startTestBroker, kafkaFor } from './broker.js';
export { RawKafkaClient } from './raw-client.js';
export { encodeBatch } from './kafkajs-batch.js';
export type { TestRecord, TestBatchOptions } from './kafkajs-batch.js';
export { ApiKey } from '../protocol/api-keys.js';
