/**
 * A writer process for concurrency.int.test.ts (run with `node --import tsx`): an instance of its own on
 * the test's database (a connection to the SQLite file, or a pool on the PostgreSQL database), so that
 * conflicts happen between processes as they do in production, not between statements one process has
 * already put in order.
 *
 *   argv   <database> append <stream id> <expected version>    one event, expecting that version
 *          <database> notify <stream id> <label> <count>        <count> Notify commands, one after another
 *
 * <database> is a file path or a `postgres://` URL.
 *
 * Protocol on the IPC channel: the writer sends `ready` once its database is open, waits for `go` (sent to
 * every writer at once), then sends its outcome and exits.
 */
import { once } from 'node:events';
import { createEvent, loadSchemaCatalog } from '@shoal/contract';
import type { ServiceDatabase } from '@shoal/store';
import { PostgresServiceDatabase } from '@shoal/store-postgres';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { ConcurrencyError, EventStore, handleCommand } from '../index.js';
import { notificationDecider } from './deciders.js';

export type WriterOutcome =
  | { kind: 'appended'; eventId: string }
  | { kind: 'conflict'; actual: number }
  | { kind: 'notified'; count: number };

const [path, mode, streamId, ...rest] = process.argv.slice(2);
if (path === undefined || streamId === undefined || process.send === undefined) {
  throw new Error('usage: node --import tsx writer-process.ts <database path or postgres:// URL> append|notify <stream id> ... (with an IPC channel)');
}
const send = process.send.bind(process);

const catalog = loadSchemaCatalog();
const database: ServiceDatabase = /^postgres(ql)?:\/\//.test(path)
  ? await PostgresServiceDatabase.open({ url: path, catalog, service: 'test-service' })
  : new SqliteServiceDatabase({ path, catalog });
const store = await EventStore.open(database, { source: '/shoal/test-writer' });
send('ready');
await once(process, 'message');

let outcome: WriterOutcome;
if (mode === 'append') {
  const event = createEvent(
    'shoal.notifications.CustomerNotified',
    { notificationId: `ntf-${process.pid}`, customerId: 'cus-1', orderId: 'ord-1', channel: 'EMAIL', template: 'race', message: `from ${process.pid}`, notifiedAt: Date.now() },
    { source: '/shoal/test-writer', subject: streamId },
  );
  try {
    await store.append(streamId, Number(rest[0]), [event]);
    outcome = { kind: 'appended', eventId: event.id };
  } catch (error) {
    if (!(error instanceof ConcurrencyError)) throw error;
    outcome = { kind: 'conflict', actual: error.actual };
  }
} else {
  const [label, count] = [rest[0], Number(rest[1])];
  for (let n = 1; n <= count; n += 1) {
    const command = { type: 'Notify' as const, notificationId: `${label}-${n}`, customerId: 'cus-1', now: Date.now() };
    // Two writers on one stream in a tight loop: more contention than a service sees, so more attempts than the default.
    await handleCommand(store, notificationDecider, streamId, command, { retry: { maxAttempts: 200, initialMs: 1, maxMs: 20 } });
  }
  outcome = { kind: 'notified', count };
}
send(outcome);
await database.close();
process.disconnect();
