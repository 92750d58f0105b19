/**
 * The event store of an event-sourced service: one stream of events per aggregate, in the service's own
 * database, SQLite or PostgreSQL (tables in event-tables.ts). Appending also writes each event to the outbox in the same
 * transaction, so an event-sourced service publishes through the outbox relay like any other: every event
 * of a stream reaches Kafka, and no other.
 *
 * Every method is asynchronous, as the service database's transactions are. `append` runs in its own
 * transaction; `appendIn(tx, ...)` joins a transaction the caller holds, e.g. the consumer runtime's, which
 * also records the inbox row of the event being handled, as a savepoint of it: if the append fails, none of
 * its writes stay, and the caller decides about the rest.
 *
 * Concurrency is optimistic (expected-version.ts): the append's first write is a compare-and-set of the
 * stream's version, so two writers that read the same version cannot both append, whether they are two
 * processes on one SQLite file, two instances on one PostgreSQL database, or one caller that read, awaited
 * something, and then appended. On PostgreSQL the append first takes the event store's advisory lock, held to
 * its commit, which keeps global positions in commit order (event-tables.ts).
 *
 * Every statement is in the SQL both adapters speak, run on `tx.sql` inside a transaction and on
 * `database.sql` outside one. On SQLite those answer at once, and the store chains them without a promise
 * until the one it returns (afterValue), so an append costs no more than the synchronous statements did. A
 * stream is read as its version, then its events up to that version: those are committed and never change,
 * so the two reads agree without a read transaction; event data comes back as the catalog's current schemas
 * read it (event-tables.ts).
 */
import { ShoalError, silentLogger, type ShoalLogger } from '@shoal/core';
import type { CloudEvent, ShoalEvent, ShoalEventType } from '@shoal/contract';
import { afterValue, type MaybePromise, type ServiceDatabase, type SqlExecutor, type Transaction } from '@shoal/store';
import { ConcurrencyError, NO_STREAM_VERSION, checkExpectedVersion, matchesExpected, type ExpectedVersion } from './expected-version.js';
import {
  brokenEventConstraint,
  createEventStoreTables,
  EVENT_APPEND_LOCK_KEY,
  recordedEventOf,
  type EventRow,
  type RecordedEvent,
  type SnapshotRow,
} from './event-tables.js';
import { checkSnapshotPolicy, type SnapshotPolicy } from './snapshot-policy.js';

export interface EventStoreOptions {
  /** CloudEvents source of the events the command handler builds, `/shoal/<service>`; a command may override it. */
  source?: string;
  /** Clock: the time of the events the command handler builds, and of `recordedAt`. */
  now: () => Date;
  /** Ids of the events the command handler builds. Default: UUIDv7 (createEvent's). */
  newId?: () => string;
  logger: ShoalLogger;
}

const defaultOptions = {
  now: () => new Date(),
  logger: silentLogger,
} satisfies Partial<EventStoreOptions>;

export interface AppendResult<T extends ShoalEventType = ShoalEventType> {
  /** The stream's version after the append: what the next append of this writer expects. */
  nextExpectedVersion: number;
  /** The appended events with their positions, in order. */
  recorded: RecordedEvent<ShoalEvent<T>>[];
}

export interface ReadStreamOptions {
  /** The first version to read, inclusive. Default 1 (the first event). */
  fromVersion?: number;
  /** At most this many events. Default: all. */
  maxCount?: number;
}

export interface StreamRead {
  events: RecordedEvent[];
  /** The stream's version (its number of events; 0: no stream), whatever part of it was read. */
  currentVersion: number;
}

/** A transaction of any adapter's service database. */
export type AnyTransaction = Transaction<unknown>;

export interface ReadAllOptions {
  /** The first global position to read, inclusive. Default 1. */
  fromPosition?: number;
  /** At most this many events. Default 1000. */
  limit?: number;
}

/** The state of a stream, folded. */
export interface AggregatedStream<S> {
  state: S;
  /** The stream's version the state is at: what an append of a decision on it expects. */
  version: number;
}

/** How to fold a stream: the state half of a decider. */
export interface StreamFold<S, E> {
  readonly initialState: () => S;
  readonly evolve: (state: S, event: E) => S;
}

export interface Snapshot<S> {
  /** The last event folded into `state`. */
  streamVersion: number;
  /** SnapshotPolicy.version of the state. */
  stateVersion: number;
  state: S;
}

const DEFAULT_READ_ALL_LIMIT = 1000;

