/**
 * What the services of `shoal dev` need before they start: a Kafka cluster and a schema registry, the
 * schemas registered and the topics created.
 *
 * By default both servers are Shoal's own, run in this process with their data under the data dir. Either
 * may instead be one the user already runs (`--brokers`, `--registry`: an Apache Kafka and a Confluent
 * registry in containers, say); then it is only waited for and set up, and never stopped. Setting up is
 * `setupPlatform`, the code of `shoal setup`, so the topics and subjects are the same whichever way the
 * platform is started.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startBroker, type RunningBroker } from '@shoal/broker';
import { ShoalError, isCompatibilityLevel } from '@shoal/core';
import type { SchemaCatalog } from '@shoal/contract';
import { startRegistry, type RunningRegistry } from '@shoal/schema-registry';
import { setupPlatform, type SetupResult } from '../commands/setup.js';

export interface PlatformOptions {
  dataDir: string;
  /** The embedded broker's port (and that of its `GET /metrics`, if wanted), or the bootstrap servers of a Kafka to use instead. */
  broker: { port: number; metricsPort?: number } | { external: readonly string[] };
  /** The embedded registry's port, or the URL of a registry to use instead. */
  registry: { port: number } | { external: string };
  catalog: SchemaCatalog;
  logger: Logger;
}

export interface Platform {
  /** Bootstrap servers, `host:port`, for the services' KAFKA_BROKERS. */
  brokers: readonly string[];
  registryUrl: string;
  /** The embedded broker's `GET /metrics`, when it serves one. */
  brokerMetricsUrl: string | undefined;
  setup: SetupResult;
  /** Stops what this process started (the registry, then the broker); a platform of the user's is left alone. */
  close(): Promise<void>;
}

/** Broker, registry, schemas, topics; whatever started is stopped again if a later step fails. */
export async function startPlatform({ dataDir, broker: brokerOption, registry: registryOption, catalog, logger }: PlatformOptions): Promise<Platform> {
  let broker: RunningBroker | undefined;
  let registry: RunningRegistry | undefined;
  const close = async () => {
    await registry?.close();
    await broker?.close();
  };
  try {
    if ('port' in brokerOption) {
      broker = await startBroker({ dataDir: join(dataDir, 'broker'), port: brokerOption.port, metricsPort: brokerOption.metricsPort, logger: logger.child({ service: 'broker' }) }).catch(
        (error: unknown) => {
          throw renamePortFlag(renamePortFlag(error, '--port', '--broker-port'), '--metrics-port', '--broker-metrics-port');
        },
      );
    }
    if ('port' in registryOption) {
      const compatibility = isCompatibilityLevel(catalog.compatibility) ? catalog.compatibility : undefined;
      registry = await startRegistry({
        dataDir: join(dataDir, 'registry'),
        port: registryOption.port,
        ...(compatibility === undefined ? {} : { defaultCompatibility: compatibility }),
        logger: logger.child({ service: 'registry' }),
      }).catch((error: unknown) => {
        throw renamePortFlag(error, '--port', '--registry-port');
      });
    }
    const brokers = broker === undefined ? [...('external' in brokerOption ? brokerOption.external : [])] : [broker.bootstrap];
    const registryUrl = registry?.url ?? ('external' in registryOption ? registryOption.external : '');
    const setup = await setupPlatform({ brokers, registryUrl, catalog, logger });
    return { brokers, registryUrl, brokerMetricsUrl: broker?.metricsUrl, setup, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The servers name their own flag; under `shoal dev` the user sets another one. */
function renamePortFlag(error: unknown, from: string, to: string): unknown {
  if (error instanceof ShoalError && error.code === 'SHOAL_PORT_IN_USE') {
    return new ShoalError(error.code, error.message.replace(from, to), { cause: error });
  }
  return error;
}
