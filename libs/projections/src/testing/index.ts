/**
 * Test support for packages that run projections: `@shoal/projections/testing`. A real broker and registry
 * (startTestPlatform) with a connected Publisher, projectors stopped when the test ends, the order-counting
 * projection of order-projection.ts, and `projectionStores`: both stores a projector keeps its models in, so
 * one suite runs on each (`describe.each(projectionStores)`). Imports vitest: not for runtime code.
 */
import { onTestFinished } from 'vitest';
import { Publisher } from '@shoal/transport';
import { loadSchemaCatalog } from '@shoal/contract';
import { startTestPlatform, type TestPlatform } from '@shoal/contract/testing';
import type { ServiceDatabase } from '@shoal/store';
import { storeAdapters, type StoreAdapter } from '@shoal/store-postgres/testing';
import { Projector, type ProjectorOptions } from '../projector.js';

export { orderProjection, orderRows, orderPlaced, orderIdOf, publishOrders, expectedRows } from './order-projection.js';
export type { OrderRow, OrderTables, OrderProjectionOptions, PublishedOrder } from './order-projection.js';

export interface ProjectionTestPlatform extends TestPlatform {
  /** Connected; disconnected when the test ends. */
  publisher: Publisher;
  /** A projector on this platform (not started), stopped when the test ends. */
  projector<Tables>(options: Pick<ProjectorOptions<Tables>, 'projection' | 'dataDir'> & Partial<ProjectorOptions<Tables>>): Projector<Tables>;
}

export async function startProjectionPlatform(): Promise<ProjectionTestPlatform> {
  const platform = await startTestPlatform();
  const publisher = new Publisher({ kafka: platform.kafka(), codec: platform.codec });
  await publisher.connect();
  onTestFinished(() => publisher.disconnect());
  return {
    ...platform,
    publisher,
    projector(options) {
      const projector = new Projector({ kafka: platform.kafka(), codec: platform.codec, ...options });
      onTestFinished(() => projector.stop());
      return projector;
    },
  };
}

/** Where a suite's projectors keep their models: SQLite files, or a PostgreSQL database of the test's own. */
export interface ProjectionStoreCase {
  name: StoreAdapter['name'];
  /** Why the store cannot run here (the suite is skipped with it), undefined when it can. */
  missing: string | undefined;
  /** The `database` option of the test's projectors: undefined on SQLite (files under dataDir), else a new database. */
  database(): Promise<ServiceDatabase | undefined>;
  /** Another connection to `database` (another instance's), closed when the test ends. */
  reopen(database: ServiceDatabase): Promise<ServiceDatabase>;
  /** Where `database` is, for a projector in another process: undefined on SQLite, else its URL. */
  location(database: ServiceDatabase | undefined): string | undefined;
}

export const projectionStores: readonly ProjectionStoreCase[] = storeAdapters.map((adapter) => ({
  name: adapter.name,
  missing: adapter.missing,
  database: async () => (adapter.name === 'postgres' ? adapter.open(loadSchemaCatalog()) : undefined),
  reopen: (database) => adapter.reopen(database, loadSchemaCatalog()),
  location: (database) => (database === undefined ? undefined : adapter.location(database)),
}));
