import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloudEvent as SdkCloudEvent, Kafka as SdkKafka } from 'cloudevents';
import type { IHeaders } from 'kafkajs';
import { startRegistry, type RunningRegistry } from '@shoal/schema-registry';
import {
  createEvent,
  EventCodec,
  loadSchemaCatalog,
  registerCatalog,
  RegistryClient,
  type KafkaMessageIn,
  type KafkaMessageOut,
  type OrderPlaced,
  type ShoalEvent,
} from '../src/index.js';

/**
 * Event codec benchmark: `node --import tsx libs/contract/bench/codec.bench.ts [--quick]`.
 *
 * One realistic event (OrderPlaced with 3 lines, a shipping address, a trace context; 10 headers) through:
 *   raw avsc          type.toBuffer(data) / type.fromBuffer(bytes): the Avro work alone, the baseline
 *   Shoal codec       EventCodec.encode(event) -> kafkajs message / EventCodec.decode(message as a kafkajs
 *                     consumer hands it over: Buffer header values sliced from one fetch buffer)
 *   structured JSON   the whole CloudEvent as application/cloudevents+json: JSON.stringify -> Buffer / JSON.parse
 *                     alone (a floor: nothing checked), and the same record through EventCodec.decode, which
 *                     checks the attributes and the data against the type's schema: the guarantees a binary
 *                     record's Avro decoding gives, so the like-for-like baseline of the decode goal
 *   cloudevents SDK   `new CloudEvent(attributes)` (ajv validation per instance) / `Kafka.toEvent` of the same
 *                     record with string headers: why the codec does not build the SDK's class per message
 * Workloads run interleaved in rounds; the table shows each one's median round. A registry runs in-process
 * on a temp dir (the codec needs schema ids), is warmed up, and is removed at the end.
 * Exits 0 whether or not the goals are met; non-zero only when the benchmark itself fails.
 */
const usage = `Usage: node --import tsx libs/contract/bench/codec.bench.ts [--quick]

  --quick   about 10x fewer operations (a smoke run; figures are noisier)
`;

const goals = {
  encodeVsAvsc: 0.5,
  decodeVsAvsc: 0.5,
  decodeVsJson: 3,
} as const;

const ROUNDS = 7;

interface Workload {
  name: string;
  direction: 'encode' | 'decode';
  run: () => unknown;
}

interface Row {
  workload: Workload;
  perSecond: number;
}

