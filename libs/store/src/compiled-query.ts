/**
 * A query written once with the typed query builder (query-builder.ts), compiled once per dialect, then run
 * with its parameters' values straight on a SqlExecutor: no builder and no compile per call, and on SQLite
 * the answer comes at once (`MaybePromise`), as a hand-written `tx.sql` statement's does. For the statements
 * a handler runs for every event, where building and compiling each call would cost more than the statement.
 *
 *   const stockOf = compiledQuery((db: Kysely<Tables>, p: Params<{ sku: string }>) =>
 *     db.selectFrom('stock').select(['sku', 'available']).where('sku', '=', p.sku));
 *   const level = await stockOf.get(tx.sql, { sku });   // typed row, or undefined
 *
 * `p.<name>` stands for a parameter: the builder takes it as a value, so it becomes one placeholder of the
 * compiled statement, which `run`/`all`/`get` fill from `values` in place. A parameter is one value (an
 * array under `in` would change the statement's shape per call: build that query with queryBuilder). The
 * build function also receives the dialect, for the clauses only one of them has (`forUpdate` on PostgreSQL).
 */
import type { Compilable, CompiledQuery, InferResult, Kysely } from 'kysely';
import { ShoalError } from '@shoal/core';
import { type MaybePromise, type SqlDialect, type SqlExecutor } from './sql-executor.js';
import { queryBuilder } from './query-builder.js';

/** Parameter placeholders: `p.name` is typed as the parameter's value. */
export type Params<P> = { readonly [K in keyof P]: P[K] };

class Param {
  constructor(readonly name: string) {}
}

const placeholders = new Proxy({}, { get: (_target, name) => new Param(String(name)) });

/** Executors that only compile: a query builder per dialect that is never asked to run anything. */
const compilers: Record<SqlDialect, SqlExecutor> = {
  sqlite: compileOnly('sqlite'),
  postgres: compileOnly('postgres'),
};

function compileOnly(dialect: SqlDialect): SqlExecutor {
  const refuse = (): never => {
    throw new ShoalError('SHOAL_CONFIG_INVALID', 'A compiled query runs on the executor given to run/all/get, not on its compiler');
  };
  return { dialect, run: refuse, all: refuse, get: refuse };
}

export interface CompiledStatement<P, R> {
  /** Runs it; the number of rows it changed. */
  run(sql: SqlExecutor, values: P): MaybePromise<number>;
  /** Every row it answers. */
  all(sql: SqlExecutor, values: P): MaybePromise<R[]>;
  /** The first row it answers, undefined for none. */
  get(sql: SqlExecutor, values: P): MaybePromise<R | undefined>;
}

export function compiledQuery<Tables, P, Q extends Compilable<unknown>>(
  build: (db: Kysely<Tables>, p: Params<P>, dialect: SqlDialect) => Q,
): CompiledStatement<P, InferResult<Q>[number]> {
  const compiled = new Map<SqlDialect, CompiledQuery>();
  const statement = (dialect: SqlDialect): CompiledQuery => {
    let found = compiled.get(dialect);
    if (found === undefined) {
      found = build(queryBuilder<Tables>(compilers[dialect]), placeholders as Params<P>, dialect).compile();
      compiled.set(dialect, found);
    }
    return found;
  };
  const valuesOf = (query: CompiledQuery, values: P): unknown[] =>
    query.parameters.map((parameter) => (parameter instanceof Param ? (values as Record<string, unknown>)[parameter.name] : parameter));
  type Row = InferResult<Q>[number];
  return {
    run(sql, values) {
      const query = statement(sql.dialect);
      return sql.run(query.sql, valuesOf(query, values));
    },
    all(sql, values) {
      const query = statement(sql.dialect);
      return sql.all<Row>(query.sql, valuesOf(query, values));
    },
    get(sql, values) {
      const query = statement(sql.dialect);
      return sql.get<Row>(query.sql, valuesOf(query, values));
    },
  };
}
