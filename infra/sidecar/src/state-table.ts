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
import type { SqliteDatabase } from '@shoal/store-sqlite';

export interface StateEntry {
  key: string;
  value: unknown;
  etag: string;
}

/** The ETag a write expects the key to be at: `"3"`, any existing version, or absence. */
export type ExpectedVersion = { version: number } | 'any' | 'none';

/** As long as a URL path parameter may be (fastify's limit), so every key the state routes take fits. */
export const MAX_KEY_LENGTH = 100;

export class StateTable {
  private readonly read;
  private readonly upsert;
  private readonly remove;

  constructor(
    db: SqliteDatabase,
    private readonly now: () => number,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS sidecar_state (
        key        TEXT    PRIMARY KEY,
        value      TEXT,
        version    INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `);
    this.read = db.prepare<[string], { value: string | null; version: number }>('SELECT value, version FROM sidecar_state WHERE key = ?');
    this.upsert = db.prepare<[string, string | null, number]>(
      `INSERT INTO sidecar_state (key, value, version, updated_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = version + 1, updated_at = excluded.updated_at`,
    );
    this.remove = db.prepare<[number, string]>('UPDATE sidecar_state SET value = NULL, version = version + 1, updated_at = ? WHERE key = ? AND value IS NOT NULL');
  }

  get(key: string): StateEntry | undefined {
    const row = this.read.get(key);
    if (row === undefined || row.value === null) return undefined;
    return { key, value: JSON.parse(row.value) as unknown, etag: etagOf(row.version) };
  }

  /** Writes `value`; returns the new ETag and whether the key was created. Run inside a transaction when `expected` is given. */
  put(key: string, value: unknown, expected?: ExpectedVersion): { etag: string; created: boolean } {
    const row = this.read.get(key);
    const exists = row !== undefined && row.value !== null;
    this.check(key, row, exists, expected);
    this.upsert.run(key, JSON.stringify(value), this.now());
    return { etag: etagOf((row?.version ?? 0) + 1), created: !exists };
  }

  /** Deletes the key; false when it did not exist (and no ETag was expected). */
  delete(key: string, expected?: ExpectedVersion): boolean {
    const row = this.read.get(key);
    const exists = row !== undefined && row.value !== null;
    this.check(key, row, exists, expected);
    if (!exists) return false;
    this.remove.run(this.now(), key);
    return true;
  }

  private check(key: string, row: { version: number } | undefined, exists: boolean, expected: ExpectedVersion | undefined): void {
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
