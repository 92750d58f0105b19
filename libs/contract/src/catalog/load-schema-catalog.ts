import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShoalError } from '@shoal/core';
import { MANIFEST_FILE } from './manifest.js';
import { schemaCatalogFromFiles } from './schema-catalog.js';
import type { SchemaCatalog } from './schema-catalog.js';

/** The repository's schemas/ folder (this file is libs/contract/src/catalog/load-schema-catalog.ts). */
export const DEFAULT_SCHEMAS_DIR: string = fileURLToPath(new URL('../../../../schemas', import.meta.url));

/** Reads the manifest and every `.avsc` file under `dir` (synchronously) and validates them as a catalog. */
export function loadSchemaCatalog(dir: string = DEFAULT_SCHEMAS_DIR): SchemaCatalog {
  const files = new Map<string, string>();
  try {
    files.set(MANIFEST_FILE, readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(dir, error);
    // A missing manifest is reported by the catalog's validation, naming the file.
  }
  // Files at any depth are read so that a misplaced schema is reported instead of silently ignored.
  const visit = (relative: string): void => {
    let entries;
    try {
      entries = readdirSync(join(dir, relative), { withFileTypes: true });
    } catch (error) {
      throw unreadable(dir, error);
    }
    for (const entry of entries) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.avsc')) files.set(path, readFileSync(join(dir, path), 'utf8'));
    }
  };
  visit('');
  return schemaCatalogFromFiles(files, dir);
}

function unreadable(dir: string, cause: unknown): ShoalError {
  return new ShoalError('SHOAL_SCHEMA_INVALID', `Cannot read the schemas folder ${dir}: ${(cause as Error).message}`, {
    cause,
    details: { dir },
  });
}
