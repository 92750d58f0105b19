import type { Logger } from 'pino';
import { ShoalError } from '@shoal/core';

/** Parses an optional integer flag, with a clear error naming the flag. */
export function integerOption(value: string | undefined, flag: string, bounds: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(parsed)) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `${flag} expects an integer, got '${value}'`);
  }
  if ((bounds.min !== undefined && parsed < bounds.min) || (bounds.max !== undefined && parsed > bounds.max)) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `${flag} must be between ${bounds.min ?? '-inf'} and ${bounds.max ?? 'inf'}, got ${parsed}`);
  }
  return parsed;
}

/** Resolves with the name of the first SIGINT or SIGTERM. */
function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * Runs a server in the foreground until SIGINT or SIGTERM, then closes it. The signal handlers are in
 * place before the server starts: a signal sent as soon as the server logs that it listens must not kill
 * the process before `close()` runs.
 */
export async function serveUntilSignal(what: string, logger: Logger, start: () => Promise<{ close(): Promise<void> }>): Promise<number> {
  const signal = waitForShutdownSignal();
  let server;
  try {
    server = await start();
  } catch (error) {
    if (error instanceof ShoalError) {
      logger.error(error.message);
      return 1;
    }
    throw error;
  }
  logger.info(`${await signal} received, stopping the ${what}`);
  await server.close();
  return 0;
}
