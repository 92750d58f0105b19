/** order-view's process: `node --import tsx services/order-view/src/main.ts`. */
import { runService } from '@shoal/service';
import { buildOrderView } from './app.js';
import { configSpec } from './config.js';

await runService(configSpec, (host) => buildOrderView(host));
