/**
 * Running a command against an event-sourced aggregate: read the stream (from its snapshot when a policy is
 * given), fold it with `evolve`, `decide`, put the decided events in their envelopes, and append them
 * expecting the version that was read. A snapshot crossing the policy's threshold is stored in the append's
 * transaction.
 *
 * Two entry points, because retrying means waiting, which a transaction held open should not:
 *
 *   handleCommand     reads outside any write transaction and appends in its own; when another writer
 *                     appended in between (another process, or this one between awaits) the append fails
 *                     with a ConcurrencyError and the whole read-decide-append runs again after a backoff,
 *                     a bounded number of times.
 *   handleCommandIn   the same steps inside the caller's transaction (e.g. the consumer runtime's, with the
 *                     inbox row of the event that caused the command), the read on that transaction and the
 *                     append a savepoint of it, without retries.
 *                     SQLite: a transaction that wrote before (the inbox row) holds the write lock, so no
 *                     other writer can get between the read and the append. One that had only read when
 *                     another process committed cannot write any more (SQLite's BUSY_SNAPSHOT): the append
 *                     throws a retriable SHOAL_DATABASE error, which fails that transaction for its owner to
 *                     run again.
 *                     PostgreSQL: another instance may append between the read and the append; the append's
 *                     compare-and-set then matches no row and throws a ConcurrencyError (retriable), which
 *                     fails the transaction the same way.
 *
 * The read happens outside the write lock on purpose: folding a long stream must not stall the writers of
 * other processes sharing the database, and a conflict costs one more read, not a wrong decision.
 *
 * A domain error thrown by `decide` propagates as it is, nothing appended and never retried. A caller-given
 * `expectedVersion` (e.g. from an HTTP If-Match) is checked against the read before deciding; a conflict
 * with an exact one is final, since versions only grow.
 */
import { backoffDelay, isShoalError, sleep, ShoalError, type Decider } from '@shoal/core';
import type { CreateEventOptions, ShoalEvent } from '@shoal/contract';
import { envelope, type DomainEvent } from './domain-event.js';
import { ConcurrencyError, matchesExpected, type ExpectedVersion } from './expected-version.js';
import type { AnyTransaction, EventStore } from './event-store.js';
import { crossesSnapshotThreshold, type SnapshotPolicy } from './snapshot-policy.js';

/** Options of `handleCommandIn`; `handleCommand` adds the retry. */
export interface CommandOptions {
  /** CloudEvents source of the new events. Default: the store's `source`. */
  source?: string;
  /** Subject, and Kafka key, of the new events: the aggregate id. Default: the stream id. */
  subject?: string;
  /** The event the command reacts to: the new events carry its correlation id and have it as their cause. */
  causedBy?: CreateEventOptions['causedBy'];
  traceparent?: string;
  /** Fail with a ConcurrencyError, before deciding, unless the stream is at this version. */
  expectedVersion?: ExpectedVersion;
  /** Read from, and store, snapshots of the state. */
  snapshot?: SnapshotPolicy;
}

export interface CommandRetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** backoffDelay's bounds between attempts, ms. */
  initialMs: number;
  maxMs: number;
}

export interface HandleCommandOptions extends CommandOptions {
  retry?: Partial<CommandRetryOptions>;
  /** Stops retrying (the last conflict is thrown) once aborted, e.g. at shutdown. */
  signal?: AbortSignal;
}

export const commandRetryDefaults = {
  maxAttempts: 8,
  initialMs: 5,
  maxMs: 250,
} satisfies CommandRetryOptions;

export interface CommandResult<S, E extends DomainEvent> {
  /** The state after the new events. */
  newState: S;
  /** The appended events, in their envelopes; empty when the decider decided nothing (and nothing was written). */
  newEvents: ShoalEvent<E['type']>[];
  /** The stream's version after the command. */
  nextExpectedVersion: number;
}

