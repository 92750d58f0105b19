/**
 * How `shoal dev` shows the logs of everything it runs, in one stream that a person reads:
 *
 *   14:03:07.512 inventory     INFO  listening url=http://127.0.0.1:3002
 *   14:03:09.001 orders        ERROR request failed url=/orders method=POST err="database is locked"
 *       SqliteError: database is locked
 *           at ...
 *
 * Every service writes pino JSON lines (one object per line, `level` as a label or pino's number, `time` as
 * ISO text or epoch ms); the supervisor's own logger and the in-process broker and registry write the same
 * JSON into `LogPrinter.destination`, so all of it looks alike. The prefix says who wrote the line: a child's
 * name (its `service` field is redundant then), or the `service` binding of an in-process logger. `pid`,
 * `hostname` and `time` are the prefix's business too, and are dropped from the `key=value` tail. An `err`
 * shows its message; its stack follows, indented, at error level and above, where someone will want it.
 *
 * A line that is not a JSON object (a stack trace printed by Node before the logger existed, stderr) is
 * printed as it came, after the same prefix. Lines are split by `readline`, which keeps a partial chunk until
 * its end of line arrives and hands over an unterminated last line when the stream ends: nothing is lost.
 *
 * Colours only on a terminal (and never with NO_COLOR): each name keeps one colour, levels are coloured by
 * severity. A pipe or a file gets the same text without escape codes.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { styleText } from 'node:util';

type Format = Parameters<typeof styleText>[0];

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const LEVEL_VALUES: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const LEVEL_FORMATS: Readonly<Record<string, Format>> = { trace: 'gray', debug: 'blue', info: 'green', warn: 'yellow', error: 'red', fatal: 'red' };
/** Fields the prefix already shows, or that say nothing to a person reading one machine's logs. */
const PREFIX_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'err']);
const NAME_FORMATS: readonly Format[] = ['cyan', 'magenta', 'yellow', 'blue', 'green', 'redBright', 'cyanBright', 'magentaBright', 'yellowBright', 'blueBright'];
/** The platform's own parts: muted, so that the services stand out. */
const PLATFORM_NAMES = new Set(['shoal', 'broker', 'registry']);

export interface LogPrinterOptions {
  /** Every name a line may carry, in the order their colours are given; the prefix is as wide as the longest. */
  names: readonly string[];
  out?: NodeJS.WritableStream;
  /** Default: when `out` is a terminal and NO_COLOR is unset. */
  color?: boolean;
}

/** Whether text written to `stream` should carry colours. */
export function wantsColor(stream: NodeJS.WritableStream): boolean {
  return (stream as NodeJS.WriteStream).isTTY === true && process.env.NO_COLOR === undefined;
}

export class LogPrinter {
  private readonly out: NodeJS.WritableStream;
  private readonly color: boolean;
  private readonly width: number;
  private readonly formats = new Map<string, Format>();

  constructor(options: LogPrinterOptions) {
    this.out = options.out ?? process.stdout;
    this.color = options.color ?? wantsColor(this.out);
    this.width = Math.max(0, ...options.names.map((name) => name.length));
    let next = 0;
    for (const name of options.names) {
      this.formats.set(name, PLATFORM_NAMES.has(name) ? 'gray' : (NAME_FORMATS[next++ % NAME_FORMATS.length] ?? 'white'));
    }
  }

  /** Prints one line that `name` wrote: rendered when it is a pino JSON object, else as it is. */
  line(name: string, text: string): void {
    const record = parseRecord(text);
    this.out.write(`${record === undefined ? this.raw(name, text) : this.render(name, record)}\n`);
  }

  /** Prints every line of `stream` as `name`'s; resolves when the stream has ended and its last line is out. */
  follow(name: string, stream: Readable): Promise<void> {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (text) => this.line(name, text));
    return new Promise((resolve) => lines.once('close', resolve));
  }

  /**
   * A pino destination for an in-process logger: each JSON line it writes is printed under its `service`
   * binding, else under `name`.
   */
  destination(name: string): { write(chunk: string): void } {
    return {
      write: (chunk: string) => {
        for (const text of chunk.split('\n')) {
          if (text.length === 0) continue;
          const record = parseRecord(text);
          const owner = typeof record?.service === 'string' ? record.service : name;
          this.line(owner, text);
        }
      },
    };
  }

  /** A record as one line (plus the indented stack of an error at error level and above). */
  render(name: string, record: Record<string, unknown>): string {
    const level = levelOf(record.level);
    const message = typeof record.msg === 'string' ? record.msg : '';
    const fields = Object.entries(record)
      .filter(([key, value]) => !PREFIX_FIELDS.has(key) && value !== undefined)
      .map(([key, value]) => `${this.paint('dim', `${key}=`)}${formatValue(value)}`);
    const err = errorOf(record.err);
    if (err !== undefined) fields.unshift(`${this.paint('dim', 'err=')}${formatValue(err.message)}`);
    const head = [
      this.paint('dim', clock(record.time)),
      this.paint(this.formats.get(name) ?? 'white', name.padEnd(this.width)),
      this.paint(LEVEL_FORMATS[level] ?? 'white', level.toUpperCase().padEnd(5), level === 'fatal'),
      message,
      ...fields,
    ]
      .filter((part) => part.length > 0)
      .join(' ');
    const severe = (LEVEL_VALUES[level] ?? 0) >= LEVEL_VALUES.error!;
    if (!severe || err?.stack === undefined) return head;
    return [head, ...err.stack.split('\n').map((line) => `    ${line}`)].join('\n');
  }

  private raw(name: string, text: string): string {
    return `${this.paint('dim', clock(Date.now()))} ${this.paint(this.formats.get(name) ?? 'white', name.padEnd(this.width))} ${text}`;
  }

  private paint(format: Format, text: string, bold = false): string {
    if (!this.color) return text;
    // The decision is this printer's (its own stream), not styleText's default check of process.stdout.
    const painted = styleText(format, text, { validateStream: false });
    return bold ? styleText('bold', painted, { validateStream: false }) : painted;
  }
}

function parseRecord(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** pino writes the level as a label (with a `formatters.level`) or as its number. */
function levelOf(level: unknown): string {
  if (typeof level === 'number') return LEVEL_NAMES[level] ?? `L${level}`;
  return typeof level === 'string' ? level.toLowerCase() : 'info';
}

/** `HH:MM:ss.mmm` in local time, from ISO text or epoch ms; the time of printing when the record has none. */
function clock(time: unknown): string {
  const date = typeof time === 'number' || typeof time === 'string' ? new Date(time) : new Date();
  const at = Number.isNaN(date.getTime()) ? new Date() : date;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

/** pino's error serializer gives `{type, message, stack}`; anything else logged as `err` is shown as text. */
function errorOf(err: unknown): { message: string; stack?: string } | undefined {
  if (err === undefined || err === null) return undefined;
  if (typeof err !== 'object') return { message: String(err) };
  const { message, stack } = err as { message?: unknown; stack?: unknown };
  return {
    message: typeof message === 'string' ? message : JSON.stringify(err),
    ...(typeof stack === 'string' ? { stack } : {}),
  };
}

/** Bare when it reads unambiguously, JSON otherwise (so spaces, quotes and `=` stay readable). */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}
