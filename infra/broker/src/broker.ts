import { createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { ShoalError } from '@shoal/core';
import { GroupCoordinator, groupRoutes } from './groups/index.js';
import { LogManager } from './log/log-manager.js';
import { LogStore } from './log/log-store.js';
import type { ApiRoute } from './protocol/api.js';
import { alterConfigsRoutes } from './routes/alter-configs-routes.js';
import { apiVersionsRoute } from './routes/api-versions-route.js';
import { fetchRoute } from './routes/fetch-route.js';
import { listOffsetsRoute } from './routes/list-offsets-route.js';
import { describeLogDirsRoute } from './routes/log-dirs-route.js';
import { metadataRoute } from './routes/metadata-route.js';
import { produceRoute } from './routes/produce-route.js';
import { producerIdRoute } from './routes/producer-id-route.js';
import { topicAdminRoutes } from './routes/topic-admin-routes.js';
import { Connection } from './server/connection.js';
import { RequestCounts, requestCountsText, type RequestCount } from './metrics/request-counts.js';
import { startMetricsServer, type MetricsServer } from './metrics/metrics-server.js';

export interface BrokerOptions {
  /** Data directory (created if missing). */
  dataDir: string;
  /** TCP port; 0 picks a free one. Default 9092. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Host name given to clients in Metadata/FindCoordinator. Default: `host`, or 127.0.0.1 when listening on 0.0.0.0/::. */
  advertisedHost?: string;
  /** Create unknown topics when a client asks for their metadata. Default true. */
  autoCreateTopics?: boolean;
  /** Partitions of auto-created topics and of CreateTopics with num_partitions -1. Default 3. */
  defaultPartitions?: number;
  /** Default retention.ms of topics; -1 keeps forever. Default 7 days. */
  retentionMs?: number;
  /** Default retention.bytes per partition; -1 = unlimited. Default -1. */
  retentionBytes?: number;
  /** How often retention runs. Default 60 s. */
  retentionCheckIntervalMs?: number;
  /** Largest request frame accepted; larger ones close the connection. Default 100 MiB. */
  maxRequestBytes?: number;
  /** Default max.message.bytes (largest record batch) of topics. Default 8 MiB. */
  maxMessageBytes?: number;
  /** fsync every commit (synchronous=FULL). Default false: durable against process crashes, not power loss. */
  fsync?: boolean;
  /** group.initial.rebalance.delay.ms. Default 300. */
  groupInitialRebalanceDelayMs?: number;
  /** group.consumer.heartbeat.interval.ms: heartbeat interval of the consumer group protocol. Default 5000, as Kafka's. */
  consumerHeartbeatIntervalMs?: number;
  /** group.consumer.session.timeout.ms: session of a consumer-protocol member. Default 45000, as Kafka's. */
  consumerSessionTimeoutMs?: number;
  /** Port of `GET /metrics` (requests by API and client id, Prometheus text); 0 picks a free one. Default: none. */
  metricsPort?: number;
  /** Used when no logger is given. Default 'info'. */
  logLevel?: string;
  logger?: Logger;
}

export interface RunningBroker {
  readonly host: string;
  readonly port: number;
  /** `advertisedHost:port`, ready for a client's bootstrap list. */
  readonly bootstrap: string;
  /** `http://host:port/metrics` when started with `metricsPort`. */
  readonly metricsUrl: string | undefined;
  /** Requests received so far, by client id and API. */
  requestCounts(): RequestCount[];
  close(): Promise<void>;
}

export const brokerDefaults = {
  port: 9092,
  host: '127.0.0.1',
  autoCreateTopics: true,
  defaultPartitions: 3,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  retentionCheckIntervalMs: 60_000,
  maxRequestBytes: 100 * 1024 * 1024,
  maxMessageBytes: 8 * 1024 * 1024,
  fsync: false,
  groupInitialRebalanceDelayMs: 300,
  consumerHeartbeatIntervalMs: 5000,
  consumerSessionTimeoutMs: 45_000,
  logLevel: 'info',
} satisfies Partial<BrokerOptions>;

const NODE_ID = 0;

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(new ShoalError('SHOAL_PORT_IN_USE', `port ${port} on ${host} is already in use: stop what holds it or choose another with --port`, { cause: error }));
      } else {
        reject(error);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Starts a single-node Kafka-protocol broker on `dataDir`. */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const config = { ...brokerDefaults, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<Omit<BrokerOptions, 'logger' | 'advertisedHost' | 'metricsPort'>> &
    Pick<BrokerOptions, 'logger' | 'advertisedHost' | 'metricsPort'>;
  if (!Number.isInteger(config.defaultPartitions) || config.defaultPartitions < 1) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `default partitions must be a positive integer, got ${config.defaultPartitions}`);
  }
  const logger = (config.logger ?? pino({ level: config.logLevel })).child({ module: 'broker' });
  const store = new LogStore({
    dataDir: config.dataDir,
    fsync: config.fsync,
    onCheckpointError: (message) => logger.warn(`WAL checkpoint failed (retried on the next interval): ${message}`),
  });
  const logs = new LogManager({
    store,
    logger,
    defaults: { retentionMs: config.retentionMs, retentionBytes: config.retentionBytes, maxMessageBytes: config.maxMessageBytes },
  });
  const groups = new GroupCoordinator({
    db: store.db,
    logger: logger.child({ module: 'groups' }),
    initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
    topicPartitionExists: (topic, partition) => logs.getPartition(topic, partition) !== undefined,
    topics: {
      byName: (name) => {
        const topic = logs.getTopic(name);
        return topic === undefined ? undefined : { uuid: topic.uuid, partitions: topic.partitions.length };
      },
      byUuid: (uuid) => {
        const topic = logs.getTopicByUuid(uuid);
        return topic === undefined ? undefined : { name: topic.name, partitions: topic.partitions.length };
      },
      names: () => logs.listTopics().map((topic) => topic.name),
    },
    consumerHeartbeatIntervalMs: config.consumerHeartbeatIntervalMs,
    consumerSessionTimeoutMs: config.consumerSessionTimeoutMs,
  });

  const server = createServer();
  let port = config.port;
  const advertisedHost = config.advertisedHost ?? (config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host);
  const self = () => ({ nodeId: NODE_ID, host: advertisedHost, port });

  const routes = new Map<number, ApiRoute>();
  const add = (r: ApiRoute) => routes.set(r.definition.apiKey, r);
  add(apiVersionsRoute(() => routes.values()));
  add(produceRoute(logs, logger));
  add(fetchRoute(logs));
  add(listOffsetsRoute(logs));
  add(metadataRoute(logs, { self, autoCreateTopics: config.autoCreateTopics, defaultPartitions: config.defaultPartitions }));
  add(producerIdRoute(logs));
  add(describeLogDirsRoute(logs, { logDir: resolve(config.dataDir) }));
  topicAdminRoutes(logs, {
    defaultPartitions: config.defaultPartitions,
    nodeId: NODE_ID,
    onTopicDeleted: (topic) => groups.deleteTopicOffsets(topic),
    brokerConfigs: () => ({
      'broker.id': String(NODE_ID),
      'num.partitions': String(config.defaultPartitions),
      'auto.create.topics.enable': String(config.autoCreateTopics),
      'log.retention.ms': String(config.retentionMs),
      'log.retention.bytes': String(config.retentionBytes),
      'message.max.bytes': String(config.maxMessageBytes),
      'socket.request.max.bytes': String(config.maxRequestBytes),
      'group.initial.rebalance.delay.ms': String(config.groupInitialRebalanceDelayMs),
      'group.consumer.heartbeat.interval.ms': String(config.consumerHeartbeatIntervalMs),
      'group.consumer.session.timeout.ms': String(config.consumerSessionTimeoutMs),
    }),
  }).forEach(add);
  alterConfigsRoutes(logs, { nodeId: NODE_ID }).forEach(add);
  groupRoutes(groups, self).forEach(add);

  const requests = new RequestCounts();
  const connections = new Set<Connection>();
  let nextConnectionId = 1;
  server.on('connection', (socket: Socket) => {
    const connection: Connection = new Connection({
      id: nextConnectionId++,
      socket,
      routes,
      maxRequestBytes: config.maxRequestBytes,
      logger,
      requests,
      onClose: () => connections.delete(connection),
    });
    connections.add(connection);
  });

  let metrics: MetricsServer | undefined;
  try {
    port = await listen(server, config.port, config.host);
    if (config.metricsPort !== undefined) metrics = await startMetricsServer(config.metricsPort, config.host, advertisedHost, () => requestCountsText(requests.list()));
  } catch (error) {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
    groups.close();
    await store.close();
    throw error;
  }
  const retentionTimer = setInterval(() => {
    try {
      logs.enforceRetention();
    } catch (error) {
      logger.error({ err: error }, 'retention run failed');
    }
  }, config.retentionCheckIntervalMs);
  retentionTimer.unref();

  logger.info(
    { host: config.host, port, advertised: `${advertisedHost}:${port}`, dataDir: config.dataDir, metrics: metrics?.url },
    `Shoal broker listening on ${config.host}:${port}${metrics === undefined ? '' : `, metrics on ${metrics.url}`}`,
  );

  let closing: Promise<void> | undefined;
  return {
    host: config.host,
    port,
    bootstrap: `${advertisedHost}:${port}`,
    metricsUrl: metrics?.url,
    requestCounts: () => requests.list(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(retentionTimer);
        void metrics?.close();
        server.close(() => {
          groups.close();
          void store.close().then(() => {
            logger.info('broker stopped');
            resolve();
          });
        });
        for (const connection of connections) connection.close();
      });
      return closing;
    },
  };
}
