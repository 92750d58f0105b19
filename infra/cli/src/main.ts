import { isShoalError } from '@shoal/core';
import { brokerUsage, runBroker } from './commands/broker.js';
import { runBench } from './commands/bench.js';
import { devUsage, runDev } from './commands/dev.js';
import { dlqUsage, runDlq } from './commands/dlq.js';
import { publishUsage, runPublish } from './commands/publish.js';
import { registryUsage, runRegistry } from './commands/registry.js';
import { replayUsage, runReplay } from './commands/replay.js';
import { runSchemas, schemasUsage } from './commands/schemas.js';
import { runSetup, setupUsage } from './commands/setup.js';
import { runSubscribe, subscribeUsage } from './commands/subscribe.js';
import { runTopics, topicsUsage } from './commands/topics.js';

const usage = `Usage: shoal <command> [options]

Commands:
  dev        the whole platform on this machine (what 'npm start' runs)
  broker     run the embedded Kafka-protocol broker
  registry   run the Confluent-compatible schema registry
  setup      wait for a broker and a registry, register the schemas, create the topics (idempotent)
  schemas    register, check (CI gate) and list the Avro schemas of schemas/
  topics     list, create and describe topics
  publish    publish CloudEvents with Avro data from JSON
  subscribe  print the decoded CloudEvents of topics
  replay     rebuild a projection of a running service from the log, without read downtime
  dlq        list, redrive and skip the dead letters of a running service and the records parked behind them
  bench      run a benchmark: shoal bench [broker|registry|codec|relay|consumer|projections|runtime]

Run 'shoal <command> --help' for a command's options.
`;

interface Command {
  run(argv: string[]): Promise<number>;
  usage: string;
}

const commands: Record<string, Command> = {
  dev: { run: runDev, usage: devUsage },
  broker: { run: runBroker, usage: brokerUsage },
  registry: { run: runRegistry, usage: registryUsage },
  setup: { run: runSetup, usage: setupUsage },
  schemas: { run: runSchemas, usage: schemasUsage },
  topics: { run: runTopics, usage: topicsUsage },
  publish: { run: runPublish, usage: publishUsage },
  subscribe: { run: runSubscribe, usage: subscribeUsage },
  replay: { run: runReplay, usage: replayUsage },
  dlq: { run: runDlq, usage: dlqUsage },
  bench: { run: runBench, usage: '' },
};

function isArgumentError(error: unknown): boolean {
  return error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage);
    return name === undefined ? 1 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`shoal: unknown command '${name}'\n\n${usage}`);
    return 1;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    // A user's mistake gets the one-line reason and the command's usage; exit 2 like other CLIs.
    if (isShoalError(error, 'SHOAL_CONFIG_INVALID') || isArgumentError(error)) {
      process.stderr.write(`shoal ${name}: ${(error as Error).message}\n\n${command.usage}`);
      return 2;
    }
    // Anything else Shoal knows about (server unreachable, incompatible schema, invalid data) is one line.
    if (isShoalError(error)) {
      const hint = error.code === 'SHOAL_REGISTRY_UNAVAILABLE' ? "; start one with 'npx shoal registry' or set --registry / SCHEMA_REGISTRY_URL" : '';
      process.stderr.write(`shoal ${name}: ${error.message}${hint}\n`);
      return 1;
    }
    throw error;
  }
}