const STATEMENTS = {
  lockPositions: 'SELECT pg_advisory_xact_lock(?)',
  claimNew: 'INSERT INTO streams (stream_id, version) VALUES (?, ?) ON CONFLICT (stream_id) DO NOTHING RETURNING version',
  claimAt: 'UPDATE streams SET version = version + ? WHERE stream_id = ? AND version = ? RETURNING version',
  claimExisting: 'UPDATE streams SET version = version + ? WHERE stream_id = ? RETURNING version',
  claimAny: 'INSERT INTO streams (stream_id, version) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + excluded.version RETURNING version',
  insertEvent: 'INSERT INTO events (stream_id, stream_version, id, type, data, attributes, time, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING global_position',
  streamVersion: 'SELECT version FROM streams WHERE stream_id = ?',
  // Bounded by the version read before: events up to it are committed and never change, so the two reads
  // agree without a read transaction, on either adapter (cheaper on SQLite than a join of the two tables).
  readStream: 'SELECT * FROM events WHERE stream_id = ? AND stream_version >= ? AND stream_version <= ? ORDER BY stream_version LIMIT ?',
  readAll: 'SELECT * FROM events WHERE global_position >= ? ORDER BY global_position LIMIT ?',
  readSnapshot: 'SELECT stream_version, state FROM snapshots WHERE stream_id = ? AND state_version = ?',
  saveSnapshot: `INSERT INTO snapshots (stream_id, stream_version, state_version, state, taken_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (stream_id) DO UPDATE SET stream_version = excluded.stream_version, state_version = excluded.state_version,
      state = excluded.state, taken_at = excluded.taken_at`,
} as const;

export class EventStore {
  readonly database: ServiceDatabase;
  readonly options: Readonly<EventStoreOptions>;
  readonly logger: ShoalLogger;

  private constructor(database: ServiceDatabase, options: Partial<EventStoreOptions>) {
    this.database = database;
    this.options = Object.freeze({ ...defaultOptions, ...options });
    this.logger = this.options.logger.child({ module: 'eventstore' });
  }

  /** The event store of `database`, SQLite's or PostgreSQL's, its tables created if they are missing. */
  static async open(database: ServiceDatabase, options: Partial<EventStoreOptions> = {}): Promise<EventStore> {
    await createEventStoreTables(database);
    return new EventStore(database, options);
  }

  /**
   * Appends `events` to the stream in a transaction of its own, with each of them in the outbox. Throws
   * ConcurrencyError when the stream's version does not match `expectedVersion`; an event the catalog
   * refuses fails the append and stores nothing. Appending no events only checks the expected version.
   * Inside a transaction of the database, use `appendIn`.
   */
  append<T extends ShoalEventType>(streamId: string, expectedVersion: ExpectedVersion, events: readonly ShoalEvent<T>[]): Promise<AppendResult<T>> {
    return this.database.transact((tx) => this.write(tx, streamId, expectedVersion, events));
  }

  /** `append` as part of the caller's open transaction `tx` of this store's database (a savepoint of it). */
  appendIn<T extends ShoalEventType>(tx: AnyTransaction, streamId: string, expectedVersion: ExpectedVersion, events: readonly ShoalEvent<T>[]): Promise<AppendResult<T>> {
    try {
      this.checkTransaction(tx);
    } catch (error) {
      return Promise.reject(error);
    }
    return tx.transact((savepoint) => this.write(savepoint, streamId, expectedVersion, events));
  }

  /** The stream's events from `fromVersion` on, and its current version. */
  readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StreamRead> {
    return settled(() => this.readStreamOn(this.database.sql, streamId, options));
  }

