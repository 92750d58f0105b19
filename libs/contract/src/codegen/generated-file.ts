import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSchemaCatalog } from '../catalog/index.js';
import { generateTypeScript } from './typescript-codegen.js';

/** libs/contract/src/generated/events.ts, resolved from this file's location. */
export const DEFAULT_GENERATED_FILE: string = fileURLToPath(new URL('../generated/events.ts', import.meta.url));

export interface CodegenOptions {
  /** Schemas folder; the repository's schemas/ by default. */
  schemasDir?: string;
  /** Output file; DEFAULT_GENERATED_FILE by default. */
  outFile?: string;
  /** Compare only, never write. */
  check?: boolean;
}

/** 'stale' only in check mode: the file is missing or differs from what the schemas generate. */
export type CodegenResult = 'written' | 'unchanged' | 'stale';

/**
 * Generates the TypeScript for a schemas folder and writes it only when its content changed, so tsc and
 * vitest watchers are not woken by a codegen run that changes nothing.
 */
export function runCodegen(options: CodegenOptions = {}): CodegenResult {
  const outFile = options.outFile ?? DEFAULT_GENERATED_FILE;
  const source = generateTypeScript(loadSchemaCatalog(options.schemasDir));
  let current: string | undefined;
  try {
    current = readFileSync(outFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (current === source) return 'unchanged';
  if (options.check) return 'stale';
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, source);
  return 'written';
}
