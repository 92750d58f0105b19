/**
 * Transactions on one better-sqlite3 connection, one at a time. A connection has one transaction state, so
 * two transactions whose work functions await must not overlap: the statements of one would land in the
 * other. `run` starts the work at once when the connection is free and queues it behind the open
 * transaction otherwise; queued work starts, in call order, as soon as the transaction before it committed
 * or rolled back.
 *
 * The common path costs what a synchronous transaction did: a work function that returns a plain value is
 * begun, run and committed in one synchronous stretch (nothing else in the process can run in between), and
 * only the promise handed back is extra. A work function that returns a promise holds the connection until
 * it settles; the transaction commits when it resolves and rolls back when it rejects.
 *
 * Savepoints nest inside the open transaction (`savepoint`): the work of an outer transaction awaits them,
 * and one that throws rolls back alone. Calling `run` from inside a work function would wait for itself;
 * when it happens synchronously it is refused with SHOAL_HANDLER_INVALID (after an await it cannot be told
 * apart from another caller's transaction, and simply queues).
 */
import type Database from 'better-sqlite3';
import { ShoalError } from '@shoal/core';

export interface SerialTransactionHooks {
  /** After every outermost commit. */
  committed?: () => void;
  /** After every outermost rollback. */
  rolledBack?: () => void;
}

export class SerialTransactions {
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  /** SAVEPOINT / RELEASE / ROLLBACK TO of each depth, prepared on first use. */
  private readonly savepoints: Array<{ open: Database.Statement; release: Database.Statement; undo: Database.Statement }> = [];
  private readonly waiting: Array<() => void> = [];
  private busy = false;
  /** A work function is running synchronously right now. */
  private inWork = false;
  private depth = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly hooks: SerialTransactionHooks = {},
  ) {
    this.begin = db.prepare('BEGIN');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
  }

  /** Whether a transaction is open or queued. */
  get active(): boolean {
    return this.busy;
  }

  /** Runs `work` in a transaction of its own, after the ones before it; resolves to its result once committed. */
  run<T>(work: () => T | PromiseLike<T>): Promise<T> {
    if (this.inWork) {
      return Promise.reject(
        new ShoalError('SHOAL_HANDLER_INVALID', 'A transaction was started inside another one on the same connection: use the transaction\'s own transact() for a savepoint'),
      );
    }
    if (!this.busy) return this.start(work);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => {
        this.start(work).then(resolve, reject);
      });
    });
  }

  /** Runs `work` in a savepoint of the open transaction; rolled back alone if it throws. */
  savepoint<T>(work: () => T | PromiseLike<T>): Promise<T> {
    if (!this.busy || !this.db.inTransaction) {
      return Promise.reject(new ShoalError('SHOAL_HANDLER_INVALID', 'The transaction is over: a savepoint runs inside the transact() call that received the transaction'));
    }
    const level = this.savepointAt(this.depth);
    this.depth += 1;
    level.open.run();
    let result: T | PromiseLike<T>;
    const wasInWork = this.inWork;
    this.inWork = true;
    try {
      result = work();
    } catch (error) {
      this.inWork = wasInWork;
      this.undoSavepoint(level);
      return Promise.reject(error);
    }
    this.inWork = wasInWork;
    if (!isPromiseLike(result)) {
      this.depth -= 1;
      level.release.run();
      return Promise.resolve(result);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.depth -= 1;
        level.release.run();
        return value;
      },
      (error: unknown) => {
        this.undoSavepoint(level);
        throw error;
      },
    );
  }

  private start<T>(work: () => T | PromiseLike<T>): Promise<T> {
    this.busy = true;
    let result: T | PromiseLike<T>;
    try {
      this.begin.run();
      this.inWork = true;
      result = work();
    } catch (error) {
      this.inWork = false;
      this.end(false);
      return Promise.reject(error);
    }
    this.inWork = false;
    if (!isPromiseLike(result)) return this.finish(result);
    return Promise.resolve(result).then(
      (value) => this.finish(value),
      (error: unknown) => {
        this.end(false);
        throw error;
      },
    );
  }

  private finish<T>(value: T): Promise<T> {
    try {
      this.commit.run();
    } catch (error) {
      this.end(false);
      return Promise.reject(error);
    }
    this.end(true);
    return Promise.resolve(value);
  }

  /** Closes the transaction (rolling back what is left open) and starts the next one in line. */
  private end(committed: boolean): void {
    this.depth = 0;
    try {
      // Some failures (SQLITE_FULL, SQLITE_IOERR, a failed COMMIT) leave it open, others roll it back themselves.
      if (!committed && this.db.open && this.db.inTransaction) this.rollback.run();
    } finally {
      // The connection stays taken while it is handed to the next in line, so a caller cannot jump the queue.
      const next = this.waiting.shift();
      if (next === undefined) this.busy = false;
      try {
        if (committed) this.hooks.committed?.();
        else this.hooks.rolledBack?.();
      } finally {
        // A microtask rather than a call, so a long queue of synchronous transactions does not nest on the stack.
        if (next !== undefined) queueMicrotask(next);
      }
    }
  }

  private undoSavepoint(level: { release: Database.Statement; undo: Database.Statement }): void {
    this.depth -= 1;
    if (!this.db.inTransaction) return;
    level.undo.run();
    level.release.run();
  }

  private savepointAt(depth: number) {
    let level = this.savepoints[depth];
    if (level === undefined) {
      const name = `shoal_${depth}`;
      level = { open: this.db.prepare(`SAVEPOINT ${name}`), release: this.db.prepare(`RELEASE ${name}`), undo: this.db.prepare(`ROLLBACK TO ${name}`) };
      this.savepoints[depth] = level;
    }
    return level;
  }
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
