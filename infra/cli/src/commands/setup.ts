/**
 * `shoal setup`: makes a running broker and schema registry ready for the services. It is the one-shot job
 * that docker-compose.yml runs before any service starts, and what `shoal dev` does once its own broker
 * and registry listen.
 *
 * A container orchestrator starts the job when Kafka and the registry call themselves healthy, but a
 * healthcheck is only an opinion about the moment it ran, and by hand nobody waits at all. So setup probes
 * both endpoints until they answer, retrying what can pass (refused, unknown host, 5xx, timeouts) with
 * backoff, and gives up after `timeoutMs` with one line naming the endpoint and the last reason. Anything
 * else, a registry refusing a schema for instance, fails at once: waiting would not change the answer.
 *
 * Everything after the wait is idempotent, so a restarted job or a second run changes nothing: a schema
 * the subject already holds keeps its id and version, and an existing topic is left as it is. An existing
 * topic whose partition count differs from the manifest is reported, never altered: adding partitions
 * moves keys to other partitions, which breaks per-key order for every consumer, and is an operator's call.
 */
import { parseArgs } from 'node:util';
import { logLevel } from 'kafkajs';
import { kafkaClient } from '@shoal/transport';
import { ShoalError, backoffDelay, isShoalError, silentLogger, sleep, type ShoalLogger } from '@shoal/core';
import { RegistryClient, registerCatalog, type RegisteredCatalogSchema, type SchemaCatalog } from '@shoal/contract';
import { brokerUnavailable, endpointOptions, endpointUsage, resolveEndpoints, withAdmin } from '../connection.js';
import { createCliLogger } from '../logger.js';
import { integerOption } from '../options.js';
import { renderTable } from '../output.js';
import { schemaCatalogOption, schemasOption } from '../schema-catalog-option.js';

export interface SetupOptions {
  /** Kafka bootstrap servers, `host:port`. */
  brokers: readonly string[];
  /** Schema registry base URL. */
  registryUrl: string;
  /** The schemas to register and the topics to create. */
  catalog: SchemaCatalog;
  /** How long to wait for the broker and the registry to answer, ms. */
  timeoutMs?: number;
  /** Replication factor of the topics it creates. */
  replicationFactor?: number;
  logger?: ShoalLogger;
}

export const setupDefaults = {
  timeoutMs: 120_000,
  replicationFactor: 1,
} satisfies Partial<SetupOptions>;

/** One manifest topic after setup. */
export interface SetupTopic {
  name: string;
  /** Partitions the topic has now. */
  partitions: number;
  /** Partitions the manifest asks for; differs from `partitions` only for a topic that existed before. */
  manifestPartitions: number;
  created: boolean;
}

export interface SetupResult {
  /** What each subject holds for the catalog's schemas, in registration order. */
  schemas: RegisteredCatalogSchema[];
  topics: SetupTopic[];
}

// A probe never outlives this, so a deadline is overshot by at most one probe.
const PROBE_TIMEOUT_MS = 5_000;
const WAIT_BACKOFF = { initialMs: 250, maxMs: 5_000 };

