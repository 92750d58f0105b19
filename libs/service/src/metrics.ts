/**
 * `/metrics` in the Prometheus text format, on prom-client. The runtime libraries keep plain counters in
 * their `status()` (events handled, published, lag, handler latency); rather than mirror every increment
 * into a second set of counters, each scrape reads those statuses once and reports them as they stand.
 * That is what `StatusMetric` is: a prom-client metric whose samples a function returns at collection time.
 * prom-client itself provides the process metrics (CPU, memory, event-loop lag, GC) and the HTTP histogram.
 *
 *   shoal_events_consumed_total{group,outcome}        handled | duplicate | skipped | dead_lettered | parked
 *   shoal_consumer_dead_letters{group}                keys held back by a dead letter, waiting for a redrive or skip
 *   shoal_consumer_parked{group}                      records parked behind those dead letters
 *   shoal_consumer_retries_total{group,kind}          handler | outage
 *   shoal_consumer_lag{group,topic,partition}         records the group has still to process
 *   shoal_consumer_handler_duration_seconds{group}    summary: _sum and _count of handler calls
 *   shoal_events_published_total{database}            outbox rows published by the relay (events out)
 *   shoal_outbox_backlog{database}                    committed rows not yet acknowledged by the broker
 *   shoal_outbox_oldest_unsent_age_seconds{database}  age of the oldest of them (0 when none)
 *   shoal_outbox_publish_failures{database}           failed publish attempts since the last success
 *   shoal_projection_events_total{projection,outcome} applied | skipped | poisoned
 *   shoal_projection_lag{projection}                  records behind the high watermarks
 *   shoal_projection_rebuilding{projection}           1 while a rebuild runs
 *   shoal_service_ready                               1 when /health/ready answers 200
 *   shoal_http_requests_total{method,route,status}
 *   shoal_http_request_duration_seconds{method,route} histogram
 */
import { collectDefaultMetrics, Counter, Histogram, Registry, type Metric } from 'prom-client';
import type { Subscription } from '@shoal/consumer';
import type { OutboxRelay } from '@shoal/outbox';
import type { Projector } from '@shoal/projections';

type Labels = Record<string, string | number>;

interface Sample {
  value: number;
  labels: Labels;
  /** A summary's `_sum` and `_count` lines. */
  metricName?: string;
}

/** A metric whose samples are read from the components' statuses when Prometheus scrapes. */
class StatusMetric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'summary',
    private readonly samples: () => Sample[] | Promise<Sample[]>,
  ) {}

  /** prom-client awaits it: a status read from the database (the outbox backlog) is asynchronous. */
  async get() {
    return { name: this.name, help: this.help, type: this.type, values: await this.samples(), aggregator: 'sum' as const };
  }
}

export interface MetricSources {
  subscriptions: () => readonly Subscription[];
  relays: () => readonly { name: string; relay: OutboxRelay }[];
  projectors: () => readonly Projector[];
  ready: () => boolean;
  now?: () => number;
}

export interface ServiceMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
}

