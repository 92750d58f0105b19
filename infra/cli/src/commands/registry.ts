import { parseArgs } from 'node:util';
import { ShoalError } from '@shoal/core';
import { COMPATIBILITY_LEVELS, registryDefaults, startRegistry, type CompatibilityLevel } from '@shoal/schema-registry';
import { createCliLogger } from '../logger.js';
import { integerOption, serveUntilSignal } from '../options.js';

export const registryUsage = `Usage: shoal registry [options]

Runs Shoal's Confluent-compatible Avro schema registry in the foreground (Ctrl-C stops it).

Options:
  --port <n>                      HTTP port (default ${registryDefaults.port}; 0 = any free port)
  --host <addr>                   interface to listen on (default ${registryDefaults.host})
  --data-dir <dir>                where schemas, subjects and settings are stored (default .shoal/registry)
  --default-compatibility <level> level of subjects without their own until PUT /config changes it
                                  (default ${registryDefaults.defaultCompatibility}, like Confluent; one of
                                  ${COMPATIBILITY_LEVELS.join(', ')})
  --log-level <level>             trace, debug, info, warn, error (default info)
  -h, --help                      show this help
`;

function compatibilityOption(value: string | undefined): CompatibilityLevel | undefined {
  if (value === undefined) return undefined;
  const level = COMPATIBILITY_LEVELS.find((l) => l === value.toUpperCase());
  if (!level) throw new ShoalError('SHOAL_CONFIG_INVALID', `--default-compatibility expects one of ${COMPATIBILITY_LEVELS.join(', ')}, got '${value}'`);
  return level;
}

export async function runRegistry(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'default-compatibility': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(registryUsage);
    return 0;
  }
  const port = integerOption(values.port, '--port', { min: 0, max: 65535 });
  const defaultCompatibility = compatibilityOption(values['default-compatibility']);
  const logger = createCliLogger(values['log-level'] ?? 'info');
  return serveUntilSignal('schema registry', logger, () =>
    startRegistry({
      dataDir: values['data-dir'] ?? '.shoal/registry',
      ...(port === undefined ? {} : { port }),
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(defaultCompatibility === undefined ? {} : { defaultCompatibility }),
      logger,
    }),
  );
}
