/**
 * SQL that runs unchanged on every adapter, for the platform's own tables (the inbox, the event store, the
 * outbox relay's lease): statements in the dialect both SQLite and PostgreSQL speak (`INSERT ... ON CONFLICT
 * DO NOTHING`, `RETURNING`, `?` placeholders, which the PostgreSQL adapter numbers `$1, $2, ...`), each
 * prepared once per connection by the adapter and looked up by its text.
 *
 * Results come back at once where the adapter can give them (SQLite: better-sqlite3 is synchronous), else
 * as a promise (PostgreSQL), so a hot path on SQLite costs no promise: `MaybePromise`. Integers come back as
 * numbers on both (BIGINT included: every integer the platform stores is below 2^53).
 */
export type MaybePromise<T> = T | Promise<T>;

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** Runs a statement; the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): MaybePromise<number>;
  /** Every row of a query. */
  all<R>(sql: string, params?: readonly unknown[]): MaybePromise<R[]>;
  /** The first row of a query, undefined for none. */
  get<R>(sql: string, params?: readonly unknown[]): MaybePromise<R | undefined>;
}

/** `then(value)` now if `value` is there, else once it resolves: a hot path that stays synchronous where it can. */
export function afterValue<T, U>(value: MaybePromise<T>, then: (resolved: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(then) : then(value);
}
