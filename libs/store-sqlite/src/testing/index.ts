/**
 * Test support for code on a service database: `@shoal/store-sqlite/testing`. Not part of the runtime
 * surface (it imports vitest).
 */
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { SchemaCatalog } from '@shoal/contract';
import { tempDir } from '@shoal/testing';
import { SqliteServiceDatabase, type SqliteServiceDatabaseOptions } from '../sqlite-service-database.js';

/** A service database in a fresh temp dir, closed when the calling test finishes. */
export function openTestDatabase(catalog: SchemaCatalog, options: Partial<SqliteServiceDatabaseOptions> = {}): SqliteServiceDatabase {
  const database = new SqliteServiceDatabase({ path: join(tempDir('store'), 'service.db'), catalog, ...options });
  onTestFinished(() => database.close());
  return database;
}
