/**
 * Test support for code on a service database: `@shoal/store-postgres/testing`. Not part of the runtime
 * surface (it imports vitest).
 *
 * One PostgreSQL server per test process (the @shoal/postgres fixture), started on first use and killed when
 * the process exits; each test gets a database of its own on it, dropped when the test finishes.
 * `storeAdapters` lists both adapters so one suite runs on each: `describe.each(storeAdapters)`.
 */
import { onTestFinished } from 'vitest';
import pg from 'pg';
import type { SchemaCatalog } from '@shoal/contract';
import type { ServiceDatabase } from '@shoal/store';
import { openTestDatabase } from '@shoal/store-sqlite/testing';
import { postgresMissingReason, startPostgres, type PostgresServer } from '@shoal/postgres';
import { uniqueName } from '@shoal/testing';
import { PostgresServiceDatabase, type PostgresServiceDatabaseOptions } from '../postgres-service-database.js';

let server: Promise<PostgresServer> | undefined;

/** The test process's PostgreSQL server. */
export function testPostgresServer(): Promise<PostgresServer> {
  server ??= startPostgres().then((started) => {
    process.once('exit', () => started.kill());
    return started;
  });
  return server;
}

/** A new empty database on the test server, dropped when the calling test finishes; its URL. */
export async function testPostgresDatabaseUrl(): Promise<string> {
  const running = await testPostgresServer();
  const name = uniqueName('db').replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  const admin = new pg.Client({ connectionString: running.url() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  onTestFinished(async () => {
    const dropper = new pg.Client({ connectionString: running.url() });
    await dropper.connect();
    try {
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await dropper.end();
    }
  });
  return running.url(name);
}

/** A service database on a new PostgreSQL database (or `url`'s), closed when the calling test finishes. */
export async function openTestPostgresDatabase(catalog: SchemaCatalog, options: Partial<PostgresServiceDatabaseOptions> = {}): Promise<PostgresServiceDatabase> {
  const url = options.url ?? (await testPostgresDatabaseUrl());
  const database = await PostgresServiceDatabase.open({ service: 'test-service', catalog, ...options, url });
  onTestFinished(() => database.close());
  return database;
}

export interface StoreAdapter {
  name: 'sqlite' | 'postgres';
  /** Why the adapter cannot run here (the suite is skipped with it), undefined when it can. */
  missing: string | undefined;
  /** A new service database, closed when the calling test finishes. */
  open(catalog: SchemaCatalog): Promise<ServiceDatabase>;
  /** Another connection (another instance's) to the database `database` opened. */
  reopen(database: ServiceDatabase, catalog: SchemaCatalog): Promise<ServiceDatabase>;
  /** Where `database` is for another process: a file path or a `postgres://` URL (openServiceDatabase takes both). */
  location(database: ServiceDatabase): string;
}

const postgresUrls = new WeakMap<ServiceDatabase, string>();

export const storeAdapters: readonly StoreAdapter[] = [
  {
    name: 'sqlite',
    missing: undefined,
    open: async (catalog) => openTestDatabase(catalog),
    reopen: async (database, catalog) => openTestDatabase(catalog, { path: database.path }),
    location: (database) => database.path,
  },
  {
    name: 'postgres',
    missing: postgresMissingReason(),
    open: async (catalog) => {
      const url = await testPostgresDatabaseUrl();
      const database = await openTestPostgresDatabase(catalog, { url });
      postgresUrls.set(database, url);
      return database;
    },
    reopen: async (database, catalog) => openTestPostgresDatabase(catalog, { url: postgresUrls.get(database)! }),
    location: (database) => postgresUrls.get(database)!,
  },
];
