/**
 * A projection is a plain definition (as emmett's): a name, a version, the topics it reads, a `migrate` that
 * creates its tables in a fresh read model, and one handler per event type. Nothing else: where the model
 * lives (a SQLite file, or a schema of the service's PostgreSQL database), how positions are kept and how it
 * is rebuilt are the Projector's business (projector.ts).
 *
 * Handlers and `migrate` get a ModelConnection: Kysely typed by the projection's tables (`db`, the query
 * builder of @shoal/store, which writes SQLite's or PostgreSQL's SQL) and the raw SqlExecutor (`sql`, the
 * SQL both dialects speak, synchronous on SQLite: for a hot path). Both run inside the transaction that also
 * moves the projection's Kafka positions: a handler's writes and the position past its event commit
 * together or not at all. A handler may return a promise, awaited inside that transaction. Handlers must be
 * deterministic functions of the event and the model (no clock, no randomness, no I/O), because a rebuild
 * replays them and must arrive at the same model.
 *
 * There are no incremental migrations: a read model whose tables or handlers change gets a new `version`,
 * and the Projector rebuilds it from the log into a new model while the old one keeps serving reads.
 */
import type { Kysely } from 'kysely';
import { ShoalError } from '@shoal/core';
import type { CloudEvent, ShoalEvent, ShoalEventType } from '@shoal/contract';
import type { SqlExecutor } from '@shoal/store';

/**
 * What handlers, `migrate` and reads get: the read model's tables through Kysely (`db`, typed by `Tables`)
 * and through raw statements (`sql`), on whichever adapter keeps the model, inside its transaction.
 */
export interface ModelConnection<Tables = any> {
  readonly db: Kysely<Tables>;
  readonly sql: SqlExecutor;
}

/** Where an event was read from: for handlers that keep it in the model, and for error reports. */
export interface ProjectionContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The Kafka key as UTF-8 (the aggregate id), null without one. */
  readonly key: string | null;
  /** Kafka timestamp, milliseconds since the epoch as a string (kafkajs's form). */
  readonly timestamp: string;
}

/**
 * Applies one event to the read model through `model`; a promise it returns is awaited inside the
 * transaction (so `(event, { sql }) => sql.run(...)` is a whole handler on both stores), any other value ignored.
 */
export type ProjectionHandler<E, Tables = any> = (event: E, model: ModelConnection<Tables>, context: ProjectionContext) => unknown;

/** One handler per event type, each given the event with the data its schema prescribes. */
export type ProjectionHandlers<Tables = any> = { readonly [T in ShoalEventType]?: ProjectionHandler<ShoalEvent<T>, Tables> };

export interface ProjectionDefinition<Tables = any> {
  /** Lower-case letters, digits, `-` and `_`: it names files, schemas, consumer groups and admin routes. */
  name: string;
  /** A positive integer; a model built by another version is rebuilt on start. */
  version: number;
  /** The topics whose events the handlers need. */
  topics: readonly string[];
  /**
   * Creates the read model's tables (and indexes) in a fresh, empty model, once, inside the transaction that
   * also creates the projection's own tables (Kysely's schema builder writes each dialect's DDL).
   * `projection_meta` and `projection_positions` are reserved.
   */
  migrate(model: ModelConnection<Tables>): unknown;
  handlers: ProjectionHandlers<Tables>;
}

export type Projection<Tables = any> = Readonly<ProjectionDefinition<Tables>>;

/** Reserved tables of every read-model file (read-model.ts). */
export const RESERVED_TABLES: readonly string[] = ['projection_meta', 'projection_positions'];

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** Checks a projection's definition once and freezes it. Throws SHOAL_CONFIG_INVALID naming the problem. */
export function defineProjection<Tables = any>(definition: ProjectionDefinition<Tables>): Projection<Tables> {
  const invalid = (problem: string) => new ShoalError('SHOAL_CONFIG_INVALID', `Projection ${JSON.stringify(definition.name)}: ${problem}`);
  if (typeof definition.name !== 'string' || !NAME.test(definition.name)) {
    throw invalid('the name must be lower-case letters, digits, - and _, starting with a letter (it names files, schemas, groups and routes)');
  }
  if (!Number.isSafeInteger(definition.version) || definition.version < 1) throw invalid(`version must be a positive integer, got ${definition.version}`);
  if (!Array.isArray(definition.topics) || definition.topics.length === 0) throw invalid('topics must name at least one topic');
  for (const topic of definition.topics) {
    if (typeof topic !== 'string' || !TOPIC.test(topic)) throw invalid(`${JSON.stringify(topic)} is not a Kafka topic name`);
  }
  if (new Set(definition.topics).size !== definition.topics.length) throw invalid('topics has duplicates');
  if (typeof definition.migrate !== 'function') throw invalid('migrate must be a function');
  const handlers = Object.entries(definition.handlers ?? {});
  if (handlers.length === 0) throw invalid('handlers must handle at least one event type');
  for (const [type, handler] of handlers) {
    if (typeof handler !== 'function') throw invalid(`the handler of ${type} is not a function`);
  }
  return Object.freeze({
    name: definition.name,
    version: definition.version,
    topics: Object.freeze([...definition.topics]),
    migrate: definition.migrate,
    handlers: Object.freeze({ ...definition.handlers }),
  });
}

/** The handlers by type string, untyped: the runtime dispatches on the type of a record as read. */
export function handlersByType(projection: Projection): ReadonlyMap<string, ProjectionHandler<CloudEvent<unknown>>> {
  return new Map(Object.entries(projection.handlers) as Array<[string, ProjectionHandler<CloudEvent<unknown>>]>);
}
