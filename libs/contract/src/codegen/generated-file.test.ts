import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { loadSchemaCatalog } from '../catalog/index.js';
import { fixtureSchemaFiles, writeSchemaFolder } from '../catalog/schema-fixtures.js';
import { DEFAULT_GENERATED_FILE, runCodegen } from './generated-file.js';
import { GENERATED_HEADER, generateTypeScript } from './typescript-codegen.js';

function fixtureFolder(): string {
  const dir = tempDir('schemas');
  writeSchemaFolder(dir, fixtureSchemaFiles());
  return dir;
}

describe('runCodegen', () => {
  it('writes the file, then leaves it untouched while the schemas do not change', () => {
    const schemasDir = fixtureFolder();
    const outFile = join(tempDir('generated'), 'nested', 'events.ts');
    expect(runCodegen({ schemasDir, outFile })).toBe('written');
    const source = readFileSync(outFile, 'utf8');
    expect(source).toBe(generateTypeScript(loadSchemaCatalog(schemasDir)));
    expect(source.startsWith(`${GENERATED_HEADER}\n`)).toBe(true);

    // An old modification time survives a run that changes nothing: the file was not written again.
    const past = new Date('2020-01-01T00:00:00Z');
    utimesSync(outFile, past, past);
    expect(runCodegen({ schemasDir, outFile })).toBe('unchanged');
    expect(statSync(outFile).mtime).toEqual(past);

    writeFileSync(outFile, `${source}// edited\n`);
    expect(runCodegen({ schemasDir, outFile })).toBe('written');
    expect(readFileSync(outFile, 'utf8')).toBe(source);
  });

  it('in check mode reports a missing or different file without writing it', () => {
    const schemasDir = fixtureFolder();
    const outFile = join(tempDir('generated'), 'events.ts');
    expect(runCodegen({ schemasDir, outFile, check: true })).toBe('stale');
    expect(existsSync(outFile)).toBe(false);
    writeFileSync(outFile, 'export {};\n');
    expect(runCodegen({ schemasDir, outFile, check: true })).toBe('stale');
    expect(readFileSync(outFile, 'utf8')).toBe('export {};\n');
    runCodegen({ schemasDir, outFile });
    expect(runCodegen({ schemasDir, outFile, check: true })).toBe('unchanged');
  });

  it('keeps libs/contract/src/generated/events.ts up to date with schemas/ (npm run codegen)', () => {
    expect(DEFAULT_GENERATED_FILE).toMatch(/libs\/contract\/src\/generated\/events\.ts$/);
    expect(runCodegen({ check: true })).toBe('unchanged');
  });
});

describe('codegen main', () => {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const run = async (args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8' });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  it('writes, checks, and exits 1 on a stale file or invalid schemas', async () => {
    const schemasDir = fixtureFolder();
    const outFile = join(tempDir('generated'), 'events.ts');
    const args = ['--schemas', schemasDir, '--out', outFile];

    expect(await run([...args, '--check'])).toMatchObject({ code: 1, stderr: expect.stringContaining('is out of date with the schemas; run npm run codegen') });
    expect(await run(args)).toMatchObject({ code: 0, stdout: expect.stringMatching(/events\.ts written\n$/) });
    expect(await run([...args, '--check'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/events\.ts is up to date\n$/) });

    writeFileSync(join(schemasDir, 'shop', 'CartPaid.avsc'), '{');
    expect(await run(args)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^codegen: shop\/CartPaid.avsc: not valid JSON/) });
  });
});