/** Waits for the broker and the registry, registers the catalog's schemas, creates the manifest's topics. */
export async function setupPlatform(options: SetupOptions): Promise<SetupResult> {
  const { brokers, registryUrl, catalog } = options;
  const timeoutMs = options.timeoutMs ?? setupDefaults.timeoutMs;
  const replicationFactor = options.replicationFactor ?? setupDefaults.replicationFactor;
  const logger = (options.logger ?? silentLogger).child({ module: 'setup' });
  const deadline = Date.now() + timeoutMs;

  await untilBothAnswer(
    { what: `the schema registry at ${registryUrl}`, probe: (ms) => probeRegistry(registryUrl, ms), deadline, timeoutMs, logger },
    { what: `the Kafka broker at ${brokers.join(',')}`, probe: (ms) => probeBroker(brokers, ms), deadline, timeoutMs, logger },
  );

  const schemas = await registerCatalog(new RegistryClient({ url: registryUrl }), catalog);
  logger.info({ schemas: schemas.length, registry: registryUrl }, `${schemas.length} schema(s) registered`);

  const wanted = [...catalog.topics.values()];
  const topics = await withAdmin([...brokers], async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((topic) => !existing.has(topic.name));
    if (missing.length > 0) {
      // false only when another run created them in between: the outcome is the same.
      await admin
        .createTopics({
          topics: missing.map((topic) => ({ topic: topic.name, numPartitions: topic.partitions, replicationFactor })),
          waitForLeaders: true,
        })
        .catch((error: unknown) => {
          throw topicsRefused(error, replicationFactor);
        });
    }
    const metadata = await admin.fetchTopicMetadata({ topics: wanted.map((topic) => topic.name) });
    const partitionCounts = new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
    return wanted.map((topic) => ({
      name: topic.name,
      partitions: partitionCounts.get(topic.name) ?? 0,
      manifestPartitions: topic.partitions,
      created: !existing.has(topic.name),
    }));
  });
  for (const topic of topics) {
    if (topic.created) logger.info({ topic: topic.name, partitions: topic.partitions }, `created topic ${topic.name}`);
    else if (topic.partitions !== topic.manifestPartitions) {
      logger.warn(
        { topic: topic.name, partitions: topic.partitions, manifestPartitions: topic.manifestPartitions },
        `topic ${topic.name} exists with ${topic.partitions} partition(s) where the manifest says ${topic.manifestPartitions}; left as it is`,
      );
    }
  }
  return { schemas, topics };
}

interface Wait {
  /** What is waited for, as the log and the error name it. */
  what: string;
  /** Resolves when the endpoint answers; rejects with a retriable ShoalError while it cannot yet. */
  probe(timeoutMs: number): Promise<void>;
  deadline: number;
  timeoutMs: number;
  logger: ShoalLogger;
}

/**
 * Both waits side by side. The first to fail stops the other one (no further attempt, no more backoff) and
 * its error is the one thrown, once the other's probe in flight has ended: nothing outlives the call.
 */
async function untilBothAnswer(registry: Wait, broker: Wait): Promise<void> {
  const stop = new AbortController();
  const failures: unknown[] = [];
  await Promise.all(
    [registry, broker].map((wait) =>
      untilAnswering(wait, stop.signal).catch((error: unknown) => {
        failures.push(error);
        stop.abort();
      }),
    ),
  );
  if (failures.length > 0) throw failures[0];
}

async function untilAnswering({ what, probe, deadline, timeoutMs, logger }: Wait, stop: AbortSignal): Promise<void> {
  for (let attempt = 1; !stop.aborted; attempt++) {
    try {
      await probe(Math.max(1, Math.min(PROBE_TIMEOUT_MS, deadline - Date.now())));
      logger.info({ attempt }, `${what} answers`);
      return;
    } catch (error) {
      if (!isShoalError(error) || !error.retriable) throw error;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ShoalError(error.code, `gave up after ${formatSeconds(timeoutMs)} waiting for ${what}: ${reasonOf(error)}`, { cause: error, retriable: true });
      }
      logger.info({ attempt, reason: reasonOf(error) }, `waiting for ${what}`);
      await sleep(Math.min(left, backoffDelay(attempt, WAIT_BACKOFF)), stop);
    }
  }
}

async function probeRegistry(url: string, timeoutMs: number): Promise<void> {
  await new RegistryClient({ url, retries: 0, requestTimeoutMs: timeoutMs }).subjects();
}

/** Connects and reads the cluster's metadata: a listening port alone is not a broker that answers. */
async function probeBroker(brokers: readonly string[], timeoutMs: number): Promise<void> {
  const admin = kafkaClient({
    clientId: 'shoal-setup',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) {
      throw new ShoalError('SHOAL_BROKER_UNAVAILABLE', 'the cluster metadata lists no broker yet', { retriable: true });
    }
  } catch (error) {
    throw asBrokerUnavailable(error, brokers);
  } finally {
    await admin.disconnect();
  }
}

