/**
 * Test support for this package's tests (not exported): the repository's schema files and variants of them,
 * valid event data, and the ShoalError a call fails with. registry-fixtures.ts adds a real registry.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isShoalError, type ShoalError } from '@shoal/core';
import { DEFAULT_SCHEMAS_DIR, schemaCatalogFromFiles, type SchemaCatalog } from './catalog/index.js';
import type { OrderPlaced } from './generated/events.js';

/** schemas/ as paths relative to it -> text, for building variants of the catalog. */
export function repositorySchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (relative: string): void => {
    for (const entry of readdirSync(join(DEFAULT_SCHEMAS_DIR, relative), { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.avsc') || entry.name === 'manifest.json') files.set(path, readFileSync(join(DEFAULT_SCHEMAS_DIR, path), 'utf8'));
    }
  };
  visit('');
  return files;
}

/** The repository catalog with `edit` applied to the JSON of one schema file. */
export function catalogWithSchema(file: string, edit: (schema: { fields: Array<Record<string, unknown>> }) => void): SchemaCatalog {
  const files = repositorySchemaFiles();
  const schema = JSON.parse(files.get(file) ?? '{}') as { fields: Array<Record<string, unknown>> };
  edit(schema);
  files.set(file, JSON.stringify(schema));
  return schemaCatalogFromFiles(files);
}

export function orderPlacedData(overrides: Partial<OrderPlaced> = {}): OrderPlaced {
  const lines = [1, 2, 3].map((n) => ({ sku: `SKU-${n}`, quantity: n, unitPrice: { amount: 250 * n, currency: 'EUR' } }));
  return {
    orderId: 'ord-1',
    customerId: 'cus-1',
    lines,
    total: { amount: lines.reduce((sum, line) => sum + line.quantity * line.unitPrice.amount, 0), currency: 'EUR' },
    shippingAddress: { line1: '1 quai de la Loire', line2: null, city: 'Paris', postalCode: '75019', country: 'FR' },
    placedAt: 1_767_225_600_000,
    ...overrides,
  };
}

/** The ShoalError `call` throws or rejects with; anything else (or success) fails the test. */
export async function refusal(call: () => unknown): Promise<ShoalError> {
  try {
    await call();
  } catch (error) {
    if (isShoalError(error)) return error;
    throw error;
  }
  throw new Error('expected a ShoalError, the call succeeded');
}
