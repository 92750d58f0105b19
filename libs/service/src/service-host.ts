/**
 * The service host: what every Shoal service shares, so that a service's `main.ts` stays a composition root
 * and its modules hold only its business.
 *
 *   const host = new ServiceHost({ config });          // logger, kafkajs client, codec, fastify app, /metrics
 *   const database = host.openDatabase();                // <dataDir>/<service>.db, with its outbox relay
 *   host.subscribe({ database, topics, handlers });      // consumer group <service>, from the beginning
 *   host.projector(orderTimeline);                       // read model in <dataDir>/projections, or in DATABASE_URL's database
 *   host.routes(async (app) => { app.post(...) });       // the service's own HTTP API
 *   await host.start();                                   // listen, then start relays, projectors, subscriptions
 *   await host.stop();                                    // in the order below
 *
 * Starting listens first, so `/health/live` answers at once and `/health/ready` says what it waits for while
 * the parts start and catch up (readiness.ts). Stopping goes from the edge inwards: HTTP stops taking requests
 * and finishes those in flight; timers and other components stop; subscriptions finish their run in hand,
 * commit and leave their groups; relays drain the outbox to the broker (what is committed is published before
 * the process ends); projectors stop; databases close.
 *
 * A part that dies on its own (a subscription kafkajs does not restart, a component's failure) is fatal: the
 * host reports it through `onFatal`, and `runService` stops the rest and exits non-zero so that whoever
 * supervises the process (`shoal dev`, Docker's restart policy) starts it again. Retriable trouble (the broker
 * or registry away for a while) is waited out inside the parts and never reaches this far.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Admin, Kafka } from 'kafkajs';
import { kafkaClient } from '@shoal/transport';
import type { Logger } from 'pino';
import { settlesWithin, ShoalError } from '@shoal/core';
import { subscribe, type EventHandlers, type SubscribeOptions, type Subscription } from '@shoal/consumer';
import { EventCodec, loadSchemaCatalog, RegistryClient, type SchemaCatalog } from '@shoal/contract';
import { OutboxRelay, type OutboxRelayOptions } from '@shoal/outbox';
import type { ServiceDatabase } from '@shoal/store';
import { SqliteServiceDatabase, type SqliteDatabase } from '@shoal/store-sqlite';
import { PostgresServiceDatabase, redactedUrl } from '@shoal/store-postgres';
import { Projector, type Projection, type ProjectorOptions } from '@shoal/projections';
import type { Tracing } from '@shoal/telemetry';
import type { ServiceConfig } from './config.js';
import { createServiceLogger, kafkaLogCreator, kafkaLogLevel } from './logging.js';
import { createServiceMetrics, type ServiceMetrics } from './metrics.js';
import { dlqAdminRoutes } from './dlq-admin-routes.js';
import { projectionAdminRoutes } from './projection-admin-routes.js';
import { subscriptionAdminRoutes } from './subscription-admin-routes.js';
import { createServiceApp, healthRoutes } from './service-app.js';
import { databaseReadiness, endOffsetsOf, projectorReadiness, relayReadiness, subscriptionReadiness, type Check, type Readiness } from './readiness.js';

export interface ServiceHostOptions<C extends ServiceConfig = ServiceConfig> {
  config: C;
  /** Default: a pino root at `config.logLevel` on stdout. */
  logger?: Logger;
  /** Default: the repository's schemas/. */
  catalog?: SchemaCatalog;
  /** How long `stop` may take before it gives up on the parts still stopping, ms. Default 15 s. */
  stopTimeoutMs?: number;
  /** The name of the variable or flag that sets the port, for the error when it is taken. Default PORT. */
  portSetting?: string;
  /**
   * Traces the service's requests, outbox commits, relay, subscriptions and projectors; shut down (its last
   * spans exported) when the host stops. `runService` starts one when `config.tracing` asks for it.
   */
  tracing?: Tracing;
}

/** Something with a life of its own in the service (a timer, a scheduler): started after the subscriptions, stopped before them. */
export interface ServiceComponent {
  name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
  readiness?: () => Check | Promise<Check>;
}

/** `subscribe`'s options without what the host provides; `group` defaults to the service's name. */
export type HostSubscribeOptions<H extends EventHandlers<Db>, Db = SqliteDatabase> = Omit<SubscribeOptions<H, Db>, 'kafka' | 'codec' | 'group' | 'logger'> & { group?: string };

interface HostedDatabase {
  name: string;
  database: ServiceDatabase;
  relay: OutboxRelay;
}

interface HostedSubscription {
  subscription: Subscription;
  topics: readonly string[];
  /** The event types it has handlers for, as declared. */
  types: readonly string[];
  targets?: Map<string, { high: bigint; low: bigint }>;
  readiness: Readiness;
}

