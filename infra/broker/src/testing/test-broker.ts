import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { onTestFinished } from 'vitest';
import { tempDir, uniqueName } from '@shoal/testing';
import { startBroker, type BrokerOptions, type RunningBroker } from '../broker.js';

/** A broker in-process on a free port and a fresh temp dir, closed and removed when the calling test finishes. */
export async function startTestBroker(options: Partial<BrokerOptions> = {}): Promise<RunningBroker & { dataDir: string }> {
  const dataDir = options.dataDir ?? tempDir('broker');
  const broker = await startBroker({ port: 0, logLevel: 'warn', groupInitialRebalanceDelayMs: 50, ...options, dataDir });
  // Registered after tempDir's cleanup, so it runs first: close the broker, then remove its files.
  onTestFinished(() => broker.close());
  return { ...broker, close: broker.close, dataDir };
}

/** A kafkajs client for `bootstrap` that stays quiet and retries briefly. */
export function kafkaFor(bootstrap: string, config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: uniqueName('test-client'),
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 50 },
    ...config,
  });
}

/** Connects a kafkajs client and disconnects it when the current test finishes. */
export async function connected<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(client: T): Promise<T> {
  onTestFinished(() => client.disconnect());
  await client.connect();
  return client;
}
