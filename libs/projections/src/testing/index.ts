/**
 * Test support for packages that run projections: `@shoal/projections/testing`. A real broker and registry
 * (startTestPlatform) with a connected Publisher, projectors stopped when the test ends, polling with a
 * deadline, and the order-counting projection of order-projection.ts. Imports vitest: not for runtime code.
 */
import { onTestFinished } from 'vitest';
import { Publisher } from '@shoal/transport';
import { startTestPlatform, type TestPlatform } from '@shoal/contract/testing';
import { Projector, type ProjectorOptions } from '../projector.js';

export { orderProjection, orderRows, orderPlaced, orderIdOf, publishOrders, expectedRows } from './order-projection.js';
export type { OrderRow, OrderProjectionOptions, PublishedOrder } from './order-projection.js';

export interface ProjectionTestPlatform extends TestPlatform {
  /** Connected; disconnected when the test ends. */
  publisher: Publisher;
  /** A projector on this platform (not started), stopped when the test ends. */
  projector(options: Pick<ProjectorOptions, 'projection' | 'dataDir'> & Partial<ProjectorOptions>): Projector;
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

/** Calls `check` until it returns without throwing, and returns its result; after `timeoutMs` its last error is thrown. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