interface HostedProjector {
  projector: Projector;
  readiness: Readiness;
  watch(): void;
}

type HostState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class ServiceHost<C extends ServiceConfig = ServiceConfig> {
  readonly config: C;
  readonly logger: Logger;
  readonly catalog: SchemaCatalog;
  readonly kafka: Kafka;
  readonly registry: RegistryClient;
  readonly codec: EventCodec;
  /** The CloudEvents source of the service's events: `/shoal/<service>`. */
  readonly source: string;
  readonly app: FastifyInstance;
  readonly metrics: ServiceMetrics;
  /** Undefined when the service does not trace. */
  readonly tracing: Tracing | undefined;
  private readonly options: ServiceHostOptions<C>;
  private readonly databases: HostedDatabase[] = [];
  private readonly subscriptions: HostedSubscription[] = [];
  private readonly projectors: HostedProjector[] = [];
  /** The PostgreSQL database of the projectors when the service opened none itself (order-view has no outbox). */
  private projectionDatabase: ServiceDatabase | undefined;
  private readonly components: ServiceComponent[] = [];
  private readonly fatalListeners = new Set<(error: Error) => void>();
  private admin: Admin | undefined;
  private state: HostState = 'new';
  private lastReady = false;
  private listeningUrl: string | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: ServiceHostOptions<C>) {
    this.options = options;
    this.config = options.config;
    this.source = `/shoal/${this.config.service}`;
    this.tracing = options.tracing;
    this.logger = options.logger ?? createServiceLogger(this.config.service, this.config.logLevel);
    this.catalog = options.catalog ?? loadSchemaCatalog();
    this.kafka = kafkaClient({
      clientId: this.config.service,
      brokers: [...this.config.kafkaBrokers],
      logLevel: kafkaLogLevel(this.config.logLevel),
      logCreator: kafkaLogCreator(this.logger),
    });
    this.registry = new RegistryClient({ url: this.config.schemaRegistryUrl });
    this.codec = new EventCodec({ registry: this.registry, catalog: this.catalog });
    this.metrics = createServiceMetrics(this.config.service, {
      subscriptions: () => this.subscriptions.map((hosted) => hosted.subscription),
      relays: () => this.databases.map(({ name, relay }) => ({ name, relay })),
      projectors: () => this.projectors.map((hosted) => hosted.projector),
      ready: () => this.lastReady,
    });
    this.app = createServiceApp({ logger: this.logger, metrics: this.metrics, tracing: this.tracing });
    healthRoutes(this.app, { service: this.config.service, readiness: () => this.readiness(), metrics: this.metrics });
  }

  /**
   * The service's database with its outbox relay: PostgreSQL when the configuration has a `DATABASE_URL` (the
   * database the service owns, shared by all its instances), else SQLite in `<dataDir>/<file>` (default
   * `<service>.db`). A URL that does not lead to a database of this service is a configuration error naming
   * DATABASE_URL (runService exits 2): unreachable, refused credentials, no such database, or another
   * service's database.
   */
  async openDatabase(options: { file?: string; relay?: Partial<Omit<OutboxRelayOptions, 'database' | 'kafka' | 'codec'>> } = {}): Promise<ServiceDatabase> {
    this.assertNew('openDatabase');
    const url = this.config.databaseUrl;
    const file = options.file ?? `${this.config.service}.db`;
    let database: ServiceDatabase;
    if (url === undefined) {
      mkdirSync(this.config.dataDir, { recursive: true });
      database = new SqliteServiceDatabase({ path: join(this.config.dataDir, file), catalog: this.catalog, tracing: this.tracing });
    } else {
      if (options.file !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', `DATABASE_URL is set: ${this.config.service} has one PostgreSQL database, not the file ${options.file}`);
      database = await this.openPostgres(url);
    }
    const relay = new OutboxRelay({
      tracing: this.tracing,
      ...options.relay,
      database,
      kafka: this.kafka,
      codec: this.codec,
      logger: this.logger.child({ database: url === undefined ? file : redactedUrl(url) }),
    });
    this.databases.push({ name: url === undefined ? file.replace(/\.db$/, '') : this.config.service, database, relay });
    return database;
  }

  private async openPostgres(url: string): Promise<PostgresServiceDatabase> {
    try {
      return await PostgresServiceDatabase.open({ url, catalog: this.catalog, service: this.config.service });
    } catch (error) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `DATABASE_URL=${redactedUrl(url)}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * A subscription in the service's consumer group (default: the service's name). Unlike the library's
   * default, a group without committed offsets starts from the beginning: a service deployed after events
   * were published must still react to them.
   */
  subscribe<H extends EventHandlers<Db>, Db = SqliteDatabase>(options: HostSubscribeOptions<H, Db>): Subscription {
    this.assertNew('subscribe');
    const group = options.group ?? this.config.service;
    const subscription = subscribe<H, Db>({
      fromBeginning: true,
      // Every assigned partition in flight at once (up to 16): one at a time, each partition's batch waits
      // for the previous partitions' handlers, and a service reading three topics adds to every hop of the
      // choreography. Order within a partition holds either way, and handlers' transactions never interleave
      // (the service database runs them one at a time on its connection).
      partitionsInFlight: 16,
      ...options,
      // Leaving the group waits for the fetch in flight, which an idle broker holds for maxWaitTimeInMs: kafkajs's
      // 5 s default would hold every stop that long. A member that died without leaving (kill -9, a crash) holds
      // its partitions until its session expires, so a restarted service waits that long before it is assigned
      // them again: 10 s instead of kafkajs's 30 s, with heartbeats every second to stay well inside it.
      consumer: { maxWaitTimeInMs: 500, sessionTimeout: 10_000, heartbeatInterval: 1_000, ...options.consumer },
      group,
      kafka: this.kafka,
      codec: this.codec,
      logger: this.logger,
      tracing: this.tracing,
    } as SubscribeOptions<H, Db>);
    const hosted: HostedSubscription = {
      subscription,
      topics: options.topics,
      types: Object.keys(options.handlers),
      readiness: async () => ({ ok: false, detail: 'not started' }),
    };
    hosted.readiness = subscriptionReadiness(subscription, options.topics, () => this.adminClient(), () => hosted.targets);
    this.subscriptions.push(hosted);
    return subscription;
  }

  /**
   * A projector keeping `projection`, with the admin routes `shoal replay` uses: in `<dataDir>/projections`
   * (a SQLite file per model), or with `DATABASE_URL` in the service's PostgreSQL database (a schema per
   * model, shared by every instance of the service): the database `openDatabase` opened, else one the host
   * opens at start for its projectors.
   */
  projector<Tables>(projection: Projection<Tables>, options: Partial<Omit<ProjectorOptions<Tables>, 'projection' | 'kafka' | 'codec' | 'dataDir' | 'database'>> = {}): Projector<Tables> {
    this.assertNew('projector');
    const projector = new Projector<Tables>({
      tracing: this.tracing,
      ...options,
      projection,
      dataDir: join(this.config.dataDir, 'projections'),
      database: () => (this.config.databaseUrl === undefined ? undefined : (this.databases[0]?.database ?? this.projectionDatabase)),
      kafka: this.kafka,
      codec: this.codec,
      groupPrefix: options.groupPrefix ?? `${this.config.service}.projection`,
      logger: this.logger,
    });
    this.projectors.push({ projector, ...projectorReadiness(projector) });
    return projector;
  }

  addComponent(component: ServiceComponent): void {
    this.assertNew('addComponent');
    this.components.push(component);
  }

  /** Registers the service's routes (a fastify plugin, so they share the host's error handling). */
  routes(plugin: FastifyPluginAsync): void {
    this.assertNew('routes');
    void this.app.register(plugin);
  }

  /** Called when a part of the service stopped on its own and the service cannot go on without it. */
  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.add(listener);
  }

  get url(): string {
    if (this.listeningUrl === undefined) throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `${this.config.service} is not listening`);
    return this.listeningUrl;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async start(): Promise<void> {
    this.assertNew('start');
    this.state = 'starting';
    await this.app.register(subscriptionAdminRoutes, {
      service: this.config.service,
      subscriptions: () =>
        this.subscriptions.map(({ subscription, topics, types }) => ({ group: subscription.group, dlqTopic: subscription.dlqTopic, topics: [...topics], types: [...types] })),
    });
    if (this.projectors.length > 0) {
      await this.app.register(projectionAdminRoutes, { projectors: this.projectors.map((hosted) => hosted.projector) });
    }
    await this.app.register(dlqAdminRoutes, { service: this.config.service, subscriptions: () => this.subscriptions.map((hosted) => hosted.subscription) });
    try {
      this.listeningUrl = await this.listen();
      this.logger.info({ url: this.listeningUrl }, 'listening');
      for (const { relay } of this.databases) relay.start();
      if (this.projectors.length > 0 && this.databases.length === 0 && this.config.databaseUrl !== undefined) {
        this.projectionDatabase = await this.openPostgres(this.config.databaseUrl);
      }
      for (const hosted of this.projectors) {
        await hosted.projector.start();
        hosted.watch();
      }
      for (const hosted of this.subscriptions) {
        hosted.targets = await endOffsetsOf(this.adminClient(), hosted.topics);
        await hosted.subscription.start();
        hosted.subscription.whenStopped().catch((error: unknown) => this.fatal(`subscription ${hosted.subscription.group} stopped`, error));
      }
      for (const component of this.components) await component.start();
      this.state = 'running';
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Resolves once `/health/ready` would answer 200; rejects after `timeoutMs` with what it still waits for. */
  async whenReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { ready, checks } = await this.readiness();
      if (ready) return;
      if (Date.now() > deadline) {
        const waiting = Object.entries(checks).filter(([, check]) => !check.ok).map(([name, check]) => `${name}: ${check.detail}`);
        throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `${this.config.service} not ready after ${timeoutMs} ms: ${waiting.join('; ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async readiness(): Promise<{ ready: boolean; checks: Record<string, Check> }> {
    const checks: Record<string, Check> = {};
    checks.host = this.state === 'running' ? { ok: true, detail: 'running' } : { ok: false, detail: this.state };
    const run = async (name: string, readiness: () => Check | Promise<Check>) => {
      try {
        checks[name] = await readiness();
      } catch (error) {
        checks[name] = { ok: false, detail: (error as Error).message };
      }
    };
    await Promise.all([
      ...this.databases.map(({ name, database }) => run(`database:${name}`, databaseReadiness(database))),
      ...this.databases.map(({ name, relay }) => run(`outbox:${name}`, relayReadiness(relay))),
      ...(this.projectionDatabase === undefined ? [] : [run(`database:${this.config.service}`, databaseReadiness(this.projectionDatabase))]),
      ...this.subscriptions.map((hosted) => run(`subscription:${hosted.subscription.group}`, hosted.readiness)),
      ...this.projectors.map((hosted) => run(`projection:${hosted.projector.name}`, hosted.readiness)),
      ...this.components.filter((component) => component.readiness !== undefined).map((component) => run(component.name, () => component.readiness!())),
    ]);
    this.lastReady = Object.values(checks).every((check) => check.ok);
    return { ready: this.lastReady, checks };
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopParts();
    return this.stopping;
  }

  private async stopParts(): Promise<void> {
    this.state = 'stopping';
    this.lastReady = false;
    const step = async (what: string, work: () => unknown) => {
      try {
        await work();
      } catch (error) {
        this.logger.warn({ err: error }, `${what} did not stop cleanly`);
      }
    };
    const timeout = this.options.stopTimeoutMs ?? 15_000;
    const all = (async () => {
      await step('http', () => this.app.close());
      for (const component of [...this.components].reverse()) await step(component.name, () => component.stop());
      await Promise.all(this.subscriptions.map((hosted) => step(`subscription ${hosted.subscription.group}`, () => hosted.subscription.stop())));
      await Promise.all(this.databases.map(({ name, relay }) => step(`outbox relay ${name}`, () => relay.stop({ drain: true }))));
      await Promise.all(this.projectors.map((hosted) => step(`projector ${hosted.projector.name}`, () => hosted.projector.stop())));
      await step('admin client', () => this.admin?.disconnect());
    })();
    if (!(await settlesWithin(all, timeout))) this.logger.warn({ timeoutMs: timeout }, 'stopping took too long: closing the databases with parts still stopping');
    for (const database of [...this.databases.map((hosted) => hosted.database), ...(this.projectionDatabase === undefined ? [] : [this.projectionDatabase])]) {
      await step(`database ${database.path}`, () => database.close());
    }
    if (this.tracing !== undefined) await step('tracing', () => settlesWithin(this.tracing!.shutdown(), timeout));
    this.state = 'stopped';
    this.logger.info('stopped');
  }

  private fatal(what: string, error: unknown): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const failure = new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `${what}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    this.logger.fatal({ err: error }, what);
    if (this.fatalListeners.size === 0) return;
    for (const listener of this.fatalListeners) listener(failure);
  }

  private adminClient(): Admin {
    if (this.admin === undefined) {
      this.admin = this.kafka.admin();
      // connect() is lazy in kafkajs's admin for the requests used here; an explicit connect is cheap.
      void this.admin.connect().catch((error: unknown) => this.logger.warn({ err: error }, 'admin client cannot connect'));
    }
    return this.admin;
  }

  private assertNew(what: string): void {
    if (this.state !== 'new') throw new ShoalError('SHOAL_CONFIG_INVALID', `${what}() after the service started`);
  }

  private async listen(): Promise<string> {
    const { port, host } = this.config;
    try {
      return await this.app.listen({ port, host });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new ShoalError(
          'SHOAL_PORT_IN_USE',
          `port ${port} on ${host} is already in use: stop what holds it or choose another with ${this.options.portSetting ?? 'PORT'}`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}
