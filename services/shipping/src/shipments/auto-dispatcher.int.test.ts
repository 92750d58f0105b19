import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { tempDir, eventually } from '@shoal/testing';
import { silentLogger } from '@shoal/core';
import { createEvent, loadSchemaCatalog } from '@shoal/contract';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { AutoDispatcher, MIN_WAKE_INTERVAL_MS } from './auto-dispatcher.js';
import { migrateShipments } from './shipment-store.js';
import { Shipments } from './shipments.js';

/**
 * The auto-dispatcher on a real SQLite file (no broker: what it emits stays in the outbox, where the test
 * reads it). The clock is the test's, so which shipments are due is decided by the test, not by timing.
 */
async function desk() {
  const database = new SqliteServiceDatabase({ path: join(tempDir('auto-dispatch'), 'shipping.db'), catalog: loadSchemaCatalog() });
  onTestFinished(() => database.close());
  await migrateShipments(database);
  const clock = { now: 1_000_000 };
  let ids = 0;
  const shipments = new Shipments({
    database,
    source: '/shoal/shipping',
    logger: silentLogger,
    now: () => clock.now,
    newId: () => `id-${String(++ids).padStart(4, '0')}`,
    trackingNumber: () => `TRK-${String(ids).padStart(10, '0')}`,
  });
  const confirm = (orderId: string) =>
    database.transact((tx) =>
      shipments.schedule(
        createEvent(
          'shoal.orders.OrderConfirmed',
          { orderId, customerId: 'c-1', paymentId: `p-${orderId}`, total: { amount: 100, currency: 'EUR' }, confirmedAt: clock.now },
          { source: '/shoal/orders', subject: orderId },
        ),
        tx,
      ),
    );
  const outboxTypes = () => (database.db.prepare('SELECT type FROM outbox ORDER BY sequence').all() as { type: string }[]).map((row) => row.type);
  return { database, shipments, clock, confirm, outboxTypes };
}

describe('auto-dispatcher', () => {
  it('dispatches the shipments scheduled longer ago than the delay, in batches, each once', async () => {
    const { shipments, clock, confirm, outboxTypes } = await desk();
    for (let i = 0; i < 7; i += 1) await confirm(`o-old-${i}`);
    clock.now += 500;
    await confirm('o-new');

    const dispatcher = new AutoDispatcher({ shipments, delayMs: 400, logger: silentLogger, now: () => clock.now, batchSize: 3 });
    expect(dispatcher.intervalMs).toBe(100);
    dispatcher.start();
    onTestFinished(() => dispatcher.stop());

    await eventually(async () => expect((await shipments.list({ status: 'DISPATCHED', limit: 100 })).map((s) => s.orderId).sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `o-old-${i}`)));
    expect((await shipments.list({ orderId: 'o-new', limit: 1 }))[0]!.status).toBe('SCHEDULED');
    expect(dispatcher.readiness()).toEqual({ ok: true, detail: 'dispatching after 400 ms; 7 dispatched' });

    clock.now += 400;
    await eventually(async () => expect((await shipments.list({ orderId: 'o-new', limit: 1 }))[0]!.status).toBe('DISPATCHED'));
    expect(outboxTypes().filter((type) => type === 'shoal.shipping.ShipmentDispatched')).toHaveLength(8);
  });

  it('wakes every max(delay / 4, 50 ms), and stops cleanly: no run after stop()', async () => {
    const { shipments, clock, confirm } = await desk();
    let runs = 0;
    const counting = Object.create(shipments) as Shipments;
    counting.due = (before, limit) => {
      runs += 1;
      return shipments.due(before, limit);
    };
    // Fake timers: the test moves time, so each wake is seen at the millisecond it is due, and absence after stop()
    // is shown by time that passed with nothing armed, not by a sleep.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => void vi.useRealTimers());
    for (const [delayMs, intervalMs] of [[100, MIN_WAKE_INTERVAL_MS], [10_000, 2_500]] as const) {
      const dispatcher = new AutoDispatcher({ shipments: counting, delayMs, logger: silentLogger, now: () => clock.now });
      expect(dispatcher.intervalMs).toBe(intervalMs);
      runs = 0;
      dispatcher.start();
      for (let wake = 1; wake <= 3; wake += 1) {
        await vi.advanceTimersByTimeAsync(intervalMs - 1);
        expect(runs, `delay ${delayMs}: before wake ${wake}`).toBe(wake - 1);
        await vi.advanceTimersByTimeAsync(1);
        expect(runs, `delay ${delayMs}: at wake ${wake}`).toBe(wake);
      }
      await dispatcher.stop();
      expect(vi.getTimerCount(), 'timers armed after stop()').toBe(0);
    }
    const runsAtStop = runs;

    await confirm('o-after-stop');
    clock.now += 1_000;
    await vi.advanceTimersByTimeAsync(MIN_WAKE_INTERVAL_MS * 100);
    expect(runs).toBe(runsAtStop);
    expect((await shipments.list({ orderId: 'o-after-stop', limit: 1 }))[0]!.status).toBe('SCHEDULED');
  });
});
