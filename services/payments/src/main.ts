/** Composition root of the payments service: `node --import tsx services/payments/src/main.ts`. */
import { runService } from '@shoal/service';
import { buildPayments } from './app.js';
import { configSpec } from './config.js';

await runService(configSpec, buildPayments);
