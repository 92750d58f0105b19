import { parseArgs } from 'node:util';
import { brokerDefaults, startBroker, type BrokerOptions } from '@shoal/broker';
import { createCliLogger } from '../logger.js';
import { integerOption, serveUntilSignal } from '../options.js';

export const brokerUsage = `Usage: shoal broker [options]

Runs Shoal's embedded single-node Kafka-protocol broker in the foreground (Ctrl-C stops it).

Options:
  --port <n>                    TCP port (default ${brokerDefaults.port}; 0 = any free port)
  --host <addr>                 interface to listen on (default ${brokerDefaults.host})
  --advertised-host <name>      host name handed to clients in metadata (default: --host)
  --data-dir <dir>              where topics, offsets and groups are stored (default .shoal/broker)
  --auto-create-topics          create unknown topics on first metadata request (default on)
  --no-auto-create-topics       turn that off
  --default-partitions <n>      partitions of auto-created topics (default ${brokerDefaults.defaultPartitions})
  --retention-ms <ms>           default retention.ms of topics, -1 = forever (default ${brokerDefaults.retentionMs})
  --retention-bytes <n>         default retention.bytes per partition, -1 = unlimited (default ${brokerDefaults.retentionBytes})
  --max-request-bytes <n>       largest request accepted (default ${brokerDefaults.maxRequestBytes})
  --max-message-bytes <n>       default max.message.bytes, largest record batch (default ${brokerDefaults.maxMessageBytes})
  --group-initial-rebalance-delay-ms <ms>  (default ${brokerDefaults.groupInitialRebalanceDelayMs})
  --fsync                       fsync every commit (survives power loss, slower)
  --metrics-port <n>            serve GET /metrics (requests by API and client id) on this port (default: off)
  --log-level <level>           trace, debug, info, warn, error (default info)
  -h, --help                    show this help
`;

export async function runBroker(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'advertised-host': { type: 'string' },
      'data-dir': { type: 'string' },
      'auto-create-topics': { type: 'boolean' },
      'no-auto-create-topics': { type: 'boolean' },
      'default-partitions': { type: 'string' },
      'retention-ms': { type: 'string' },
      'retention-bytes': { type: 'string' },
      'max-request-bytes': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'group-initial-rebalance-delay-ms': { type: 'string' },
      fsync: { type: 'boolean' },
      'metrics-port': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(brokerUsage);
    return 0;
  }
  const logger = createCliLogger(values['log-level'] ?? 'info');
  const options: BrokerOptions = {
    dataDir: values['data-dir'] ?? '.shoal/broker',
    port: integerOption(values.port, '--port', { min: 0, max: 65535 }),
    host: values.host,
    advertisedHost: values['advertised-host'],
    autoCreateTopics: values['no-auto-create-topics'] ? false : (values['auto-create-topics'] ?? undefined),
    defaultPartitions: integerOption(values['default-partitions'], '--default-partitions', { min: 1 }),
    retentionMs: integerOption(values['retention-ms'], '--retention-ms', { min: -1 }),
    retentionBytes: integerOption(values['retention-bytes'], '--retention-bytes', { min: -1 }),
    maxRequestBytes: integerOption(values['max-request-bytes'], '--max-request-bytes', { min: 1024 }),
    maxMessageBytes: integerOption(values['max-message-bytes'], '--max-message-bytes', { min: 1 }),
    groupInitialRebalanceDelayMs: integerOption(values['group-initial-rebalance-delay-ms'], '--group-initial-rebalance-delay-ms', { min: 0 }),
    fsync: values.fsync,
    metricsPort: integerOption(values['metrics-port'], '--metrics-port', { min: 0, max: 65535 }),
    logger,
  };
  return serveUntilSignal('broker', logger, () => startBroker(options));
}
