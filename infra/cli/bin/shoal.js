#!/usr/bin/env node
// The `shoal` command runs Shoal's TypeScript sources directly through tsx, so `npx shoal …` works
// right after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
