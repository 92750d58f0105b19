/**
 * The sidecar of one configuration file as a service process (`shoal sidecar --config <file>`, whose flags
 * and help are the CLI's): the service host's `runService`, so SIGINT/SIGTERM stop it gracefully with its
 * outbox drained, and a part that dies ends it non-zero for its supervisor to restart it. A file with
 * mistakes is refused before anything starts (SHOAL_CONFIG_INVALID, which the CLI reports with exit 2); a
 * bad variable ends the process with exit 2, as for every service.
 */
import { loadSchemaCatalog } from '@shoal/contract';
import { runService } from '@shoal/service';
import { readSidecarDeclaration, sidecarConfigSpec } from './sidecar-config.js';
import { buildSidecar } from './sidecar.js';

/** Starts the sidecar of `configFile`; never resolves (the process ends on a signal, with runService's exit code). */
export async function runSidecar(configFile: string): Promise<number> {
  const catalog = loadSchemaCatalog();
  const declaration = readSidecarDeclaration(configFile, catalog);
  await runService(
    sidecarConfigSpec(declaration),
    async (host) => {
      await buildSidecar(host, { ...declaration, app: host.config.app.replace(/\/+$/, ''), port: host.config.port });
    },
    { host: { catalog, portSetting: "PORT (or the config file's port)" } },
  );
  return new Promise<number>(() => undefined);
}
