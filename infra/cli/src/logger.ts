import pino, { type Logger } from 'pino';

/** The process's one root logger: pretty on a terminal, JSON lines otherwise (for log shippers). */
export function createCliLogger(level: string): Logger {
  if (process.stdout.isTTY) {
    return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino({ level });
}
