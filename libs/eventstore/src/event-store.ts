/**
 * The event store of an event-sourced service: one stream of events per aggregate, in the service's own
 * SQLite database (tables in event-tables.ts). Appending also writes each event to the outbox in the same
 * transaction, so an event-sourced service publishes through the outbox relay like any other: every event
 * of a stream reaches Kafka, and no other.
 *
 * Every method is asynchronous, as the service database's transactions are. `append` runs in its own
 * transaction; `appendIn(tx, ...)` joins a transaction the caller holds, e.g. the consumer runtime's, which
 * also records the inbox row of the event being handled, as a savepoint of it: if the append fails, none of
 * its writes stay, and the caller decides about the rest.
 *
 * Concurrency is optimistic (expected-version.ts): the append's first statement is a compare-and-set of the
 * stream's version, so two writers that read the same version cannot both append, whether they are two
 * processes on one file or one caller that read, awaited something, and then appended.
 *
 * Reads run in a read transaction of their own (or the caller's), so a stream's version and its events are
 * read from one state of the file; event data comes back as the catalog's current schemas read it
 * (event-tables.ts).
 */
import type Database from 'better-sqlite3';
import { ShoalError, silentLogger, type ShoalLogger } from '@shoal/core';
import type { CloudEvent, ShoalEvent, ShoalEventType } from '@shoal/contract';
import type { SqliteServiceDatabase, SqliteTransaction } from '@shoal/store-sqlite';
import { ConcurrencyError, NO_STREAM_VERSION, checkExpectedVersion, matchesExpected, type ExpectedVersion } from './expected-version.js';
import { createEventStoreTables, recordedEventOf, type EventRow, type RecordedEvent, type SnapshotRow } from './event-tables.js';
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

export class EventStore {
  readonly database: SqliteServiceDatabase;
  readonly options: Readonly<EventStoreOptions>;
  readonly logger: ShoalLogger;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly inReadTransaction: <T>(read: () => T) => T;

  constructor(database: SqliteServiceDatabase, options: Partial<EventStoreOptions> = {}) {
    this.database = database;
    this.options = Object.freeze({ ...defaultOptions, ...options });
    this.logger = this.options.logger.child({ module: 'eventstore' });
    this.db = database.db;
    createEventStoreTables(this.db);
    this.statements = prepareStatements(this.db);
    const readTransaction = this.db.transaction((read: () => unknown) => read());
    this.inReadTransaction = <T>(read: () => T) => readTransaction(read) as T;
  }

  /**
   * Appends `events` to the stream in a transaction of its own (a savepoint when called inside
   * `database.transact`), with each of them in the outbox. Throws ConcurrencyError when the stream's version
   * does not match `expectedVersion`; an event the catalog refuses fails the append and stores nothing.
   * Appending no events only checks the expected version.
   */
  append<T extends ShoalEventType>(streamId: string, expectedVersion: ExpectedVersion, events: readonly ShoalEvent<T>[]): Promise<AppendResult<T>> {
    return this.database.transact((tx) => this.write(tx, streamId, expectedVersion, events));
  }

  /** `append` as part of the caller's open transaction `tx` of this store's database (a savepoint of it). */
  appendIn<T extends ShoalEventType>(tx: SqliteTransaction, streamId: string, expectedVersion: ExpectedVersion, events: readonly ShoalEvent<T>[]): Promise<AppendResult<T>> {
    try {
      this.checkTransaction(tx);
    } catch (error) {
      return Promise.reject(error);
    }
    return tx.transact((savepoint) => this.write(savepoint, streamId, expectedVersion, events));
  }

  /** The stream's events from `fromVersion` on, and its current version. */
  readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StreamRead> {
    return settled(() => this.readStreamNow(streamId, options));
  }