  /** Events of every stream by global position (commit order), for catch-up readers. */
  readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return settled(() =>
      afterValue(this.database.sql.all<EventRow>(STATEMENTS.readAll, [options.fromPosition ?? 1, options.limit ?? DEFAULT_READ_ALL_LIMIT]), (rows) =>
        rows.map((row) => recordedEventOf(row, this.database.catalog)),
      ),
    );
  }

  /** The stream's number of events; 0 when it does not exist. */
  streamVersion(streamId: string): Promise<number> {
    return settled(() => this.streamVersionOn(this.database.sql, streamId));
  }

  /**
   * The stream folded with `fold`, starting from the stream's snapshot when `snapshot` is given and the
   * snapshot has its version. Events are typed as `E`: the stream holds what its aggregate's decider decided.
   * With `tx`, it reads inside that open transaction of this store's database (as handleCommandIn does).
   */
  aggregateStream<S, E>(streamId: string, fold: StreamFold<S, E>, options: { snapshot?: SnapshotPolicy; tx?: AnyTransaction } = {}): Promise<AggregatedStream<S>> {
    return settled(() => {
      const { snapshot: policy, tx } = options;
      if (policy !== undefined) checkSnapshotPolicy(policy);
      if (tx !== undefined) this.checkTransaction(tx);
      const sql = tx?.sql ?? this.database.sql;
      // A snapshot read before the events is never ahead of them: events are only ever appended.
      const found = policy === undefined ? undefined : sql.get<SnapshotRow>(STATEMENTS.readSnapshot, [streamId, policy.version]);
      return afterValue(found, (snapshot) =>
        afterValue(this.readStreamOn(sql, streamId, { fromVersion: (snapshot?.stream_version ?? NO_STREAM_VERSION) + 1 }), (read) => {
          let state = snapshot === undefined ? fold.initialState() : (JSON.parse(snapshot.state) as S);
          for (const recorded of read.events) state = fold.evolve(state, recorded.event as E);
          return { state, version: read.currentVersion };
        }),
      );
    });
  }

  /** Stores `snapshot` as the stream's snapshot, replacing the previous one, in the caller's open transaction. */
  saveSnapshotIn<S>(tx: AnyTransaction, streamId: string, snapshot: Snapshot<S>): Promise<void> {
    return settled(() => {
      this.checkTransaction(tx);
      return afterValue(
        tx.sql.run(STATEMENTS.saveSnapshot, [streamId, snapshot.streamVersion, snapshot.stateVersion, JSON.stringify(snapshot.state), this.options.now().getTime()]),
        () => undefined,
      );
    });
  }

  /** Throws SHOAL_HANDLER_INVALID unless `tx` is an open transaction of this store's database. */
  checkTransaction(tx: AnyTransaction): void {
    if (!this.database.isOpen(tx)) {
      throw new ShoalError(
        'SHOAL_HANDLER_INVALID',
        `The transaction is not open on the event store's database (${this.database.path}): it belongs to another database or connection, or it is over; appendIn and handleCommandIn run inside the transact() call that received it`,
      );
    }
  }

  private readStreamOn(sql: SqlExecutor, streamId: string, options: ReadStreamOptions): MaybePromise<StreamRead> {
    return afterValue(this.streamVersionOn(sql, streamId), (currentVersion) => {
      const fromVersion = options.fromVersion ?? 1;
      if (currentVersion < fromVersion || options.maxCount === 0) return { events: [], currentVersion };
      const limit = Math.min(options.maxCount ?? currentVersion, currentVersion);
      return afterValue(sql.all<EventRow>(STATEMENTS.readStream, [streamId, fromVersion, currentVersion, limit]), (rows) => ({
        currentVersion,
        events: rows.map((row) => recordedEventOf(row, this.database.catalog)),
      }));
    });
  }

  private streamVersionOn(sql: SqlExecutor, streamId: string): MaybePromise<number> {
    return afterValue(sql.get<{ version: number }>(STATEMENTS.streamVersion, [streamId]), (row) => row?.version ?? NO_STREAM_VERSION);
  }

  private write<T extends ShoalEventType>(tx: AnyTransaction, streamId: string, expectedVersion: ExpectedVersion, events: readonly ShoalEvent<T>[]): MaybePromise<AppendResult<T>> {
    checkExpectedVersion(expectedVersion);
    if (events.length === 0) {
      return afterValue(this.streamVersionOn(tx.sql, streamId), (actual) => {
        if (!matchesExpected(expectedVersion, actual)) throw new ConcurrencyError(streamId, expectedVersion, actual);
        return { nextExpectedVersion: actual, recorded: [] };
      });
    }
    // PostgreSQL: positions are drawn at the insert, so the lock keeps them in commit order (event-tables.ts).
    // Taken before the claim, so an append waiting for it holds no stream's row an append holding it may need.
    const locked = tx.sql.dialect === 'postgres' ? tx.sql.run(STATEMENTS.lockPositions, [EVENT_APPEND_LOCK_KEY]) : 0;
    return afterValue(locked, () =>
      afterValue(this.claimVersions(tx.sql, streamId, expectedVersion, events.length), (previous) => {
        const recordedAt = this.options.now().getTime();
        const recorded = inOrder(events, (event, index) => {
          // emitUntyped: a generic ShoalEvent<T> is not assignable to the ShoalEvent union; the check is the same.
          tx.emitUntyped(event);
          const streamVersion = previous + index + 1;
          return afterValue(this.insertEvent(tx.sql, streamId, streamVersion, event, recordedAt), (globalPosition) => ({ globalPosition, streamId, streamVersion, recordedAt, event }));
        });
        return afterValue(recorded, (appended) => {
          const nextExpectedVersion = previous + events.length;
          this.logger.debug({ streamId, fromVersion: previous, toVersion: nextExpectedVersion }, 'appended');
          return { nextExpectedVersion, recorded: appended };
        });
      }),
    );
  }

  /**
   * The compare-and-set: moves the stream's version on by `count` if it matches `expected`, and returns the
   * version before. Nothing is read before it in the append, see event-tables.ts.
   */
  private claimVersions(sql: SqlExecutor, streamId: string, expected: ExpectedVersion, count: number): MaybePromise<number> {
    const claimed = failingAs(
      () => sql.get<{ version: number }>(...claimStatement(expected, streamId, count)),
      (cause) => {
        if (!String((cause as { code?: unknown }).code).startsWith('SQLITE_BUSY')) return cause;
        return new ShoalError('SHOAL_DATABASE', `Cannot append to stream ${streamId}: ${(cause as Error).message} (another process holds the write lock, or the enclosing transaction read before another process committed)`, {
          cause,
          retriable: true,
          details: { streamId },
        });
      },
    );
    return afterValue(claimed, (row) => {
      if (row !== undefined) return row.version - count;
      return afterValue(this.streamVersionOn(sql, streamId), (actual) => {
        throw new ConcurrencyError(streamId, expected, actual);
      });
    });
  }

  private insertEvent(sql: SqlExecutor, streamId: string, streamVersion: number, event: CloudEvent<unknown>, recordedAt: number): MaybePromise<number> {
    const { data, ...attributes } = event;
    const inserted = failingAs(
      () => sql.get<{ global_position: number }>(STATEMENTS.insertEvent, [streamId, streamVersion, event.id, event.type, JSON.stringify(data), JSON.stringify(attributes), event.time ?? null, recordedAt]),
      (cause) => {
        switch (brokenEventConstraint(cause)) {
          case 'id':
            return new ShoalError('SHOAL_EVENT_INVALID', `Event id ${event.id} is already in the event store: every appended event needs a new id`, {
              cause,
              details: { streamId, id: event.id },
            });
          case 'stream_version':
            // The claim made this version free, so the streams table and the events disagree: a damaged database.
            return new ShoalError('SHOAL_DATABASE', `Stream ${streamId} already has an event at version ${streamVersion} its streams row does not count`, {
              cause,
              details: { streamId, streamVersion },
            });
          default:
            return cause;
        }
      },
    );
    return afterValue(inserted, (row) => row!.global_position);
  }
}

