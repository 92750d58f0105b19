/**
 * The micrologic's state: JSON values by key in the sidecar's own database, each with a version that is its
 * ETag. `/v1/state/{key}` reads and writes it; a delivery's answer writes it in the transaction of the
 * delivery's inbox row and emitted events.
 *
 *   sidecar_state
 *     key         TEXT     PRIMARY KEY
 *     value       TEXT     the JSON value; NULL once deleted (the row stays, so a key deleted and written
 *                          again never hands out an ETag it had before)
 *     version     INTEGER  1 on the first write, + 1 on every write and delete: the ETag is `"<version>"`
 *     updated_at  INTEGER  ms since the epoch
 *
 * Optimistic concurrency: a write or delete given an expected ETag happens only if the key is at it (`*`: if
 * the key exists; `none`: if it does not), else SHOAL_CONCURRENCY_CONFLICT, retriable (read again, decide
 * again).
 */
import { ShoalError } from '@shoal/core';
import { afterValue, type MaybePromise, type SqlExecutor } from '@shoal/store';

export interface StateEntry {
  key: string;
  value: unknown;
  etag: string;
}

/** The ETag a write expects the key to be at: `"3"`, any existing version, or absence. */
export type ExpectedVersion = { version: number } | 'any' | 'none';

/** As long as a URL path parameter may be (fastify's limit), so every key the state routes take fits. */
export const MAX_KEY_LENGTH = 100;

interface StateRow {
  value: string | null;
  version: number;
}

const READ = 'SELECT value, version FROM sidecar_state WHERE key = ?';
const INSERT = 'INSERT INTO sidecar_state (key, value, version, updated_at) VALUES (?, ?, 1, ?) ON CONFLICT (key) DO NOTHING';
const UPDATE = 'UPDATE sidecar_state SET value = ?, version = ?, updated_at = ? WHERE key = ? AND version = ?';

/**
 * The state rows (table: sidecar-tables.ts), on whichever SqlExecutor it is given: a transaction's `tx.sql`
 * for writes, the database's `sql` for a read of its own. Synchronous on SQLite, promises on PostgreSQL.
 *
 * Every write is a compare-and-set on the version it read (`WHERE version = ?`, an insert that does nothing
 * when another got there first), so two instances writing one key on PostgreSQL at once cannot both pass
 * an If-Match: the loser reads again and, with a precondition, fails it; without one, it writes over.
 */
export class StateTable {
  constructor(private readonly now: () => number) {}

  get(sql: SqlExecutor, key: string): MaybePromise<StateEntry | undefined> {
    return afterValue(sql.get<StateRow>(READ, [key]), (row) =>
      row === undefined || row.value === null ? undefined : { key, value: JSON.parse(row.value) as unknown, etag: etagOf(row.version) },
    );
  }

  /** Writes `value`; returns the new ETag and whether the key was created. */
  put(sql: SqlExecutor, key: string, value: unknown, expected?: ExpectedVersion): MaybePromise<{ etag: string; created: boolean }> {
    const text = JSON.stringify(value);
    return afterValue(sql.get<StateRow>(READ, [key]), (row) => {
      const exists = row !== undefined && row.value !== null;
      this.check(key, row, exists, expected);
      const version = (row?.version ?? 0) + 1;
      const written = row === undefined ? sql.run(INSERT, [key, text, this.now()]) : sql.run(UPDATE, [text, version, this.now(), key, row.version]);
      return afterValue(written, (changes) => (changes === 1 ? { etag: etagOf(version), created: !exists } : this.put(sql, key, value, expected)));
    });
  }

  /** Deletes the key; false when it did not exist (and no ETag was expected). */
  delete(sql: SqlExecutor, key: string, expected?: ExpectedVersion): MaybePromise<boolean> {
    return afterValue(sql.get<StateRow>(READ, [key]), (row) => {
      const exists = row !== undefined && row.value !== null;
      this.check(key, row, exists, expected);
      if (!exists) return false;
      return afterValue(sql.run(UPDATE, [null, row.version + 1, this.now(), key, row.version]), (changes) => (changes === 1 ? true : this.delete(sql, key, expected)));
    });
  }

  private check(key: string, row: StateRow | undefined, exists: boolean, expected: ExpectedVersion | undefined): void {
    if (expected === undefined) return;
    const current = exists ? etagOf(row!.version) : 'none';
    const ok = expected === 'any' ? exists : expected === 'none' ? !exists : exists && row!.version === expected.version;
    if (ok) return;
    const wanted = expected === 'any' ? 'an existing key' : expected === 'none' ? 'no such key' : etagOf(expected.version);
    throw new ShoalError('SHOAL_CONCURRENCY_CONFLICT', `State key ${JSON.stringify(key)} is at ${current === 'none' ? 'no version (it does not exist)' : current}, not ${wanted}`, {
      retriable: true,
      details: { key, etag: current === 'none' ? null : current },
    });
  }
}

export function etagOf(version: number): string {
  return `"${version}"`;
}

/** An If-Match value or an answer's `etag`: `"3"`, `3`, `W/"3"` or `*`; undefined when it is none of these. */
export function parseEtag(value: unknown): ExpectedVersion | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? { version: value } : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '*') return 'any';
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(text);
  if (match === null) return undefined;
  const version = Number(match[1]);
  return version > 0 ? { version } : undefined;
}
