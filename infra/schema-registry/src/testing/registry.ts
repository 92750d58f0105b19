/** Real registries for the calling test (listening, or an app to `inject()` into), and the schemas tests share. */
import type { FastifyInstance } from 'fastify';
import { onTestFinished } from 'vitest';
import { tempDir } from '@shoal/testing';
import { buildRegistryApp } from '../app.js';
import type { CompatibilityLevel } from '../avro/index.js';
import { Registry } from '../registry.js';
import { RegistryStore } from '../registry-store.js';
import { startRegistry, type RegistryOptions, type RunningRegistry } from '../server.js';

/** A registry on a free port and a fresh temp dir (or `dataDir`), closed when the calling test finishes. */
export async function startTestRegistry(options: Partial<RegistryOptions> = {}): Promise<RunningRegistry & { dataDir: string }> {
  const dataDir = options.dataDir ?? tempDir('registry');
  const registry = await startRegistry({ port: 0, logLevel: 'warn', ...options, dataDir });
  // Registered after tempDir's cleanup, so it runs first: close the registry, then remove its files.
  onTestFinished(() => registry.close());
  return { url: registry.url, host: registry.host, port: registry.port, close: registry.close, dataDir };
}

/** The registry's app on a fresh temp dir, not listening (drive it with `app.inject()`), closed at test end. */
export async function testRegistryApp(options: { dataDir?: string; defaultCompatibility?: CompatibilityLevel; bodyLimit?: number } = {}): Promise<{ app: FastifyInstance; dataDir: string }> {
  const dataDir = options.dataDir ?? tempDir('registry');
  const store = new RegistryStore(dataDir);
  const app = buildRegistryApp({
    registry: new Registry({ store, defaultCompatibility: options.defaultCompatibility ?? 'BACKWARD' }),
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
  });
  onTestFinished(async () => {
    await app.close();
    store.close();
  });
  await app.ready();
  return { app, dataDir };
}

export interface RegistryAnswer {
  status: number;
  contentType: string | undefined;
  /** The parsed JSON body; `any` because each route answers its own shape and tests read it directly. */
  body: any;
}

/**
 * `call(method, url, body?)` against an app with `inject()`: a body that is not a string is sent as JSON
 * with the registry's content type; a string is sent as it is, with `contentType` (default the same).
 */
export function registryCaller(app: FastifyInstance) {
  return async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, contentType = 'application/vnd.schemaregistry.v1+json'): Promise<RegistryAnswer> => {
    const response = await app.inject({
      method,
      url,
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType } }),
    });
    return { status: response.statusCode, contentType: response.headers['content-type'] as string | undefined, body: response.body === '' ? undefined : JSON.parse(response.body) };
  };
}

/** An Avro record schema's JSON text: `avroRecord('shoal.common.Money', [{ name: 'amount', type: 'long' }])`. */
export function avroRecord(fullName: string, fields: { name: string; type: unknown; default?: unknown }[]): string {
  const at = fullName.lastIndexOf('.');
  return JSON.stringify({ type: 'record', name: fullName.slice(at + 1), ...(at > 0 ? { namespace: fullName.slice(0, at) } : {}), fields });
}

/**
 * Schemas the tests share: shoal.common.Money, two evolutions of it (one compatible both ways, one that
 * breaks every level) and an event that uses Money by reference (with the reference to version 1).
 */
export const testSchemas = {
  money: avroRecord('shoal.common.Money', [
    { name: 'amount', type: 'long' },
    { name: 'currency', type: 'string' },
  ]),
  moneyWithNote: avroRecord('shoal.common.Money', [
    { name: 'amount', type: 'long' },
    { name: 'currency', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
  ]),
  moneyAsString: avroRecord('shoal.common.Money', [
    { name: 'amount', type: 'string' },
    { name: 'currency', type: 'string' },
  ]),
  orderPlaced: avroRecord('shoal.orders.OrderPlaced', [
    { name: 'orderId', type: 'string' },
    { name: 'total', type: 'shoal.common.Money' },
  ]),
  moneyReference: { name: 'shoal.common.Money', subject: 'shoal.common.Money', version: 1 },
};
