import { resolve } from 'node:path';
import { DEFAULT_SCHEMAS_DIR, loadSchemaCatalog, type SchemaCatalog } from '@shoal/contract';

/** `parseArgs` spec of `--schemas <dir>`, shared by every command that reads the schemas folder. */
export const schemasOption = { schemas: { type: 'string' } } as const;

/** The schema catalog of `--schemas`, else of the repository's schemas/ folder. */
export function schemaCatalogOption(values: { schemas?: string | undefined }): SchemaCatalog {
  return loadSchemaCatalog(resolve(values.schemas ?? DEFAULT_SCHEMAS_DIR));
}
