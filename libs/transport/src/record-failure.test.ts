import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ShoalError } from '@shoal/core';
import { asShoalError, failureKind } from './record-failure.js';

describe('failureKind', () => {
  it('dead-letters at once what a ShoalError says cannot succeed on retry', () => {
    for (const code of ['SHOAL_EVENT_DECODE', 'SHOAL_SCHEMA_UNKNOWN_ID', 'SHOAL_EVENT_INVALID', 'SHOAL_EVENT_DATA_INVALID', 'SHOAL_HANDLER_INVALID'] as const) {
      expect(failureKind(new ShoalError(code, 'bad')), code).toBe('poison');
    }
  });

  it('retries a retriable ShoalError and anything that is not a ShoalError', () => {
    expect(failureKind(new ShoalError('SHOAL_HANDLER_FAILED', 'later', { retriable: true }))).toBe('retriable');
    expect(failureKind(new Error('plain'))).toBe('retriable');
    expect(failureKind('a string')).toBe('retriable');
    expect(failureKind(new Database.SqliteError('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_PRIMARYKEY'))).toBe('retriable');
  });

  it('waits out an unreachable registry and a database that cannot take writes', () => {
    expect(failureKind(new ShoalError('SHOAL_REGISTRY_UNAVAILABLE', 'down', { retriable: true }))).toBe('outage');
    expect(failureKind(new ShoalError('SHOAL_DATABASE', 'closed'))).toBe('outage');
    expect(failureKind(new Database.SqliteError('database is locked', 'SQLITE_BUSY'))).toBe('outage');
    expect(failureKind(new Database.SqliteError('database table is locked', 'SQLITE_LOCKED_SHAREDCACHE'))).toBe('outage');
    expect(failureKind(new Database.SqliteError('disk full', 'SQLITE_FULL'))).toBe('outage');
    expect(failureKind(new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'))).toBe('outage');
    expect(failureKind(new Database.SqliteError('readonly', 'SQLITE_READONLY_DBMOVED'))).toBe('outage');
  });
});

describe('asShoalError', () => {
  it('keeps a ShoalError and wraps anything else as SHOAL_HANDLER_FAILED with its message and cause', () => {
    const shoal = new ShoalError('SHOAL_EVENT_DECODE', 'bad bytes');
    expect(asShoalError(shoal)).toBe(shoal);
    const plain = new RangeError('out of range');
    expect(asShoalError(plain)).toMatchObject({ code: 'SHOAL_HANDLER_FAILED', message: 'out of range', retriable: true, cause: plain });
    expect(asShoalError(new Database.SqliteError('disk full', 'SQLITE_FULL'))).toMatchObject({ code: 'SHOAL_HANDLER_FAILED', retriable: true });
    expect(asShoalError(42)).toMatchObject({ code: 'SHOAL_HANDLER_FAILED', message: '42' });
  });
});