/** Runs `command` on the aggregate of `streamId` in transactions of its own, retrying on conflicts. */
export async function handleCommand<S, C, E extends DomainEvent>(
  store: EventStore,
  decider: Decider<S, C, E>,
  streamId: string,
  command: C,
  options: HandleCommandOptions = {},
): Promise<CommandResult<S, E>> {
  const retry = { ...commandRetryDefaults, ...options.retry };
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await runCommand(store, decider, streamId, command, options, undefined);
    } catch (error) {
      if (!isRetriable(error, options.expectedVersion) || attempt >= retry.maxAttempts || options.signal?.aborted) throw error;
      const delayMs = backoffDelay(attempt, retry);
      store.logger.debug({ streamId, attempt, delayMs, err: error }, 'command conflicted with another writer, retrying');
      await sleep(delayMs, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}

/** Runs `command` on the aggregate of `streamId` as part of the caller's open transaction `tx`. */
export function handleCommandIn<S, C, E extends DomainEvent>(
  tx: AnyTransaction,
  store: EventStore,
  decider: Decider<S, C, E>,
  streamId: string,
  command: C,
  options: CommandOptions = {},
): Promise<CommandResult<S, E>> {
  try {
    store.checkTransaction(tx);
  } catch (error) {
    return Promise.reject(error);
  }
  return runCommand(store, decider, streamId, command, options, tx);
}

/** Read, decide, append: in `tx` (a savepoint of it) when given, else in a transaction of its own. */
async function runCommand<S, C, E extends DomainEvent>(
  store: EventStore,
  decider: Decider<S, C, E>,
  streamId: string,
  command: C,
  options: CommandOptions,
  tx: AnyTransaction | undefined,
): Promise<CommandResult<S, E>> {
  const source = options.source ?? store.options.source;
  if (source === undefined) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `No CloudEvents source for the events of stream ${streamId}: give the event store a source, or the command one`);
  }
  const current = await store.aggregateStream(streamId, decider, {
    ...(options.snapshot === undefined ? {} : { snapshot: options.snapshot }),
    ...(tx === undefined ? {} : { tx }),
  });
  if (options.expectedVersion !== undefined && !matchesExpected(options.expectedVersion, current.version)) {
    throw new ConcurrencyError(streamId, options.expectedVersion, current.version);
  }
  const decided = decider.decide(command, current.state);
  if (decided.length === 0) return { newState: current.state, newEvents: [], nextExpectedVersion: current.version };

  const newState = decided.reduce(decider.evolve, current.state);
  const envelopeOptions: CreateEventOptions = {
    source,
    subject: options.subject ?? streamId,
    now: store.options.now,
    ...(store.options.newId === undefined ? {} : { newId: store.options.newId }),
    ...(options.causedBy === undefined ? {} : { causedBy: options.causedBy }),
    ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
  };
  const newEvents = decided.map((event) => envelope(event, envelopeOptions));
  const write = async (writing: AnyTransaction): Promise<CommandResult<S, E>> => {
    const { nextExpectedVersion } = await store.appendIn(writing, streamId, current.version, newEvents);
    const policy = options.snapshot;
    if (policy !== undefined && crossesSnapshotThreshold(policy, current.version, nextExpectedVersion)) {
      await store.saveSnapshotIn(writing, streamId, { streamVersion: nextExpectedVersion, stateVersion: policy.version, state: newState });
    }
    return { newState, newEvents, nextExpectedVersion };
  };
  return tx === undefined ? store.database.transact(write) : tx.transact(write);
}

/**
 * A conflict with the version the handler read, or a write lock that stayed busy: both go away by reading
 * again. A conflict with an exact version the caller gave cannot.
 */
function isRetriable(error: unknown, callerExpected: ExpectedVersion | undefined): boolean {
  if (error instanceof ConcurrencyError) return callerExpected === undefined || callerExpected === 'any' || callerExpected === 'stream_exists';
  return isShoalError(error, 'SHOAL_DATABASE') && error.retriable;
}
