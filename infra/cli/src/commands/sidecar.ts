import { parseArgs } from 'node:util';
import { ShoalError } from '@shoal/core';

export const sidecarUsage = `Usage: shoal sidecar --config <file>

Runs the sidecar of a service written in any language (its "micrologic"): delivers the events it
subscribes to over HTTP as CloudEvents, publishes what it answers and what it POSTs to /v1/events through
an outbox, and keeps its state, all in one SQLite database with an inbox for exactly-once effects.

Options:
  --config <file>   the sidecar's configuration, YAML or JSON (docs/writing-a-service-in-another-language.md)
  -h, --help        show this help

Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, SHOAL_DATA_DIR, HOST, LOG_LEVEL as for every service;
PORT overrides the file's port, SHOAL_SIDECAR_APP its app.
`;

export async function runSidecarCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(sidecarUsage);
    return 0;
  }
  if (values.config === undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', '--config <file> is required');
  // Loaded only for this command: the sidecar brings the service host (fastify, the consumer runtime), which
  // no other command needs at start.
  const { runSidecar } = await import('@shoal/sidecar');
  return runSidecar(values.config);
}