function parseOptions(argv: string[]) {
  return parseArgs({ args: argv, options: { quick: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
}

function orderPlaced(): ShoalEvent<'shoal.orders.OrderPlaced'> {
  const lines = [1, 2, 3].map((n) => ({ sku: `SKU-${n}0042-BLUE`, quantity: n, unitPrice: { amount: 1999 * n, currency: 'EUR' } }));
  const data: OrderPlaced = {
    orderId: 'ord-7c1f9a2e-5b1d-4c7e-9f00-1a2b3c4d5e6f',
    customerId: 'cus-42',
    lines,
    total: { amount: lines.reduce((sum, line) => sum + line.quantity * line.unitPrice.amount, 0), currency: 'EUR' },
    shippingAddress: { line1: '12 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' },
    placedAt: Date.parse('2026-01-31T12:00:00.000Z'),
  };
  // OrderPlaced starts a business flow: it has no cause, and its correlation id is its own id.
  return createEvent('shoal.orders.OrderPlaced', data, {
    source: '/shoal/orders',
    subject: data.orderId,
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    id: '0190d7a1-8b7c-7cde-8f00-123456789abd',
    time: '2026-01-31T12:00:00.000Z',
  });
}

/** The record as kafkajs's consumer delivers it: every header value a Buffer sliced from one fetch response. */
function asConsumed(message: KafkaMessageOut): KafkaMessageIn {
  const entries = Object.entries(message.headers);
  const fetchBuffer = Buffer.from(entries.map(([, value]) => value).join(''), 'utf8');
  const headers: IHeaders = {};
  let at = 0;
  for (const [name, value] of entries) {
    const length = Buffer.byteLength(value);
    headers[name] = fetchBuffer.subarray(at, at + length);
    at += length;
  }
  return { key: message.key === null ? null : Buffer.from(message.key), value: message.value, headers };
}

/** Operations per second of one timed round of `count` calls, awaiting only what returns a promise. */
async function timeRound(workload: Workload, count: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const result = workload.run();
    if (result instanceof Promise) await result;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const progress = (message: string) => process.stderr.write(`codec bench: ${message}\n`);
const count = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<number> {
  let values: ReturnType<typeof parseOptions>;
  try {
    values = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`codec bench: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const opsPerRound = values.quick ? 20_000 : 200_000;
  const loadBefore = loadavg()[0]!;
  const workDir = mkdtempSync(join(tmpdir(), 'shoal-codec-bench-'));
  let registry: RunningRegistry | undefined;
  try {
    registry = await startRegistry({ port: 0, dataDir: workDir, logLevel: 'warn' });
    const catalog = loadSchemaCatalog();
    const client = new RegistryClient({ url: registry.url });
    await registerCatalog(client, catalog);
    const codec = new EventCodec({ registry: client, catalog });

    const event = orderPlaced();
    const avroType = catalog.avroType(event.type);
    const avroBytes = avroType.toBuffer(event.data);
    const encoded = await codec.encode(event);
    const consumed = asConsumed(encoded);
    await codec.decode(consumed);
    const structured = Buffer.from(JSON.stringify({ ...event, datacontenttype: 'application/json' }), 'utf8');
    const structuredRecord: KafkaMessageIn = { key: consumed.key ?? null, value: structured, headers: { 'content-type': Buffer.from('application/cloudevents+json') } };
    await codec.decode(structuredRecord);
    const sdkRecord = { key: encoded.key ?? '', value: encoded.value, headers: encoded.headers };
    const sdkAttributes = { ...event, data: event.data as unknown as Record<string, unknown> };

    const workloads: Workload[] = [
      { name: 'raw avsc toBuffer', direction: 'encode', run: () => avroType.toBuffer(event.data) },
      { name: 'Shoal codec encode', direction: 'encode', run: () => codec.encode(event) },
      { name: 'structured JSON stringify', direction: 'encode', run: () => Buffer.from(JSON.stringify(event), 'utf8') },
      { name: 'cloudevents SDK new CloudEvent', direction: 'encode', run: () => new SdkCloudEvent(sdkAttributes) },
      { name: 'raw avsc fromBuffer', direction: 'decode', run: () => avroType.fromBuffer(avroBytes) },
      { name: 'Shoal codec decode', direction: 'decode', run: () => codec.decode(consumed) },
      { name: 'structured JSON parse', direction: 'decode', run: () => JSON.parse(structured.toString('utf8')) },
      { name: 'structured JSON decode, validated', direction: 'decode', run: () => codec.decode(structuredRecord) },
      { name: 'cloudevents SDK Kafka.toEvent', direction: 'decode', run: () => SdkKafka.toEvent(sdkRecord as never) },
    ];

    progress(`warming up (${count(opsPerRound / 10)} operations per workload)`);
    for (const workload of workloads) await timeRound(workload, Math.max(1000, opsPerRound / 10));
    const samples = new Map<Workload, number[]>(workloads.map((w) => [w, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      progress(`round ${round} of ${ROUNDS}`);
      for (const workload of workloads) samples.get(workload)!.push(await timeRound(workload, opsPerRound));
    }
    const rows: Row[] = workloads.map((workload) => ({ workload, perSecond: median(samples.get(workload)!) }));
    const rate = (name: string) => rows.find((row) => row.workload.name === name)!.perSecond;

    const encodeVsAvsc = rate('Shoal codec encode') / rate('raw avsc toBuffer');
    const decodeVsAvsc = rate('Shoal codec decode') / rate('raw avsc fromBuffer');
    const encodeVsJson = rate('Shoal codec encode') / rate('structured JSON stringify');
    const decodeVsJson = rate('Shoal codec decode') / rate('structured JSON decode, validated');
    const decodeVsJsonParse = rate('Shoal codec decode') / rate('structured JSON parse');
    const verdict = (met: boolean) => (met ? 'met' : 'NOT MET');
    const baseline = (row: Row) => rate(row.workload.direction === 'encode' ? 'raw avsc toBuffer' : 'raw avsc fromBuffer');
    const table = markdownTable(
      ['workload', 'events/s', 'µs/event', 'vs raw avsc'],
      rows.map((row) => [row.workload.name, count(row.perSecond), (1e6 / row.perSecond).toFixed(2), `${(row.perSecond / baseline(row)).toFixed(2)}x`]),
    );
    const checks = [
      [`codec encode >= ${goals.encodeVsAvsc}x raw avsc`, `${encodeVsAvsc.toFixed(2)}x`, verdict(encodeVsAvsc >= goals.encodeVsAvsc)],
      [`codec decode >= ${goals.decodeVsAvsc}x raw avsc`, `${decodeVsAvsc.toFixed(2)}x`, verdict(decodeVsAvsc >= goals.decodeVsAvsc)],
      [`codec decode >= ${goals.decodeVsJson}x structured JSON (validated alike)`, `${decodeVsJson.toFixed(2)}x`, verdict(decodeVsJson >= goals.decodeVsJson)],
      ['codec decode vs bare JSON.parse (no goal: checks nothing)', `${decodeVsJsonParse.toFixed(2)}x`, ''],
      ['codec encode vs structured JSON (no goal)', `${encodeVsJson.toFixed(2)}x`, ''],
    ];
    process.stdout.write(
      [
        '',
        `Shoal event codec benchmark${values.quick ? ' (--quick: ~10x fewer operations, noisier)' : ''}`,
        `node ${process.version}, ${availableParallelism()} CPUs, 1-min load average ${loadBefore.toFixed(2)} before and ${loadavg()[0]!.toFixed(2)} after the run`,
        `one OrderPlaced event (3 lines, an address, a trace context): Avro ${avroBytes.length} B + ${Object.keys(encoded.headers).length} headers; structured JSON ${structured.length} B`,
        `median of ${ROUNDS} interleaved rounds of ${count(opsPerRound)} operations each, after a warm-up; the registry is warm, so no workload makes a registry call`,
        '',
        table,
        '',
        markdownTable(['goal', 'measured', ''], checks),
        '',
        `goals met: ${checks.filter((c) => c[2] === 'met').length} of 3`,
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await registry?.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`codec bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
