/**
 * The sidecar composed on the service host (@shoal/service), which gives it what every service has: the
 * logger, Kafka, the codec, its SQLite database with the outbox relay, /health/live, /health/ready, /metrics
 * and the one error handler answering problem+json.
 *
 *   database      <SHOAL_DATA_DIR>/<service>/<service>.db: the outbox, the inbox, sidecar_state,
 *                 sidecar_published, sidecar_timers
 *   delivery      one subscription of @shoal/consumer in group <service> to the subscribed topics: each new
 *                 event is delivered to the micrologic outside any transaction (the subscription's
 *                 `prepare`), then its inbox row, the events its answer emits and the state it changes commit
 *                 in one transaction; a redelivered event is acknowledged without a call. One key at a
 *                 time in order (its next event is delivered once the previous one committed), keys and
 *                 partitions in parallel. Retries, dead
 *                 letters (<service>.dlq) and outages are the consumer runtime's, with the config's attempts
 *   HTTP API      POST /v1/events (publish-routes.ts), /v1/state/{key} (state-routes.ts)
 *   timers        timers.ts
 *   readiness     the host's checks and the micrologic's health path answering 2xx
 */
import { ShoalError } from '@shoal/core';
import type { CloudEvent } from '@shoal/contract';
import type { EventHandlers } from '@shoal/consumer';
import type { ServiceHost } from '@shoal/service';
import { sqliteOnly, type SqliteServiceDatabase, type SqliteTransaction } from '@shoal/store-sqlite';
import type { Subscription } from '@shoal/consumer';
import type { MessageContext } from '@shoal/transport';
import { checkAnswer, type DeliveryAnswer } from './answer.js';
import { applyAnswer, type EffectsContext } from './effects.js';
import { MicrologicClient } from './micrologic-client.js';
import { publishRoutes } from './publish-routes.js';
import type { SidecarDeclaration } from './sidecar-config.js';
import { StateTable } from './state-table.js';
import { stateRoutes } from './state-routes.js';
import { SidecarTimers } from './timers.js';

/** Deliveries of one partition's distinct keys in flight at once, as many as the micrologic pool's connections. */
const DELIVERIES_IN_FLIGHT = 32;

export interface Sidecar {
  database: SqliteServiceDatabase;
  state: StateTable;
  client: MicrologicClient;
  /** Undefined when the config subscribes to nothing. */
  subscription: Subscription | undefined;
  timers: SidecarTimers | undefined;
}

export interface BuildSidecarOptions {
  /** Partitions delivered at the same time. Default 16 (the host's default for every subscription). */
  partitionsInFlight?: number;
  /** Clock of emitted events, state rows and timers. Default the system clock. */
  now?: () => Date;
}

/** Composes the sidecar of `declaration` on `host` (not started: `host.start()` does). */
export async function buildSidecar(host: ServiceHost, declaration: SidecarDeclaration, options: BuildSidecarOptions = {}): Promise<Sidecar> {
  const now = options.now ?? (() => new Date());
  const database = sqliteOnly(await host.openDatabase(), 'The sidecar');
  const state = new StateTable(database.db, () => now().getTime());
  const publishes = new Set(declaration.publishes);
  const effects: EffectsContext = { source: host.source, state, now };
  const client = new MicrologicClient({ app: declaration.app, timeoutMs: declaration.timeoutMs });
  const { catalog } = host;

  let subscription: Subscription | undefined;
  if (declaration.subscriptions.length > 0) {
    const pathOfType = new Map(declaration.subscriptions.flatMap((entry) => entry.types.map((type) => [type, entry.path] as const)));
    const apply = (event: CloudEvent<unknown>, tx: SqliteTransaction, _context: MessageContext, prepared: unknown) => {
      // A redrive of parked records applies them without a delivery: refused (retriable), they stay parked.
      if (prepared === undefined) throw new ShoalError('SHOAL_HANDLER_FAILED', `${event.type} ${event.id} was not delivered to the micrologic`, { retriable: true });
      applyAnswer(tx, prepared as DeliveryAnswer, effects, event);
    };
    const handlers = Object.fromEntries([...pathOfType.keys()].map((type) => [type, apply]));
    subscription = host.subscribe({
      database,
      topics: [...new Set(declaration.subscriptions.map((entry) => entry.topic))],
      handlers: handlers as EventHandlers,
      prepare: async (event, context) => {
        const path = pathOfType.get(event.type)!;
        const reply = await client.deliver(path, event, context.attempt);
        return checkAnswer(reply.body, `${event.type} ${event.id} at ${path}`, publishes, catalog);
      },
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
  host.routes(publishRoutes({ database, catalog, publishes, effects }));
  host.routes(stateRoutes({ database, state }));
  return { database, state, client, subscription, timers };
}
