/**
 * An OutboxRelay in a process of its own, for the crash tests (outbox-relay-crash.int.test.ts): a real
 * `kill -9` needs a real process. Run from the repository root:
 *
 *   node --import tsx libs/outbox/src/testing/relay-process.ts --database <file or postgres:// URL>
 *     --brokers <host:port> --registry <url> [--batch-size <n>] [--die-on-ack]
 *
 * Reports on stdout, one JSON object a line: {"started":true} once the relay runs, {"lease":"held","epoch":n,"at":ms}
 * whenever it takes the outbox's lease, {"stopped":true,...status} after SIGTERM, which stops it with a
 * drain (what Ctrl-C of a service does).
 *
 * --die-on-ack SIGKILLs the process the moment the broker's first Produce response arrives on the socket,
 * before kafkajs hands it to the relay: the batch is on the broker and the relay's position has not moved, the
 * exact window where at-least-once publishes again. A kill from outside lands somewhere at random; this one
 * lands there.
 */
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type ISocketFactory } from 'kafkajs';
import type { ShoalLogger } from '@shoal/core';
import { EventCodec, loadSchemaCatalog, RegistryClient } from '@shoal/contract';
import { OutboxRelay } from '../outbox-relay.js';
import type { ServiceDatabase } from '@shoal/store';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { PostgresServiceDatabase } from '@shoal/store-postgres';

const PRODUCE_API_KEY = 0;

const { values } = parseArgs({
  options: {
    database: { type: 'string' },
    brokers: { type: 'string' },
    registry: { type: 'string' },
    'batch-size': { type: 'string', default: '500' },
    'die-on-ack': { type: 'boolean', default: false },
  },
});
if (values.database === undefined || values.brokers === undefined || values.registry === undefined) {
  process.stderr.write('usage: relay-process.ts --database <file> --brokers <host:port> --registry <url> [--batch-size <n>] [--die-on-ack]\n');
  process.exit(2);
}

/** Warnings and errors to stderr, as JSON lines: the parent shows them when a test fails. */
const stderrLogger: ShoalLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (details, message) => void process.stderr.write(`${JSON.stringify({ level: 'warn', message, ...details })}\n`),
  error: (details, message) => void process.stderr.write(`${JSON.stringify({ level: 'error', message, ...details })}\n`),
  child: () => stderrLogger,
};

/**
 * Kafka requests start `size:int32 api_key:int16 api_version:int16 correlation_id:int32`, responses
 * `size:int32 correlation_id:int32`: remember the ids of Produce requests, die at the first response to one.
 */
const dieOnFirstProduceAck: ISocketFactory = ({ host, port, onConnect }) => {
  const socket: Socket = connect({ host, port }, onConnect);
  const produceIds = new Set<number>();
  const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk) && chunk.length >= 12 && chunk.readInt16BE(4) === PRODUCE_API_KEY) produceIds.add(chunk.readInt32BE(8));
    return write(chunk, ...rest);
  }) as Socket['write'];
  // Prepended, so it runs before kafkajs's own listener could resolve anything.
  socket.prependListener('data', (chunk: Buffer) => {
    if (chunk.length >= 8 && produceIds.has(chunk.readInt32BE(4))) process.kill(process.pid, 'SIGKILL');
  });
  return socket;
};

const catalog = loadSchemaCatalog();
const database: ServiceDatabase = /^postgres(ql)?:\/\//.test(values.database)
  ? await PostgresServiceDatabase.open({ url: values.database, catalog, service: 'test-service' })
  : new SqliteServiceDatabase({ path: values.database, catalog });
const kafka = new Kafka({
  clientId: `outbox-relay-${process.pid}`,
  brokers: [values.brokers],
  logLevel: logLevel.NOTHING,
  ...(values['die-on-ack'] ? { socketFactory: dieOnFirstProduceAck } : {}),
});
const relay = new OutboxRelay({
  database,
  kafka,
  codec: new EventCodec({ registry: new RegistryClient({ url: values.registry }), catalog }),
  batchSize: Number(values['batch-size']),
  pollIntervalMs: 20,
  backoff: { initialMs: 10, maxMs: 200 },
  logger: stderrLogger,
});
relay.start();
process.stdout.write(`${JSON.stringify({ started: true })}\n`);
let epoch: number | undefined;
const leaseWatch = setInterval(() => {
  void relay.status().then((status) => {
    if (status.epoch !== undefined && status.epoch !== epoch) process.stdout.write(`${JSON.stringify({ lease: 'held', epoch: status.epoch, at: Date.now() })}\n`);
    epoch = status.epoch;
  });
}, 20);

process.once('SIGTERM', () => {
  clearInterval(leaseWatch);
  void relay.stop({ drain: true }).then(async () => {
    process.stdout.write(`${JSON.stringify({ stopped: true, ...(await relay.status()) })}\n`);
    void database.close();
  });
});
