/**
 * The files of a projection in its data dir:
 *
 *   <name>.v<version>.g<generation>.db   a read model (with its -wal and -shm companions while open)
 *   <name>.current.json                  {"file","version","generation"}: which model is live
 *
 * The pointer is a file of its own, replaced by writing a temporary file, fsyncing it and renaming it over
 * the old one (rename is atomic on POSIX file systems), then fsyncing the folder: whatever the moment of a
 * crash, the pointer names either the old model or the new one, never half of each. A control table in a
 * separate SQLite file would give the same guarantee with more moving parts; a JSON file can also be read
 * by a person who wonders which file is live.
 *
 * Generations only grow, so a shadow never reuses a live file's name. Any model file that the pointer does not
 * name (a shadow of a rebuild that crashed, an old model whose deletion a crash interrupted) is garbage, and
 * is deleted when the projector starts.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '@shoal/core';

export interface CurrentModel {
  /** File name inside the data dir. */
  file: string;
  version: number;
  generation: number;
}

export function modelFileName(name: string, version: number, generation: number): string {
  return `${name}.v${version}.g${generation}.db`;
}

function pointerPath(dataDir: string, name: string): string {
  return join(dataDir, `${name}.current.json`);
}

/** The live model named by the pointer, or undefined when the projection has never been built here. */
export function readCurrentModel(dataDir: string, name: string): CurrentModel | undefined {
  let text: string;
  try {
    text = readFileSync(pointerPath(dataDir, name), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ShoalError('SHOAL_DATABASE', `Cannot read ${pointerPath(dataDir, name)}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = safeParse(text) as Partial<CurrentModel> | undefined;
  if (
    parsed === undefined ||
    typeof parsed.file !== 'string' ||
    !modelFilePattern(name).test(parsed.file) ||
    !Number.isSafeInteger(parsed.version) ||
    !Number.isSafeInteger(parsed.generation)
  ) {
    throw new ShoalError('SHOAL_DATABASE', `${pointerPath(dataDir, name)} does not name a read model of ${name}: ${text.slice(0, 200)}`);
  }
  return { file: parsed.file, version: parsed.version!, generation: parsed.generation! };
}

/** Makes `current` the live model, atomically and durably. */
export function writeCurrentModel(dataDir: string, name: string, current: CurrentModel): void {
  const target = pointerPath(dataDir, name);
  const temporary = `${target}.tmp`;
  try {
    const fd = openSync(temporary, 'w');
    try {
      writeFileSync(fd, `${JSON.stringify(current)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, target);
    const dir = openSync(dataDir, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch (cause) {
    throw new ShoalError('SHOAL_DATABASE', `Cannot replace ${target}: ${(cause as Error).message}`, { cause });
  }
}

/** Paths of the projection's model files (with companions) other than `keep`, and of a leftover temporary pointer. */
export function strayModelFiles(dataDir: string, name: string, keep: string | undefined): string[] {
  const pattern = modelFilePattern(name, true);
  return readdirSync(dataDir)
    .filter((file) => (pattern.test(file) && file.replace(/-(wal|shm)$/, '') !== keep) || file === `${name}.current.json.tmp`)
    .map((file) => join(dataDir, file));
}

function modelFilePattern(name: string, companions = false): RegExp {
  // Projection names are letters, digits, - and _ (projection.ts): nothing to escape.
  return new RegExp(`^${name}\\.v\\d+\\.g\\d+\\.db${companions ? '(-wal|-shm)?' : ''}$`);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
