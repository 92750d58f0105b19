/**
 * The order-fulfilment choreography end to end, written once and run against each Kafka Shoal supports:
 * `shoal dev` in a child process with the registry and the services as processes of their own (the loyalty
 * service in Python beside its sidecar), and
 * either the embedded broker (choreography.test.ts) or Apache Kafka (choreography-apache-kafka.test.ts).
 * Everything is asserted through the services' HTTP APIs, as a user would see it.
 *
 * One platform serves the whole file; each scenario has its own customers and SKUs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burstInvariants, cancelAfterConfirmation, declinedPayment, happyPath, loyaltyInvariants, outOfStock, placeBurst } from './scenarios.js';
import { isAlive, REPO_ROOT, SERVICES, SHOAL_BIN, startShoalDev, type ShoalDev } from './shoal-dev.js';
import { eventually, uniqueName } from '@shoal/testing';
import { mapConcurrently, PLATFORM_WAIT, Shop, type ViewOrder } from './shop.js';

export interface ChoreographyTarget {
  /** Names the suite: "the embedded broker", "Apache Kafka 4.4.0". */
  name: string;
  /** Extra `shoal dev` arguments (`--brokers` for a Kafka started by `before`); called after `before`. */
  devArgs(): string[];
  /** Starts what `shoal dev` needs besides itself (a Kafka), before it. */
  before?(): Promise<void>;
  /** Stops it again, after `shoal dev` has stopped. */
  after?(): Promise<void>;
}

export function choreographySuite(target: ChoreographyTarget): void {
  let dev: ShoalDev;
  let shop: Shop;
  let dataDir: string;

  beforeAll(async () => {
    await target.before?.();
    dataDir = mkdtempSync(join(tmpdir(), 'shoal-e2e-'));
    dev = await startShoalDev({ dataDir, args: target.devArgs() });
    shop = new Shop((service) => dev.url(service));
  }, 420_000);

  afterAll(async () => {
    if (dev !== undefined && dev.child.exitCode === null) await dev.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    await target.after?.();
  }, 120_000);

  describe(`order fulfilment, end to end through shoal dev on ${target.name}`, () => {
    it('ships an order: placed, reserved, authorized, confirmed, scheduled, dispatched, shipped, with the timeline in order-view', () => happyPath(shop), 90_000);

    it('cancels an order whose stock is short, reserving nothing and charging nothing', () => outOfStock(shop), 60_000);

    it('cancels an order whose payment is declined and gives its reserved stock back', () => declinedPayment(shop), 60_000);

    it('refunds, releases and cancels the shipment when the customer cancels a confirmed order; refuses after dispatch', () => cancelAfterConfirmation(shop), 90_000);

    it('keeps every invariant over a burst of 500 concurrent orders on a small stock, loyalty points included', async () => {
      const burst = await placeBurst(shop, { count: 500, seed: 5 });
      expect(burst.refused).toBe(0);
      await burstInvariants(shop, burst);
      await loyaltyInvariants(shop, burst);
    }, 420_000);

    it('keeps every invariant when inventory is killed with SIGKILL in the middle of a burst and shoal dev restarts it', async () => {
      const victim = dev.pidOf('inventory');
      let killed = false;
      const burst = await placeBurst(shop, {
        count: 500,
        seed: 9,
        onProgress: (placed) => {
          if (placed === 150 && !killed) {
            killed = true;
            process.kill(victim, 'SIGKILL');
          }
        },
      });
      expect(killed).toBe(true);
      expect(burst.refused).toBe(0);
      await eventually(() => expect(dev.output()).toMatch(/inventory exited .*SIGKILL/i), { ...PLATFORM_WAIT, timeoutMs: 30_000 });
      await eventually(() => expect(dev.pidOf('inventory')).not.toBe(victim), { what: 'inventory restarted with a new pid', timeoutMs: 60_000, intervalMs: 250 });
      expect(isAlive(victim)).toBe(false);
      await burstInvariants(shop, burst);
    }, 300_000);

    it('rebuilds order-view with shoal replay while orders keep flowing: the old model plus the new orders', async () => {
      const before = await snapshot(shop);
      expect(before.size).toBeGreaterThan(1000);

      const customer = uniqueName('c-replay');
      const sku = uniqueName('SKU-REPLAY');
      await shop.setStock(sku, 1_000_000);
      await shop.setLimit(customer, 1_000_000_000, 'EUR');
      let flowing = true;
      const placedDuringReplay: string[] = [];
      const flow = (async () => {
        while (flowing) {
          const { orderId } = await shop.placeOrder(customer, [{ sku, quantity: 1, unitPrice: 250 }]);
          placedDuringReplay.push(orderId);
          await new Promise((resolveWait) => setTimeout(resolveWait, 20));
        }
      })();

      const replay = await runReplay(dev.url('order-view'));
      flowing = false;
      await flow;
      expect(replay.code, replay.output).toBe(0);
      expect(replay.output).toMatch(/swapped in/);
      expect(placedDuringReplay.length).toBeGreaterThan(0);

      await eventually(async () => {
        const viewed = await shop.viewOrders({ customerId: customer });
        expect(viewed.filter((order) => order.status === 'CONFIRMED').map((order) => order.orderId).sort()).toEqual([...placedDuringReplay].sort());
      }, { what: 'the orders placed during the replay confirmed in the view', timeoutMs: 60_000, intervalMs: 250 });
      const after = await snapshot(shop);
      for (const [orderId, order] of before) expect(after.get(orderId), `order ${orderId} after the rebuild`).toEqual(order);
      expect(after.size).toBe(before.size + placedDuringReplay.length);
      const admin = await shop.ok<{ model: { generation: number } }>('order-view', 'GET', '/admin/projections/orders');
      expect(admin.model.generation).toBeGreaterThan(0);
    }, 300_000);

    it('stops everything on Ctrl-C: exit 0, no service process left', async () => {
      const pids = SERVICES.map((service) => dev.pidOf(service));
      expect(pids.every(isAlive)).toBe(true);
      const code = await dev.stop();
      expect(code).toBe(0);
      await eventually(() => expect(pids.filter(isAlive)).toEqual([]), { ...PLATFORM_WAIT, what: 'every service process gone', timeoutMs: 10_000 });
    }, 90_000);
  });
}

/** Every order of the read model with its timeline, by id. */
async function snapshot(target: Shop): Promise<Map<string, ViewOrder>> {
  const list = await target.viewOrders();
  const detailed = await mapConcurrently(list, 20, async (order) => (await target.viewOrder(order.orderId))!);
  return new Map(detailed.map((order) => [order.orderId, order]));
}

function runReplay(url: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SHOAL_BIN, 'replay', 'order-view', 'orders', '--url', url], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, output });
    });
  });
}
