import { PassThrough, Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LogPrinter } from './log-lines.js';

/** A printer writing into a string; `names` sets the prefix width. */
function printerInto(options: { color?: boolean; names?: string[] } = {}): { printer: LogPrinter; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const printer = new LogPrinter({ names: options.names ?? ['shoal', 'orders', 'order-view'], out, color: options.color ?? false });
  return { printer, text: () => text };
}

/** `HH:MM:ss.mmm` of an instant, in the local time zone as the printer shows it. */
function clockOf(iso: string): string {
  const at = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

const TIME = '2026-01-31T12:03:07.512Z';

describe('LogPrinter', () => {
  it('renders a pino line as time, padded name, level, message and the fields the prefix does not show', () => {
    const { printer, text } = printerInto();
    printer.line('orders', JSON.stringify({ level: 'info', time: TIME, service: 'orders', pid: 42, hostname: 'h', msg: 'listening', url: 'http://127.0.0.1:3001' }));
    expect(text()).toBe(`${clockOf(TIME)} orders     INFO  listening url=http://127.0.0.1:3001\n`);
  });

  it("reads pino's numeric levels and epoch times, and quotes values that would not read back", () => {
    const { printer, text } = printerInto();
    const time = Date.parse(TIME);
    printer.line('orders', JSON.stringify({ level: 40, time, msg: 'slow', reason: 'two words', count: 3, ok: false, topics: ['a', 'b'], none: null }));
    expect(text()).toBe(`${clockOf(TIME)} orders     WARN  slow reason="two words" count=3 ok=false topics=["a","b"] none=null\n`);
  });

  it("shows an err's message, and its stack below the line at error level and above only", () => {
    const { printer, text } = printerInto();
    const err = { type: 'Error', message: 'database is locked', stack: 'Error: database is locked\n    at open (db.ts:1:1)' };
    printer.line('orders', JSON.stringify({ level: 'warn', time: TIME, msg: 'retrying', err }));
    printer.line('orders', JSON.stringify({ level: 'error', time: TIME, msg: 'request failed', method: 'POST', err }));
    expect(text()).toBe(
      [
        `${clockOf(TIME)} orders     WARN  retrying err="database is locked"`,
        `${clockOf(TIME)} orders     ERROR request failed err="database is locked" method=POST`,
        '    Error: database is locked',
        '        at open (db.ts:1:1)',
        '',
      ].join('\n'),
    );
  });

  it('prints a line that is not a JSON object as it came, after the same prefix', () => {
    const { printer, text } = printerInto();
    printer.line('order-view', 'node:internal/modules/run_main:123');
    printer.line('order-view', '[1,2]');
    const lines = text().split('\n');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} order-view node:internal\/modules\/run_main:123$/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} order-view \[1,2\]$/);
  });

  it('loses no line of a stream written in pieces that split lines and characters, the unterminated last one included', async () => {
    const { printer, text } = printerInto();
    const stream = new PassThrough();
    const followed = printer.follow('orders', stream);
    const bytes = Buffer.from(`${JSON.stringify({ level: 'info', time: TIME, msg: 'prix: 15 €' })}\nplain line\r\nlast without newline`);
    // Split inside the multi-byte euro sign and inside each line.
    const cuts = [5, bytes.indexOf('€') + 1, bytes.indexOf('plain') + 3, bytes.length - 4];
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      stream.write(bytes.subarray(from, cut));
      from = cut;
    }
    stream.end();
    await followed;
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`${clockOf(TIME)} orders     INFO  prix: 15 €`);
    expect(lines[1]).toMatch(/ orders     plain line$/);
    expect(lines[2]).toMatch(/ orders     last without newline$/);
  });

  it("prints an in-process pino logger's lines under its `service` binding, else under the default name", () => {
    const { printer, text } = printerInto({ names: ['shoal', 'broker'] });
    const logger = pino({ base: undefined }, printer.destination('shoal'));
    logger.info('setting up');
    logger.child({ service: 'broker', module: 'broker' }).warn({ port: 9092 }, 'slow disk');
    const lines = text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} shoal  INFO  setting up$/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} broker WARN  slow disk module=broker port=9092$/);
  });

  it('colours names and levels only when asked, each name keeping its own colour', () => {
    const line = JSON.stringify({ level: 'error', time: TIME, msg: 'boom' });
    const plain = printerInto({ color: false });
    plain.printer.line('orders', line);
    expect(plain.text()).not.toContain('\u001b[');

    const coloured = printerInto({ color: true });
    coloured.printer.line('orders', line);
    coloured.printer.line('order-view', line);
    const [orders, orderView] = coloured.text().trimEnd().split('\n');
    const nameColour = (rendered: string | undefined, name: string) => new RegExp(`(\\u001b\\[[\\d;]+m)${name}\\b`).exec(rendered ?? '')?.[1];
    expect(nameColour(orders, 'orders')).toBeDefined();
    expect(nameColour(orderView, 'order-view')).toBeDefined();
    expect(nameColour(orders, 'orders')).not.toBe(nameColour(orderView, 'order-view'));
    expect(orders).toContain('\u001b[31mERROR');
  });
});