/** The claim statement of an expected version, with its parameters. */
function claimStatement(expected: ExpectedVersion, streamId: string, count: number): [string, unknown[]] {
  switch (expected) {
    case 'any':
      return [STATEMENTS.claimAny, [streamId, count]];
    case 'stream_exists':
      return [STATEMENTS.claimExisting, [count, streamId]];
    case 'no_stream':
    case NO_STREAM_VERSION:
      return [STATEMENTS.claimNew, [streamId, count]];
    default:
      return [STATEMENTS.claimAt, [count, streamId, expected]];
  }
}

/** `step` over `items` one after the other (each waits for the one before): without a promise while every step answers at once. */
function inOrder<T, R>(items: readonly T[], step: (item: T, index: number) => MaybePromise<R>): MaybePromise<R[]> {
  const results: R[] = [];
  const from = (index: number): MaybePromise<R[]> => {
    for (let i = index; i < items.length; i += 1) {
      const result = step(items[i]!, i);
      if (result instanceof Promise) {
        return result.then((value) => {
          results.push(value);
          return from(i + 1);
        });
      }
      results.push(result);
    }
    return results;
  };
  return from(0);
}

/** `work`'s failure, thrown at once or rejected, replaced by `as(failure)`. */
function failingAs<T>(work: () => MaybePromise<T>, as: (cause: unknown) => unknown): MaybePromise<T> {
  let result: MaybePromise<T>;
  try {
    result = work();
  } catch (cause) {
    throw as(cause);
  }
  return result instanceof Promise
    ? result.catch((cause: unknown) => {
        throw as(cause);
      })
    : result;
}

/** The outcome of a read or write that may answer at once as a promise: a throw becomes a rejection. */
function settled<T>(work: () => MaybePromise<T>): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}
