/**
 * The orders service's process: `node --import tsx services/orders/src/main.ts`. Everything it is made of is
 * composed in app.ts; runService reads the environment, starts it and stops it on SIGINT/SIGTERM.
 */
import { runService } from '@shoal/service';
import { buildOrders } from './app.js';
import { configSpec } from './config.js';

await runService(configSpec, buildOrders);
