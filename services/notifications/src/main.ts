/** The notifications service's process: `node --import tsx services/notifications/src/main.ts`. */
import { runService } from '@shoal/service';
import { buildNotifications } from './app.js';
import { configSpec } from './config.js';

await runService(configSpec, (host) => buildNotifications(host));
