import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { onTestFinished } from 'vitest';
import { startBroker, type BrokerOptions, type RunningBroker } from '../broker.js';

let nameCounter = 0;

/** A topic, group or client name no other test (in this file, another file or an earlier run) uses. */
export function uniqueName(prefix: string): string {
  nameCounter += 1;
  return `${prefix}-${process.pid}-${nameCounter}-${randomUUID().slice(0, 8)}`;
}

/** A fresh temp dir, removed when the current test finishes. */
export function tempDir(prefix = 'test'): string {
  const dir = mkdtempSync(join(tmpdir(), `shoal-${prefix}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

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
