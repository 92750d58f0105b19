/**
 * The console's configuration: the variables every Shoal process on the service host reads (KAFKA_BROKERS,
 * SCHEMA_REGISTRY_URL, PORT, HOST, LOG_LEVEL; SHOAL_DATA_DIR is read and unused, the console keeps no files)
 * and its own two. The only module of the console that names its environment.
 */
import { defineServiceConfig, integerSetting, stringSetting } from '@shoal/service';
import { eventIndexDefaults } from './event-index.js';
import { parseServiceList } from './service-directory.js';

export const CONSOLE_DEFAULT_PORT = 3000;

export const configSpec = defineServiceConfig({
  service: 'console',
  defaultPort: CONSOLE_DEFAULT_PORT,
  settings: {
    services: stringSetting('SHOAL_CONSOLE_SERVICES', {
      default: '',
      doc: 'the services whose admin routes the console asks, name=url comma-separated (none: traffic only)',
      check: (value) => {
        try {
          parseServiceList(value);
          return undefined;
        } catch (error) {
          return (error as Error).message;
        }
      },
    }),
    maxEvents: integerSetting('SHOAL_CONSOLE_MAX_EVENTS', { default: eventIndexDefaults.maxEvents, min: 1, max: 50_000_000, doc: 'events kept in memory, the oldest evicted first' }),
  },
});

export type ConsoleConfig = ReturnType<typeof configSpec.load>;
