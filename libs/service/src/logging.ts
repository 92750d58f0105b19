/**
 * One pino root logger per service process, JSON lines on stdout with the service's name
 * on every line: `shoal dev` prefixes and colours them, a container runtime ships them as they are.
 *
 * kafkajs logs through its own `logCreator`; `kafkaLogCreator` sends those entries into the same root, as a
 * child `{ module: 'kafkajs', namespace }`, so a broker disconnect appears in the service's log stream and not
 * on stderr in another format. kafkajs is chatty at INFO (every join, every commit), so below pino's `debug`
 * it only passes warnings and errors.
 */
import pino, { type Logger } from 'pino';
import { logLevel as kafkaLevel, type logCreator } from 'kafkajs';
import type { LogLevel } from './config.js';

export function createServiceLogger(service: string, level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** The kafkajs log level that matches a pino level: kafkajs INFO lines only when the service logs at debug. */
export function kafkaLogLevel(level: string): kafkaLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return kafkaLevel.DEBUG;
    case 'info':
    case 'warn':
      return kafkaLevel.WARN;
    case 'error':
    case 'fatal':
      return kafkaLevel.ERROR;
    default:
      return kafkaLevel.NOTHING;
  }
}

/**
 * Warnings kafkajs prints on every start for a choice Shoal made on purpose: the dead-letter producer is
 * idempotent with a bounded number of retries, so that a broker outage surfaces as a failed send the
 * subscription retries with its own backoff (docs/reference/consumer.md). Logged at debug, not warn.
 */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer may invalidate EoS guarantees'];

export function kafkaLogCreator(root: Logger): logCreator {
  const logger = root.child({ module: 'kafkajs' });
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...details } = log;
      const fields = { namespace, ...details };
      if (level === kafkaLevel.WARN && EXPECTED_WARNINGS.includes(message)) {
        logger.debug(fields, message);
        return;
      }
      switch (level) {
        case kafkaLevel.ERROR:
          logger.error(fields, message);
          break;
        case kafkaLevel.WARN:
          logger.warn(fields, message);
          break;
        case kafkaLevel.INFO:
          logger.info(fields, message);
          break;
        default:
          logger.debug(fields, message);
      }
    };
}
