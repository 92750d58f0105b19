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
export function waitForShutdownSignal(): Promise<NodeJS.Signals> {
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
