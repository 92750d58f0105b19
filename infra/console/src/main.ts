/** The console's process: `node --import tsx infra/console/src/main.ts` (what `shoal dev` and `shoal console` run). */
import { runService } from '@shoal/service';
import { buildConsole } from './app.js';
import { configSpec } from './config.js';

await runService(configSpec, (host) => void buildConsole(host));
