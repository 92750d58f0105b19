/**
 * `shoal sidecar --config <file>`: the sidecar of one micrologic in the foreground, as a service process (the
 * service host's `runService`: SIGINT/SIGTERM stop it gracefully, its outbox drained; a part that dies ends it
 * non-zero so its supervisor restarts it). A configuration file with mistakes is refused before anything
 * starts (SHOAL_CONFIG_INVALID, exit 2); so is a bad variable.
 */
import { parseArgs } from 'node:util';
import { ShoalError } from '@shoal/core';
import { loadSchemaCatalog } from '@shoal/contract';
import { runService } from '@shoal/service';
import { APP_VARIABLE, readSidecarDeclaration, sidecarConfigSpec } from './sidecar-config.js';
import { buildSidecar } from './sidecar.js';

export const sidecarUsage = `Usage: shoal sidecar --config <file>

Runs the sidecar of a service written in any language (its "micrologic"): delivers the events it
subscribes to over HTTP as CloudEvents, publishes what it answers and what it POSTs to /v1/events through
an outbox, and keeps its state, all in one SQLite database with an inbox for exactly-once effects.

Options:
  --config <file>   the sidecar's configuration, YAML or JSON (docs/writing-a-service-in-another-language.md)
  -h, --help        show this help

Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, SHOAL_DATA_DIR, HOST, LOG_LEVEL as for every service;
PORT overrides the file's port, ${APP_VARIABLE} its app.
`;

/** Starts the sidecar; never resolves (the process ends on a signal, with runService's exit code). */
export async function runSidecar(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(sidecarUsage);
    return 0;
  }
  if (values.config === undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', '--config <file> is required');
  const catalog = loadSchemaCatalog();
  const declaration = readSidecarDeclaration(values.config, catalog);
  await runService(sidecarConfigSpec(declaration), (host) => {
    buildSidecar(host, { ...declaration, app: host.config.app.replace(/\/+$/, ''), port: host.config.port });
  }, { host: { catalog, portSetting: 'PORT (or the config file\'s port)' } });
  return new Promise<number>(() => undefined);
}
