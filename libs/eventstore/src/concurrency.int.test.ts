import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, onTestFinished } from 'vitest';
import { storeAdapters } from '@shoal/store-postgres/testing';
import { notificationMessage } from './testing/deciders.js';
import { itOn, openTestStore, orderPlacedEvent, outboxRows } from './testing/databases.js';
import type { WriterOutcome } from './testing/writer-process.js';

const writerScript = fileURLToPath(new URL('./testing/writer-process.ts', import.meta.url));

/**
 * Starts one writer process per argument list (each its own instance of the service: a connection to the
 * SQLite file, or a pool on the PostgreSQL database), lets them all go at once when every one has its database
 * open, and returns their outcomes in the same order once they have all exited.
 */
async function raceWriters(argLists: string[][]): Promise<WriterOutcome[]> {
  const writers = argLists.map((args) => {
    const child = fork(writerScript, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    });
    const output = { stderr: '' };
    child.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    const exited = once(child, 'exit');
    return { child, output, exited };
  });
  await Promise.all(writers.map((writer) => nextMessage(writer.child, writer.output)));
  for (const writer of writers) writer.child.send('go');
  const outcomes = await Promise.all(writers.map((writer) => nextMessage(writer.child, writer.output)));
  const codes = await Promise.all(writers.map(async (writer) => (await writer.exited)[0] as number | null));
  expect(codes).toEqual(writers.map(() => 0));
  return outcomes as WriterOutcome[];
}

/** The child's next IPC message (a writer sends one only when the test waits for it, so none is missed). */
function nextMessage(child: ChildProcess, output: { stderr: string }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`writer ${child.spawnargs.slice(-4).join(' ')} exited with ${String(code)}: ${output.stderr}`));
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
}

describe.each(storeAdapters)('concurrent writers in separate processes on $name', (adapter) => {
  const it = itOn(adapter);

  it('append to one stream with the same expected version: exactly one wins, the others conflict', async () => {
    const store = await openTestStore(adapter);
    await store.append('cus-1', 'no_stream', [orderPlacedEvent('ord-1')]);

    const outcomes = await raceWriters([1, 2, 3, 4].map(() => [adapter.location(store.database), 'append', 'cus-1', '1']));

    const winners = outcomes.filter((outcome) => outcome.kind === 'appended');
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.kind === 'conflict')).toEqual([1, 2, 3].map(() => ({ kind: 'conflict', actual: 2 })));
    const stream = await store.readStream('cus-1');
    expect(stream.currentVersion).toBe(2);
    expect(stream.events.at(-1)?.event.id).toBe(winners[0]?.kind === 'appended' ? winners[0].eventId : undefined);
    expect(await outboxRows(store.database)).toHaveLength(2);
  });

  it('run commands on one stream: every command is applied exactly once, each on the state the one before left', async () => {
    const store = await openTestStore(adapter);
    const perWriter = 50;

    const outcomes = await raceWriters(['a', 'b'].map((label) => [adapter.location(store.database), 'notify', 'cus-1', label, String(perWriter)]));

    expect(outcomes.map((outcome) => outcome.kind === 'notified' && outcome.count)).toEqual([perWriter, perWriter]);
    const { events, currentVersion } = await store.readStream('cus-1');
    expect(currentVersion).toBe(2 * perWriter);
    expect(events.map((r) => r.streamVersion)).toEqual(Array.from({ length: 2 * perWriter }, (_, i) => i + 1));
    const data = events.map((r) => r.event.data as { notificationId: string; message: string });
    expect(data.map((d) => d.message)).toEqual(events.map((r) => notificationMessage(r.streamVersion)));
    const expectedIds = ['a', 'b'].flatMap((label) => Array.from({ length: perWriter }, (_, i) => `${label}-${i + 1}`));
    expect(data.map((d) => d.notificationId).sort()).toEqual(expectedIds.sort());
    expect((await outboxRows(store.database)).map((row) => row.id)).toEqual(events.map((r) => r.event.id));
  });
});
