import { logLevel, type Admin, type Kafka } from 'kafkajs';
import { kafkaClient } from '@shoal/transport';
import { ShoalError } from '@shoal/core';

/** Where the client commands find the platform: flag, then environment, then the local defaults. */
export interface Endpoints {
  brokers: string[];
  registry: string;
}

const DEFAULT_BROKERS = '127.0.0.1:9092';
const DEFAULT_REGISTRY = 'http://127.0.0.1:8081';

/** `parseArgs` option specs shared by every command that talks to the broker or the registry. */
export const endpointOptions = {
  brokers: { type: 'string' },
  registry: { type: 'string' },
} as const;

export const endpointUsage = `  --brokers <host:port,...>     Kafka bootstrap servers (default $KAFKA_BROKERS, then ${DEFAULT_BROKERS})
  --registry <url>              schema registry URL (default $SCHEMA_REGISTRY_URL, then ${DEFAULT_REGISTRY})`;

export function resolveEndpoints(values: { brokers?: string | undefined; registry?: string | undefined }, env: NodeJS.ProcessEnv = process.env): Endpoints {
  const brokers = (values.brokers ?? env.KAFKA_BROKERS ?? DEFAULT_BROKERS)
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0) throw new ShoalError('SHOAL_CONFIG_INVALID', '--brokers names no broker');
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d{1,5}$/.test(broker)) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `--brokers expects host:port, got '${broker}'`);
    }
  }
  const registry = (values.registry ?? env.SCHEMA_REGISTRY_URL ?? DEFAULT_REGISTRY).replace(/\/+$/, '');
  if (!URL.canParse(registry) || !/^https?:$/.test(new URL(registry).protocol)) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `--registry expects an http(s) URL, got '${registry}'`);
  }
  return { brokers, registry };
}

/**
 * A kafkajs client for one CLI run: silent (the CLI reports errors itself) and quick to give up, so an
 * unreachable broker is a one-line error after a couple of seconds, not a minute of retries.
 */
export function cliKafka(brokers: string[], clientId = 'shoal-cli'): Kafka {
  return kafkaClient({
    clientId,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
  });
}

const connectionErrorNames = new Set(['KafkaJSConnectionError', 'KafkaJSNumberOfRetriesExceeded', 'KafkaJSBrokerNotFound', 'KafkaJSRequestTimeoutError']);

/** kafkajs's connection failures become one ShoalError that names the brokers and how to change them. */
export function brokerUnavailable(error: unknown, brokers: string[]): unknown {
  if (!(error instanceof Error) || !connectionErrorNames.has(error.name)) return error;
  let root: unknown = error;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  const reason = root instanceof Error ? root.message : String(root);
  return new ShoalError('SHOAL_BROKER_UNAVAILABLE', `cannot reach the Kafka broker at ${brokers.join(',')} (${reason}); start one with 'npx shoal broker' or set --brokers / KAFKA_BROKERS`, { cause: error, retriable: true });
}

/** Runs `work` with a connected admin client, translating connection failures. */
export async function withAdmin<T>(brokers: string[], work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = cliKafka(brokers).admin();
  try {
    await admin.connect();
    return await work(admin);
  } catch (error) {
    throw brokerUnavailable(error, brokers);
  } finally {
    await admin.disconnect();
  }
}
