/**
 * The sidecar composed on the service host (@shoal/service), which gives it what every service has: the
 * logger, Kafka, the codec, its SQLite database with the outbox relay, /health/live, /health/ready, /metrics
 * and the one error handler answering problem+json.
 *
 *   database      the host's service database (<SHOAL_DATA_DIR>/<service>/<service>.db, or PostgreSQL with
 *                 DATABASE_URL): the outbox, the inbox, the parked records, and the sidecar's own tables
 *                 (sidecar-tables.ts: sidecar_state, sidecar_published, sidecar_timers)
 *   delivery      one subscription of @shoal/consumer in group <service> to the subscribed topics: each new
 *                 event is delivered to the micrologic outside any transaction (the subscription's
 *                 `prepare`), then its inbox row, the events its answer emits and the state it changes commit
 *                 in one transaction; a redelivered event is acknowledged without a call. One key at a
 *                 time in order (its next event is delivered once the previous one committed), keys and
 *                 partitions in parallel. Retries, dead
 *                 letters (<service>.dlq), parking by key and outages are the consumer runtime's, with the
 *                 config's attempts; GET /admin/dlq, redrive and skip are the host's. A redrive delivers each
 *                 released event to the micrologic again, inside the redrive's transaction (its answer
 *                 commits with the record's removal from the parked records)
 *   pruning       the ids of POST /v1/events older than `publishedRetention`, hourly
 *   HTTP API      POST /v1/events (publish-routes.ts), /v1/state/{key} (state-routes.ts)
 *   timers        timers.ts
 *   readiness     the host's checks and the micrologic's health path answering 2xx
 */
import type { CloudEvent } from '@shoal/contract';
import type { EventHandlers } from '@shoal/consumer';
import type { ServiceHost } from '@shoal/service';
import type { ServiceDatabase, Transaction } from '@shoal/store';
import type { Subscription } from '@shoal/consumer';
import type { MessageContext } from '@shoal/transport';
import { checkAnswer, type DeliveryAnswer } from './answer.js';
import { applyAnswer, type EffectsContext } from './effects.js';
import { MicrologicClient } from './micrologic-client.js';
import { prunePublishedIds, publishRoutes } from './publish-routes.js';
import type { SidecarDeclaration } from './sidecar-config.js';
import { createSidecarTables } from './sidecar-tables.js';
import { StateTable } from './state-table.js';
import { stateRoutes } from './state-routes.js';
import { SidecarTimers } from './timers.js';

/** Deliveries of one partition's distinct keys in flight at once, as many as the micrologic pool's connections. */
const DELIVERIES_IN_FLIGHT = 32;

/** How often the ids of POST /v1/events older than the retention are pruned. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface Sidecar {
  database: ServiceDatabase;
  state: StateTable;
  client: MicrologicClient;
  /** Undefined when the config subscribes to nothing. */
  subscription: Subscription | undefined;
  timers: SidecarTimers | undefined;
  /** Forgets the ids of POST /v1/events older than the retention now (it also runs hourly); how many went. */
  prunePublished(): Promise<number>;
}

export interface BuildSidecarOptions {
  /** Partitions delivered at the same time. Default 16 (the host's default for every subscription). */
  partitionsInFlight?: number;
  /** Clock of emitted events, state rows and timers. Default the system clock. */
  now?: () => Date;
}

/** Composes the sidecar of `declaration` on `host`, its tables created (not started: `host.start()` does). */
export async function buildSidecar(host: ServiceHost, declaration: SidecarDeclaration, options: BuildSidecarOptions = {}): Promise<Sidecar> {
  const now = options.now ?? (() => new Date());
  const database = await host.openDatabase();
  await createSidecarTables(database);
  const state = new StateTable(() => now().getTime());
  const publishes = new Set(declaration.publishes);
  const effects: EffectsContext = { source: host.source, state, now };
  const client = new MicrologicClient({ app: declaration.app, timeoutMs: declaration.timeoutMs });
  const { catalog } = host;

  let subscription: Subscription | undefined;
  if (declaration.subscriptions.length > 0) {
    const pathOfType = new Map(declaration.subscriptions.flatMap((entry) => entry.types.map((type) => [type, entry.path] as const)));
    const deliver = async (event: CloudEvent<unknown>, context: MessageContext): Promise<DeliveryAnswer> => {
      const path = pathOfType.get(event.type)!;
      const reply = await client.deliver(path, event, context.attempt);
      return checkAnswer(reply.body, `${event.type} ${event.id} at ${path}`, publishes, catalog);
    };
    const apply = (event: CloudEvent<unknown>, tx: Transaction<unknown>, context: MessageContext, prepared: unknown) => {
      // A redrive of parked records hands the handler nothing prepared: the event is delivered now, inside
      // the redrive's transaction, and a failure leaves it parked with the new reason.
      if (prepared === undefined) return deliver(event, context).then((answer) => applyAnswer(tx, answer, effects, event));
      return applyAnswer(tx, prepared as DeliveryAnswer, effects, event);
    };
    const handlers = Object.fromEntries([...pathOfType.keys()].map((type) => [type, apply]));
    subscription = host.subscribe({
      database,
      topics: [...new Set(declaration.subscriptions.map((entry) => entry.topic))],
      handlers: handlers as EventHandlers<unknown>,
      prepare: deliver,
      retry: declaration.retries,
      // Keys in parallel, each key's events one at a time: a micrologic reads the state over HTTP while it
      // handles an event, so the previous event of the same key has committed by then (read your writes).
      prepareConcurrency: DELIVERIES_IN_FLIGHT,
      ...(options.partitionsInFlight === undefined ? {} : { partitionsInFlight: options.partitionsInFlight }),
    });
  }

  let timers: SidecarTimers | undefined;
  if (declaration.timers.length > 0) {
    timers = new SidecarTimers({ timers: declaration.timers, database, client, catalog, publishes, effects, logger: host.logger.child({ module: 'timers' }) });
    host.addComponent(timers);
  }
  host.addComponent({
    name: 'micrologic',
    start: () => undefined,
    stop: () => client.close(),
    readiness: () => client.health(declaration.health),
  });
  const prunePublished = () => prunePublishedIds(database, now().getTime() - declaration.publishedRetentionMs);
  let pruneTimer: NodeJS.Timeout | undefined;
  host.addComponent({
    name: 'published-ids',
    start: () => {
      const prune = () =>
        prunePublished().then(
          (deleted) => deleted > 0 && host.logger.debug({ deleted }, `sidecar pruned ${deleted} ids of POST /v1/events`),
          (error: unknown) => host.logger.warn({ err: error }, `sidecar could not prune the ids of POST /v1/events: ${(error as Error).message}`),
        );
      void prune();
      pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
      pruneTimer.unref();
    },
    stop: () => clearInterval(pruneTimer),
  });
  host.routes(publishRoutes({ database, catalog, publishes, effects }));
  host.routes(stateRoutes({ database, state }));
  return { database, state, client, subscription, timers, prunePublished };
}
