/**
 * The embedded broker started from code, and a plain kafkajs client against it: what docs/broker.md shows
 * under "Pointing clients at it". The doc-sample test runs it.
 */
// #region start-broker
import { startBroker } from '@shoal/broker';

export async function withBroker<T>(dataDir: string, use: (bootstrap: string) => Promise<T>): Promise<T> {
  const broker = await startBroker({ port: 0, dataDir }); // port 0: any free port
  try {
    return await use(broker.bootstrap); // "127.0.0.1:<port>"
  } finally {
    await broker.close();
  }
}
// #endregion start-broker

// #region kafkajs
import { Kafka } from 'kafkajs';

export async function produceAndConsume(bootstrap: string, topic: string): Promise<string> {
  const kafka = new Kafka({ clientId: 'my-app', brokers: [bootstrap] });
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ key: 'order-1', value: 'hello' }] });

  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = new Promise<string>((resolve) => {
    void consumer.run({ eachMessage: async ({ message }) => resolve(`${message.key?.toString()}=${message.value?.toString()}`) });
  });
  try {
    return await received;
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
}
// #endregion kafkajs
