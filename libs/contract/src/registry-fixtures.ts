/**
 * Test support (not exported): a real registry for the current test holding the schema catalog, and clients
 * that record every request they send, to prove where the registry is called and where it is not.
 */
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { loadSchemaCatalog, type SchemaCatalog } from './catalog/index.js';
import { registerCatalog, type RegisteredCatalogSchema } from './catalog-registration.js';
import { RegistryClient, type RegistryClientOptions, type RegistryRequest } from './registry-client.js';

export interface CountingClient {
  client: RegistryClient;
  /** Every request the client sent, in order. */
  requests: RegistryRequest[];
}

export function countingClient(url: string, options: Partial<RegistryClientOptions> = {}): CountingClient {
  const requests: RegistryRequest[] = [];
  const client = new RegistryClient({ url, ...options, onRequest: (request) => requests.push(request) });
  return { client, requests };
}

export interface RegisteredRegistry extends CountingClient {
  url: string;
  catalog: SchemaCatalog;
  registered: RegisteredCatalogSchema[];
  /** Stops the registry before the test ends (it is stopped at the end anyway). */
  close(): Promise<void>;
}

/** A registry for the current test holding `catalog` (default: the repository's), and a counting client. */
export async function registryWithCatalog(catalog: SchemaCatalog = loadSchemaCatalog()): Promise<RegisteredRegistry> {
  const registry = await startTestRegistry();
  const { client, requests } = countingClient(registry.url);
  const registered = await registerCatalog(client, catalog);
  requests.length = 0;
  return { url: registry.url, client, requests, catalog, registered, close: () => registry.close() };
}