  /** Events of every stream by global position (commit order), for catch-up readers. */
  readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return settled(() =>
      (this.statements.readAll.all(options.fromPosition ?? 1, options.limit ?? DEFAULT_READ_ALL_LIMIT) as EventRow[]).map((row) => recordedEventOf(row, this.database.catalog)),
    );
  }

  /** The stream's number of events; 0 when it does not exist. */
  streamVersion(streamId: string): Promise<number> {
    return settled(() => this.streamVersionNow(streamId));
  }

  /**
   * The stream folded with `fold`, starting from the stream's snapshot when `snapshot` is given and the
   * snapshot has its version. Events are typed as `E`: the stream holds what its aggregate's decider decided.
   */
  aggregateStream<S, E>(streamId: string, fold: StreamFold<S, E>, options: { snapshot?: SnapshotPolicy } = {}): Promise<AggregatedStream<S>> {
    return settled(() => {
      if (options.snapshot !== undefined) checkSnapshotPolicy(options.snapshot);
      const { snapshot, read } = this.inReadTransaction(() => {
        const found = options.snapshot === undefined ? undefined : (this.statements.readSnapshot.get(streamId, options.snapshot.version) as SnapshotRow | undefined);
        return { snapshot: found, read: this.readStreamNow(streamId, { fromVersion: (found?.stream_version ?? NO_STREAM_VERSION) + 1 }) };
      });
      let state = snapshot === undefined ? fold.initialState() : (JSON.parse(snapshot.state) as S);
      for (const recorded of read.events) state = fold.evolve(state, recorded.event as E);
      return { state, version: read.currentVersion };
    });
  }

  /** Stores `snapshot` as the stream's snapshot, replacing the previous one, in the caller's open transaction. */
  saveSnapshotIn<S>(tx: SqliteTransaction, streamId: string, snapshot: Snapshot<S>): Promise<void> {
    return settled(() => {
      this.checkTransaction(tx);
      this.statements.saveSnapshot.run(streamId, snapshot.streamVersion, snapshot.stateVersion, JSON.stringify(snapshot.state), this.options.now().getTime());
    });
  }

  /** Throws SHOAL_HANDLER_INVALID unless `tx` is an open transaction of this store's database. */
  checkTransaction(tx: SqliteTransaction): void {
    if (tx.db !== this.db) {
      throw new ShoalError('SHOAL_HANDLER_INVALID', `The transaction belongs to another connection than the event store's (${this.database.path})`);
    }
    if (!this.database.isOpen(tx)) {
      throw new ShoalError('SHOAL_HANDLER_INVALID', 'The transaction is over: appendIn and handleCommandIn run inside the transact() call that received it');
    }
  }

  private readStreamNow(streamId: string, options: ReadStreamOptions): StreamRead {
    return this.inReadTransaction(() => ({
      currentVersion: this.streamVersionNow(streamId),
      events: (this.statements.readStream.all(streamId, options.fromVersion ?? 1, options.maxCount ?? -1) as EventRow[]).map((row) => recordedEventOf(row, this.database.catalog)),
    }));
  }

  private streamVersionNow(streamId: string): number {
    const row = this.statements.streamVersion.get(streamId) as { version: number } | undefined;
    return row?.version ?? NO_STREAM_VERSION;
  }

  private write<T extends ShoalEventType>(tx: SqliteTransaction, streamId: string, expectedVersion: ExpectedVersion, events: readonly ShoalEvent<T>[]): AppendResult<T> {
    checkExpectedVersion(expectedVersion);
    if (events.length === 0) {
      const actual = this.streamVersionNow(streamId);
      if (!matchesExpected(expectedVersion, actual)) throw new ConcurrencyError(streamId, expectedVersion, actual);
      return { nextExpectedVersion: actual, recorded: [] };
    }
    const previous = this.claimVersions(streamId, expectedVersion, events.length);
    const recordedAt = this.options.now().getTime();
    const recorded = events.map((event, index) => {
      // emitUntyped: a generic ShoalEvent<T> is not assignable to the ShoalEvent union; the check is the same.
      tx.emitUntyped(event);
      const streamVersion = previous + index + 1;
      const globalPosition = this.insertEvent(streamId, streamVersion, event, recordedAt);
      return { globalPosition, streamId, streamVersion, recordedAt, event };
    });
    const nextExpectedVersion = previous + events.length;
    this.logger.debug({ streamId, fromVersion: previous, toVersion: nextExpectedVersion }, 'appended');
    return { nextExpectedVersion, recorded };
  }

  /**
   * The compare-and-set: moves the stream's version on by `count` if it matches `expected`, and returns the
   * version before. Nothing is read before it in the append, see event-tables.ts.
   */
  private claimVersions(streamId: string, expected: ExpectedVersion, count: number): number {
    let claimed: { version: number } | undefined;
    try {
      const statement = this.claimStatement(expected);
      claimed = statement.get(statement === this.statements.claimAt ? { count, streamId, expected } : { count, streamId }) as { version: number } | undefined;
    } catch (cause) {
      if (String((cause as { code?: unknown }).code).startsWith('SQLITE_BUSY')) {
        throw new ShoalError('SHOAL_DATABASE', `Cannot append to stream ${streamId}: ${(cause as Error).message} (another process holds the write lock, or the enclosing transaction read before another process committed)`, {
          cause,
          retriable: true,
          details: { streamId },
        });
      }
      throw cause;
    }
    if (claimed === undefined) throw new ConcurrencyError(streamId, expected, this.streamVersionNow(streamId));
    return claimed.version - count;
  }

  private claimStatement(expected: ExpectedVersion): Database.Statement {
    switch (expected) {
      case 'any':
        return this.statements.claimAny;
      case 'stream_exists':
        return this.statements.claimExisting;
      case 'no_stream':
      case NO_STREAM_VERSION:
        return this.statements.claimNew;
      default:
        return this.statements.claimAt;
    }
  }

  private insertEvent(streamId: string, streamVersion: number, event: CloudEvent<unknown>, recordedAt: number): number {
    const { data, ...attributes } = event;
    try {
      const result = this.statements.insertEvent.run(streamId, streamVersion, event.id, event.type, JSON.stringify(data), JSON.stringify(attributes), event.time ?? null, recordedAt);
      return Number(result.lastInsertRowid);
    } catch (cause) {
      if ((cause as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw cause;
      if ((cause as Error).message.includes('events.id')) {
        throw new ShoalError('SHOAL_EVENT_INVALID', `Event id ${event.id} is already in the event store: every appended event needs a new id`, {
          cause,
          details: { streamId, id: event.id },
        });
      }
      // The claim made this version free, so the streams table and the events disagree: a damaged file.
      throw new ShoalError('SHOAL_DATABASE', `Stream ${streamId} already has an event at version ${streamVersion} its streams row does not count`, {
        cause,
        details: { streamId, streamVersion },
      });
    }
  }
}

/** The outcome of a synchronous read or write as a promise: a throw becomes a rejection. */
function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Every statement of the store, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    claimNew: db.prepare(`INSERT INTO streams (stream_id, version) VALUES (@streamId, @count) ON CONFLICT (stream_id) DO NOTHING RETURNING version`),
    claimAt: db.prepare(`UPDATE streams SET version = version + @count WHERE stream_id = @streamId AND version = @expected RETURNING version`),
    claimExisting: db.prepare(`UPDATE streams SET version = version + @count WHERE stream_id = @streamId RETURNING version`),
    claimAny: db.prepare(
      `INSERT INTO streams (stream_id, version) VALUES (@streamId, @count) ON CONFLICT (stream_id) DO UPDATE SET version = version + excluded.version RETURNING version`,
    ),
    insertEvent: db.prepare(
      `INSERT INTO events (stream_id, stream_version, id, type, data, attributes, time, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    streamVersion: db.prepare(`SELECT version FROM streams WHERE stream_id = ?`),
    readStream: db.prepare(`SELECT * FROM events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version LIMIT ?`),
    readAll: db.prepare(`SELECT * FROM events WHERE global_position >= ? ORDER BY global_position LIMIT ?`),
    readSnapshot: db.prepare(`SELECT stream_version, state FROM snapshots WHERE stream_id = ? AND state_version = ?`),
    saveSnapshot: db.prepare(
      `INSERT INTO snapshots (stream_id, stream_version, state_version, state, taken_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET stream_version = excluded.stream_version, state_version = excluded.state_version,
         state = excluded.state, taken_at = excluded.taken_at`,
    ),
  };
}
