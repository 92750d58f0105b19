/** Composition root of the inventory service: `node --import tsx services/inventory/src/main.ts`. */
import { runService } from '@shoal/service';
import { buildInventory } from './app.js';
import { configSpec } from './config.js';

await runService(configSpec, buildInventory);
