/**
 * A logger that keeps what it is told, for tests that check what a library logs. It has the shape of every
 * Shoal library's logger (`debug/info/warn/error(details, message)` and `child`), so it is passed wherever
 * one is taken; a child records into the same entries.
 */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  details: Record<string, unknown>;
  message: string;
}

type Log = (details: object, message: string) => void;

export interface RecordingLogger {
  readonly entries: LogEntry[];
  /** The messages so far, in order. */
  messages(): string[];
  debug: Log;
  info: Log;
  warn: Log;
  error: Log;
  child(bindings: Record<string, unknown>): RecordingLogger;
}

export function recordingLogger(entries: LogEntry[] = []): RecordingLogger {
  const at = (level: LogEntry['level']): Log => (details, message) => void entries.push({ level, details: details as Record<string, unknown>, message });
  const logger: RecordingLogger = {
    entries,
    messages: () => entries.map((entry) => entry.message),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}
