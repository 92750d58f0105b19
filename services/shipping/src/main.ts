/** The shipping service's process: `node --import tsx services/shipping/src/main.ts`. */
import { runService } from '@shoal/service';
import { buildShipping } from './app.js';
import { configSpec } from './config.js';

await runService(configSpec, (host) => buildShipping(host));
