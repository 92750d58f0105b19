// #region main
import { runService } from '@shoal/service';
import { buildOrderTally } from './app.js';
import { configSpec } from './config.js';

await runService(configSpec, buildOrderTally);
// #endregion main
