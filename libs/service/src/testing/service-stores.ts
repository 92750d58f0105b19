/**
 * Test support: the two stores a service runs on, so that one suite of a service's tests runs on each with
 * `describe.each(serviceStores)` and `it.skipIf(store.missing !== undefined)`. `env()` is what
 * `startTestService` takes as `env` to put the service on that store: nothing for SQLite (a file under the
 * test's data dir), `DATABASE_URL` of a new PostgreSQL database for PostgreSQL (dropped when the test ends).
 * Call `env()` once per service and pass the same result to a restarted one: it keeps its database.
 */
import { postgresMissingReason } from '@shoal/postgres';
import { testPostgresDatabaseUrl } from '@shoal/store-postgres/testing';

export interface ServiceStore {
  name: 'sqlite' | 'postgres';
  /** Why the store cannot run here (the suite is skipped with it), undefined when it can. */
  missing: string | undefined;
  /** The environment that puts a service on this store. */
  env(): Promise<Record<string, string>>;
}

export const serviceStores: readonly ServiceStore[] = [
  { name: 'sqlite', missing: undefined, env: async () => ({}) },
  { name: 'postgres', missing: postgresMissingReason(), env: async () => ({ DATABASE_URL: await testPostgresDatabaseUrl() }) },
];
