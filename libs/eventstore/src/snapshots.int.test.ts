import { describe, expect } from 'vitest';
import { storeAdapters } from '@shoal/store-postgres/testing';
import { handleCommand, handleCommandIn, type EventStore, type SnapshotPolicy } from './index.js';
import { notificationDecider, type NotificationCount, type NotifyCommand } from './testing/deciders.js';
import { itOn, openTestStore, refusal } from './testing/databases.js';

const policy: SnapshotPolicy = { everyNEvents: 3, version: 1 };

function notify(n: number): NotifyCommand {
  return { type: 'Notify', notificationId: `ntf-${n}`, customerId: 'cus-1', now: 1_767_225_600_000 + n };
}

function snapshotRows(store: EventStore) {
  return store.database.sql.all('SELECT stream_id, stream_version, state_version, state FROM snapshots');
}

/** The notification decider's fold, counting the events it folds. */
function countingFold() {
  const fold = {
    folded: 0,
    initialState: notificationDecider.initialState,
    evolve(state: NotificationCount) {
      fold.folded += 1;
      return { sent: state.sent + 1 };
    },
  };
  return fold;
}

describe.each(storeAdapters)('snapshots on $name', (adapter) => {
  const it = itOn(adapter);

  it('are stored by the append that crosses a threshold, and reading folds only the events after them', async () => {
    const store = await openTestStore(adapter, { source: '/shoal/notifications' });
    for (const n of [1, 2]) await handleCommand(store, notificationDecider, 'cus-1', notify(n), { snapshot: policy });
    expect(await snapshotRows(store)).toEqual([]);

    for (const n of [3, 4]) await handleCommand(store, notificationDecider, 'cus-1', notify(n), { snapshot: policy });

    expect(await snapshotRows(store)).toEqual([{ stream_id: 'cus-1', stream_version: 3, state_version: 1, state: '{"sent":3}' }]);
    const withSnapshot = countingFold();
    expect(await store.aggregateStream('cus-1', withSnapshot, { snapshot: policy })).toEqual({ state: { sent: 4 }, version: 4 });
    expect(withSnapshot.folded).toBe(1);
    const withoutSnapshot = countingFold();
    expect(await store.aggregateStream('cus-1', withoutSnapshot)).toEqual({ state: { sent: 4 }, version: 4 });
    expect(withoutSnapshot.folded).toBe(4);
  });

  it('are taken at each threshold an append crosses, even by several events at once', async () => {
    const store = await openTestStore(adapter, { source: '/shoal/notifications' });
    const fourAtOnce = {
      ...notificationDecider,
      decide: (command: NotifyCommand, state: NotificationCount) =>
        [1, 2, 3, 4].flatMap((i) => notificationDecider.decide({ ...command, notificationId: `${command.notificationId}-${i}` }, { sent: state.sent + i - 1 })),
    };

    await handleCommand(store, fourAtOnce, 'cus-1', notify(1), { snapshot: policy });
    expect(await snapshotRows(store)).toMatchObject([{ stream_version: 4, state: '{"sent":4}' }]);
    await handleCommand(store, fourAtOnce, 'cus-1', notify(2), { snapshot: policy });
    expect(await snapshotRows(store)).toMatchObject([{ stream_version: 8, state: '{"sent":8}' }]);
  });

  it('of another state version are ignored, then replaced at the next threshold', async () => {
    const store = await openTestStore(adapter, { source: '/shoal/notifications' });
    for (const n of [1, 2, 3, 4]) await handleCommand(store, notificationDecider, 'cus-1', notify(n), { snapshot: policy });
    // A state the events do not give: reading from this snapshot shows in the result.
    await store.database.transact((tx) => store.saveSnapshotIn(tx, 'cus-1', { streamVersion: 3, stateVersion: 1, state: { sent: 100 } }));
    const next: SnapshotPolicy = { everyNEvents: 3, version: 2 };

    expect((await store.aggregateStream('cus-1', notificationDecider, { snapshot: policy })).state).toEqual({ sent: 101 });
    expect((await store.aggregateStream('cus-1', notificationDecider, { snapshot: next })).state).toEqual({ sent: 4 });

    for (const n of [5, 6]) await handleCommand(store, notificationDecider, 'cus-1', notify(n), { snapshot: next });
    expect(await snapshotRows(store)).toEqual([{ stream_id: 'cus-1', stream_version: 6, state_version: 2, state: '{"sent":6}' }]);
  });

  it('roll back with the transaction of the append', async () => {
    const store = await openTestStore(adapter, { source: '/shoal/notifications' });
    for (const n of [1, 2]) await handleCommand(store, notificationDecider, 'cus-1', notify(n), { snapshot: policy });

    await expect(
      store.database.transact(async (tx) => {
        await handleCommandIn(tx, store, notificationDecider, 'cus-1', notify(3), { snapshot: policy });
        throw new Error('the caller failed');
      }),
    ).rejects.toThrow('the caller failed');

    expect([await snapshotRows(store), await store.streamVersion('cus-1')]).toEqual([[], 2]);
  });

  it('need a policy of at least one event and an integer version', async () => {
    const store = await openTestStore(adapter, { source: '/shoal/notifications' });
    for (const snapshot of [{ everyNEvents: 0, version: 1 }, { everyNEvents: 2.5, version: 1 }, { everyNEvents: 3, version: Number.NaN }]) {
      expect((await refusal(() => handleCommand(store, notificationDecider, 'cus-1', notify(1), { snapshot }))).code).toBe('SHOAL_CONFIG_INVALID');
    }
    expect(await store.streamVersion('cus-1')).toBe(0);
  });
});
