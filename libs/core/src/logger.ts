/**
 * The part of a pino logger that libraries use. Libraries take a logger as an option and never create one:
 * the process has one pino root, and a pino logger satisfies this interface.
 */
export interface ShoalLogger {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
  child(bindings: Record<string, unknown>): ShoalLogger;
}

/** A logger that drops everything: the default of libraries, so a test or tool that passes none stays quiet. */
export const silentLogger: ShoalLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