export function createServiceMetrics(service: string, sources: MetricSources): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const now = sources.now ?? Date.now;
  const statusMetric = (name: string, help: string, type: 'counter' | 'gauge' | 'summary', samples: () => Sample[] | Promise<Sample[]>) =>
    registry.registerMetric(new StatusMetric(name, help, type, samples) as unknown as Metric);

  const subscriptionStatuses = () => sources.subscriptions().map((subscription) => subscription.status());
  statusMetric('shoal_events_consumed_total', 'Events received by the consumer runtime, by outcome', 'counter', () =>
    subscriptionStatuses().flatMap(({ group, handled, duplicates, skipped, deadLettered, parked }) => [
      { value: handled, labels: { group, outcome: 'handled' } },
      { value: duplicates, labels: { group, outcome: 'duplicate' } },
      { value: skipped, labels: { group, outcome: 'skipped' } },
      { value: deadLettered, labels: { group, outcome: 'dead_lettered' } },
      { value: parked, labels: { group, outcome: 'parked' } },
    ]),
  );
  statusMetric('shoal_consumer_dead_letters', 'Keys held back by a dead letter in the service database, waiting for a redrive or a skip', 'gauge', () =>
    subscriptionStatuses().map(({ group, parking }) => ({ value: parking.deadLetters, labels: { group } })),
  );
  statusMetric('shoal_consumer_parked', 'Records parked behind the dead letter of their key', 'gauge', () =>
    subscriptionStatuses().map(({ group, parking }) => ({ value: parking.parked, labels: { group } })),
  );
  statusMetric('shoal_consumer_retries_total', 'Retries of a record after a retriable handler failure, or while waiting out an outage', 'counter', () =>
    subscriptionStatuses().flatMap(({ group, retries, outageRetries }) => [
      { value: retries, labels: { group, kind: 'handler' } },
      { value: outageRetries, labels: { group, kind: 'outage' } },
    ]),
  );
  statusMetric('shoal_consumer_lag', 'Records of a partition the group has still to process', 'gauge', () =>
    subscriptionStatuses().flatMap(({ group, partitions }) =>
      partitions.filter((p) => p.lag !== null).map((p) => ({ value: p.lag!, labels: { group, topic: p.topic, partition: p.partition } })),
    ),
  );
  statusMetric('shoal_consumer_handler_duration_seconds', 'Time spent in event handlers', 'summary', () =>
    subscriptionStatuses().flatMap(({ group, handlerLatency }) => [
      { metricName: 'shoal_consumer_handler_duration_seconds_sum', value: handlerLatency.sumMs / 1000, labels: { group } },
      { metricName: 'shoal_consumer_handler_duration_seconds_count', value: handlerLatency.count, labels: { group } },
    ]),
  );

  const relayStatuses = () => Promise.all(sources.relays().map(async ({ name, relay }) => ({ database: name, status: await relay.status() })));
  statusMetric('shoal_events_published_total', 'Events the outbox relay published since the service started', 'counter', async () =>
    (await relayStatuses()).map(({ database, status }) => ({ value: status.published, labels: { database } })),
  );
  statusMetric('shoal_outbox_backlog', 'Committed outbox rows not yet acknowledged by the broker', 'gauge', async () =>
    (await relayStatuses()).map(({ database, status }) => ({ value: status.backlog, labels: { database } })),
  );
  statusMetric('shoal_outbox_oldest_unsent_age_seconds', 'Age of the oldest outbox row not yet published (0 when none)', 'gauge', async () =>
    (await relayStatuses()).map(({ database, status }) => ({
      value: status.oldestUnsentAt === undefined ? 0 : Math.max(0, now() - status.oldestUnsentAt) / 1000,
      labels: { database },
    })),
  );
  statusMetric('shoal_outbox_publish_failures', 'Failed publish attempts since the last success', 'gauge', async () =>
    (await relayStatuses()).map(({ database, status }) => ({ value: status.consecutiveFailures, labels: { database } })),
  );

  const projectionStatuses = () => sources.projectors().map((projector) => projector.status());
  statusMetric('shoal_projection_events_total', 'Events the live read model received, by outcome', 'counter', () =>
    projectionStatuses().flatMap(({ name, applied, skipped, poisoned }) => [
      { value: applied, labels: { projection: name, outcome: 'applied' } },
      { value: skipped, labels: { projection: name, outcome: 'skipped' } },
      { value: poisoned, labels: { projection: name, outcome: 'poisoned' } },
    ]),
  );
  statusMetric('shoal_projection_lag', 'Records the live read model is behind the high watermarks', 'gauge', () =>
    projectionStatuses().map(({ name, lag }) => ({ value: lag, labels: { projection: name } })),
  );
  statusMetric('shoal_projection_rebuilding', '1 while a rebuild of the projection runs', 'gauge', () =>
    projectionStatuses().map(({ name, rebuilding }) => ({ value: rebuilding ? 1 : 0, labels: { projection: name } })),
  );
  statusMetric('shoal_service_ready', '1 when the service is ready (GET /health/ready answers 200)', 'gauge', () => [{ value: sources.ready() ? 1 : 0, labels: {} }]);

  const httpRequests = new Counter({
    name: 'shoal_http_requests_total',
    help: 'HTTP requests answered, by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'shoal_http_request_duration_seconds',
    help: 'HTTP request duration, by route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration };
}
