import { isShoalError } from '@shoal/core';
import { brokerUsage, runBroker } from './commands/broker.js';
import { runBench } from './commands/bench.js';

const usage = `Usage: shoal <command> [options]

Commands:
  broker     run the embedded Kafka-protocol broker (shoal broker --help)
  bench      run a benchmark: shoal bench broker

Run 'shoal <command> --help' for a command's options.
`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  broker: runBroker,
  bench: runBench,
};

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
    return await command(rest);
  } catch (error) {
    if (isShoalError(error, 'SHOAL_CONFIG_INVALID') || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`shoal ${name}: ${(error as Error).message}\n\n${name === 'broker' ? brokerUsage : ''}`);
      return 2;
    }
    throw error;
  }
}
