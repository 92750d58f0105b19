/**
 * @shoal/store's SqlExecutor on node-postgres: a statement's `?` placeholders numbered `$1, $2, ...` once,
 * then run as a named prepared statement (parsed and planned once per connection, looked up by its text).
 * On a pool each statement runs on some connection in a transaction of its own; on a transaction's client,
 * inside that transaction. A failure of the connection itself is reported as SHOAL_DATABASE, retriable
 * (database-errors.ts): the consumer runtime waits that out.
 */
import type pg from 'pg';
import type { SqlExecutor } from '@shoal/store';
import { databaseError } from './database-errors.js';

/** What runs a query: the pool, or one client of it. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

interface PreparedText {
  name: string;
  text: string;
}

/** Numbered statements by the text they were written in, shared by every executor of a process. */
const prepared = new Map<string, PreparedText>();

/** `?` placeholders as `$1, $2, ...` (outside quoted strings), under a stable name for prepared statements. */
export function numbered(sql: string): PreparedText {
  let found = prepared.get(sql);
  if (found === undefined) {
    let n = 0;
    let quoted: string | undefined;
    let text = '';
    for (const char of sql) {
      if (quoted !== undefined) {
        if (char === quoted) quoted = undefined;
        text += char;
      } else if (char === "'" || char === '"') {
        quoted = char;
        text += char;
      } else if (char === '?') {
        text += `$${++n}`;
      } else {
        text += char;
      }
    }
    found = { name: `shoal_${prepared.size + 1}`, text };
    prepared.set(sql, found);
  }
  return found;
}

export class PostgresExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;

  constructor(
    private readonly connection: Queryable,
    private readonly where: string,
  ) {}

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }

  async all<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.query(sql, params)).rows as R[];
  }

  async get<R>(sql: string, params: readonly unknown[] = []): Promise<R | undefined> {
    return (await this.query(sql, params)).rows[0] as R | undefined;
  }

  private async query(sql: string, params: readonly unknown[]): Promise<pg.QueryResult> {
    const { name, text } = numbered(sql);
    try {
      return await (this.connection as pg.Pool).query({ name, text, values: params as unknown[] });
    } catch (error) {
      throw databaseError(error, this.where);
    }
  }
}