/** kafkajs's connection failures, and any error kafkajs itself calls retriable, are worth waiting out. */
function asBrokerUnavailable(error: unknown, brokers: readonly string[]): unknown {
  const translated = brokerUnavailable(error, [...brokers]);
  if (translated !== error || isShoalError(error)) return translated;
  if (error instanceof Error && (error as { retriable?: unknown }).retriable === true) {
    return new ShoalError('SHOAL_BROKER_UNAVAILABLE', `the Kafka broker at ${brokers.join(',')} is not ready: ${error.message}`, { cause: error, retriable: true });
  }
  return error;
}

/** The broker's per-topic refusals (kafkajs aggregates them) as one line: each reason with its topics. */
function topicsRefused(error: unknown, replicationFactor: number): unknown {
  const aggregated = (error as { errors?: unknown }).errors;
  const refusals = (Array.isArray(aggregated) ? aggregated : [error]) as (Error & { type?: string; topic?: string; retriable?: boolean })[];
  if (!refusals.every((refusal) => refusal instanceof Error && refusal.type !== undefined)) return error;
  const topicsByReason = new Map<string, string[]>();
  for (const refusal of refusals) topicsByReason.set(refusal.message, [...(topicsByReason.get(refusal.message) ?? []), ...(refusal.topic === undefined ? [] : [refusal.topic])]);
  const reasons = [...topicsByReason].map(([reason, topics]) => (topics.length === 0 ? reason : `${reason}: ${topics.join(', ')}`));
  return new ShoalError('SHOAL_BROKER_PROTOCOL', `the broker refused to create topics with replication factor ${replicationFactor} (${reasons.join('; ')})`, {
    cause: error,
    retriable: refusals.every((refusal) => refusal.retriable === true),
  });
}

/** The innermost cause's message: the socket error, not the layers of wrapping around it. */
function reasonOf(error: ShoalError): string {
  let root: unknown = error.cause ?? error;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  const message = root instanceof Error ? root.message : String(root);
  return message.length > 0 ? message : error.message;
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

export const setupUsage = `Usage: shoal setup [options]

Makes a running broker and schema registry ready for the services: waits until both answer (printing
what it waits for), registers every schema of schemas/ and creates every topic of schemas/manifest.json
with its partition count. Idempotent: existing schemas and topics are kept, so it can run at any time.
docker-compose.yml runs it as the one-shot 'setup' job before the services start.

Exit status: 0 when everything is in place, 1 when the broker or the registry did not answer within
--timeout or refused a schema or a topic.

Options:
${endpointUsage}
  --timeout <seconds>           how long to wait for the broker and the registry (default ${setupDefaults.timeoutMs / 1000})
  --replication-factor <n>      replication factor of the topics it creates (default ${setupDefaults.replicationFactor})
  --schemas <dir>               the schemas folder (default: the repository's schemas/)
  --log-level <level>           trace, debug, info, warn, error (default info)
  -h, --help                    show this help
`;

export async function runSetup(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...endpointOptions,
      ...schemasOption,
      timeout: { type: 'string' },
      'replication-factor': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(setupUsage);
    return 0;
  }
  const { brokers, registry } = resolveEndpoints(values);
  const timeoutSeconds = integerOption(values.timeout, '--timeout', { min: 0, max: 86_400 }) ?? setupDefaults.timeoutMs / 1000;
  const replicationFactor = integerOption(values['replication-factor'], '--replication-factor', { min: 1, max: 32_767 }) ?? setupDefaults.replicationFactor;
  const catalog = schemaCatalogOption(values);
  const logger = createCliLogger(values['log-level'] ?? 'info');

  const result = await setupPlatform({ brokers, registryUrl: registry, catalog, timeoutMs: timeoutSeconds * 1000, replicationFactor, logger });
  const rows = result.topics.map((topic) => [
    topic.name,
    topic.partitions,
    topic.created ? 'created' : topic.partitions === topic.manifestPartitions ? 'existed' : `existed (manifest: ${topic.manifestPartitions})`,
  ]);
  // pino writes asynchronously: its lines first, so the summary is the last thing printed.
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  process.stdout.write(
    `Shoal is set up: ${result.schemas.length} schema(s) registered at ${registry}, ${result.topics.length} topic(s) on ${brokers.join(',')}\n` +
      renderTable(['TOPIC', 'PARTITIONS', 'STATE'], rows),
  );
  return 0;
}
