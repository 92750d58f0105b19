/**
 * `npm run codegen` (node --import tsx libs/contract/src/codegen/main.ts [--check] [--schemas DIR] [--out FILE]):
 * writes the TypeScript types of schemas/ to libs/contract/src/generated/events.ts. With --check it writes
 * nothing and exits 1 when the file is missing or out of date.
 */
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { isShoalError } from '@shoal/core';
import { DEFAULT_GENERATED_FILE, runCodegen } from './generated-file.js';

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      check: { type: 'boolean', default: false },
      schemas: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const outFile = values.out ?? DEFAULT_GENERATED_FILE;
  const shown = relative(process.cwd(), outFile) || outFile;
  try {
    const result = runCodegen({ schemasDir: values.schemas, outFile, check: values.check });
    if (result === 'stale') {
      process.stderr.write(`codegen: ${shown} is out of date with the schemas; run npm run codegen\n`);
      return 1;
    }
    process.stdout.write(`codegen: ${shown} ${result === 'written' ? 'written' : 'is up to date'}\n`);
    return 0;
  } catch (error) {
    if (!isShoalError(error)) throw error;
    process.stderr.write(`codegen: ${error.message}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
