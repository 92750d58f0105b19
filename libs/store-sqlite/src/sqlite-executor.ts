/**
 * @shoal/store's SqlExecutor on one better-sqlite3 connection: each statement prepared once, looked up by
 * its text, and run synchronously, so results come back at once (never a promise). Statements run on the
 * connection as it is: inside whatever transaction is open on it, else each in its own.
 */
import type Database from 'better-sqlite3';
import type { SqlExecutor } from '@shoal/store';

export class SqliteExecutor implements SqlExecutor {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  run(sql: string, params: readonly unknown[] = []): number {
    return this.statement(sql).run(...params).changes;
  }

  all<R>(sql: string, params: readonly unknown[] = []): R[] {
    return this.statement(sql).all(...params) as R[];
  }

  get<R>(sql: string, params: readonly unknown[] = []): R | undefined {
    return this.statement(sql).get(...params) as R | undefined;
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
