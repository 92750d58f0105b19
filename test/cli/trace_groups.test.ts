import { eventually } from '@shoal/testing';
import { describe, expect, it } from 'vitest';
import { createEvent } from '@shoal/contract';
import { startTestPlatform } from '@shoal/contract/testing';
import { publisherFor, startTestService } from '@shoal/service/testing';
import { buildInventory, configSpec as inventorySpec } from '@shoal/service-inventory';
import { orderPlaced } from '@shoal/service-inventory/testing';
import { watchProcess } from '../conformance/client-processes.js';
import { SHOAL_BIN, shoal } from './helpers.js';

/** An order's flow as the services would publish it: placed, then two reactions to it and one to the first reaction. */
function orderFlow(orderId: string) {
  const placed = orderPlaced([['SKU-T', 2]], { orderId, customerId: 'c-trace', unitPrice: 700 });
  const reserved = createEvent(
    'shoal.inventory.StockReserved',
    { orderId, customerId: 'c-trace', lines: placed.data.lines, total: placed.data.total, reservedAt: Date.now() },
    { source: '/shoal/inventory', subject: orderId, causedBy: placed, time: new Date(Date.parse(placed.time!) + 40) },
  );
  const notified = createEvent(
    'shoal.notifications.CustomerNotified',
    { notificationId: `n-${orderId}`, customerId: 'c-trace', orderId, channel: 'EMAIL', template: 'shoal.orders.OrderPlaced', message: 'thanks', notifiedAt: Date.now() },
    { source: '/shoal/notifications', subject: `n-${orderId}`, partitionKey: 'c-trace', causedBy: placed, time: new Date(Date.parse(placed.time!) + 25) },
  );
  const authorized = createEvent(
    'shoal.payments.PaymentAuthorized',
    { paymentId: `p-${orderId}`, orderId, customerId: 'c-trace', amount: placed.data.total, authorizedAt: Date.now() },
    { source: '/shoal/payments', subject: orderId, causedBy: reserved, time: new Date(Date.parse(placed.time!) + 100) },
  );
  return { placed, reserved, notified, authorized };
}

describe('shoal trace', () => {
  it('prints an order’s causation tree, one event a line with its hop, as text and as JSON', async () => {
    const platform = await startTestPlatform();
    const publisher = await publisherFor(platform);
    const flow = orderFlow('o-trace-1');
    await publisher.publishBatch([flow.authorized, flow.notified, flow.placed, flow.reserved, orderFlow('o-other').placed]);
    const endpoints = ['--brokers', platform.bootstrap, '--registry', platform.registryUrl];

    const text = await shoal(['trace', 'o-trace-1', ...endpoints]);
    expect(text.code, text.stderr.toString()).toBe(0);
    expect(text.out.split('\n').map((line) => line.replace(/(\S) +/g, '$1 ').trimEnd())).toEqual([
      `orders shoal.orders.OrderPlaced ${flow.placed.time}`,
      `  notifications shoal.notifications.CustomerNotified ${flow.notified.time} +25 ms`,
      `  inventory shoal.inventory.StockReserved ${flow.reserved.time} +40 ms`,
      `    payments shoal.payments.PaymentAuthorized ${flow.authorized.time} +60 ms`,
      '',
    ]);
    // By the id of an event of the flow, the same tree.
    expect((await shoal(['trace', flow.authorized.id, ...endpoints])).out).toBe(text.out);

    const json = await shoal(['trace', flow.placed.id, '--json', ...endpoints]);
    expect(json.code, json.stderr.toString()).toBe(0);
    const tree = JSON.parse(json.out);
    expect(tree).toMatchObject({ match: 'event', events: 4, correlationIds: [flow.placed.id], spanMs: 100 });
    expect(tree.roots[0]).toMatchObject({ id: flow.placed.id, service: 'orders', decoded: { data: { orderId: 'o-trace-1', total: { amount: 1400, currency: 'EUR' } } } });
    expect(tree.roots[0].children.map((child: { type: string; hopMs: number }) => [child.type, child.hopMs])).toEqual([
      ['shoal.notifications.CustomerNotified', 25],
      ['shoal.inventory.StockReserved', 40],
    ]);
    expect(tree.roots[0].children[1].children[0]).toMatchObject({ type: 'shoal.payments.PaymentAuthorized', hopMs: 60, decoded: { data: { paymentId: 'p-o-trace-1' } } });

    const unknown = await shoal(['trace', 'o-never', ...endpoints]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.toString()).toMatch(/^shoal trace: no event has the id, correlation id or order id 'o-never' \(5 events read from \d+ topics\)\n$/);
    const usage = await shoal(['trace']);
    expect(usage.code).toBe(2);
    expect(usage.stderr.toString()).toContain('shoal trace: name the order id, correlation id or event id to trace');
  });

  it('keeps printing the flow with --follow as it goes on', async () => {
    const platform = await startTestPlatform();
    const publisher = await publisherFor(platform);
    const flow = orderFlow('o-trace-2');
    await publisher.publishBatch([flow.placed, flow.reserved]);
    let published: Promise<unknown> | undefined;
    const run = await watchProcess(process.execPath, [SHOAL_BIN, 'trace', 'o-trace-2', '--follow', '--brokers', platform.bootstrap, '--registry', platform.registryUrl], {
      env: { ...process.env, NO_COLOR: '1' },
      timeoutMs: 60_000,
      stopSignal: 'SIGINT',
      until: (stdout) => {
        // Once the flow so far is printed, it goes on: the payment is authorized.
        if (published === undefined && stdout.toString().includes('shoal.inventory.StockReserved')) published = publisher.publishBatch([flow.authorized]);
        return stdout.toString().includes('shoal.payments.PaymentAuthorized');
      },
    });
    await published;
    expect(run.satisfied, run.stderr.toString()).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stdout.toString().split('\n').map((line) => line.replace(/(\S) +/g, '$1 ').trimEnd())).toEqual([
      `orders shoal.orders.OrderPlaced ${flow.placed.time}`,
      `  inventory shoal.inventory.StockReserved ${flow.reserved.time} +40 ms`,
      `    payments shoal.payments.PaymentAuthorized ${flow.authorized.time} +60 ms`,
      '',
    ]);
  });
});

describe('shoal console', () => {
  it('refuses a bad flag with one line and exit 2, before connecting to anything', async () => {
    const badService = await shoal(['console', '--service', 'orders']);
    expect(badService.code).toBe(2);
    expect(badService.stderr.toString()).toMatch(/^shoal console: --service: expected name=url, got 'orders'\n/);
    const both = await shoal(['console', '--service', 'orders=http://127.0.0.1:3001', '--no-services']);
    expect(both.code).toBe(2);
    expect(both.stderr.toString()).toMatch(/^shoal console: give --service or --no-services, not both\n/);
    const port = await shoal(['console', '--port', 'eighty']);
    expect(port.code).toBe(2);
    expect(port.stderr.toString()).toMatch(/^shoal console: --port expects an integer, got 'eighty'\n/);
  });
});

describe('shoal groups', () => {
  it('lists the groups with members and lag, and describes one per partition and member', async () => {
    const inventory = await startTestService(inventorySpec, buildInventory);
    const { platform } = inventory;
    const publisher = await publisherFor(platform);
    await publisher.publishBatch([orderPlaced([['SKU-G', 1]], { orderId: 'o-groups-1' })]);
    const brokers = ['--brokers', platform.bootstrap];
    // The service handled the order and committed past it: no lag left.
    const described = await eventually(async () => {
      const run = await shoal(['groups', 'describe', 'inventory', '--json', ...brokers]);
      expect(run.code, run.stderr.toString()).toBe(0);
      const report = JSON.parse(run.out);
      expect(report.partitions.filter((partition: { committed: string | null }) => partition.committed !== null)).toHaveLength(1);
      expect(report.lag).toBe(0);
      return report;
    }, 'inventory to commit past the order');
    expect(described).toMatchObject({ group: 'inventory', state: 'Stable', members: [{ clientId: 'inventory', topics: ['orders.order', 'payments.payment'] }] });
    expect(described.partitions.map((partition: { topic: string; partition: number }) => `${partition.topic}/${partition.partition}`)).toEqual([
      'orders.order/0',
      'orders.order/1',
      'orders.order/2',
      'payments.payment/0',
      'payments.payment/1',
      'payments.payment/2',
    ]);

    const list = await shoal(['groups', ...brokers]);
    expect(list.code, list.stderr.toString()).toBe(0);
    expect(list.out).toMatch(/^group +state +members +lag$/m);
    expect(list.out).toMatch(/^inventory +Stable +1 +0$/m);

    const table = await shoal(['groups', 'describe', 'inventory', ...brokers]);
    expect(table.out).toMatch(/^group inventory: Stable, 1 member, lag 0$/m);
    expect(table.out).toMatch(/^topic +partition +committed +end +lag$/m);
    expect(table.out).toMatch(/^inventory-\S+ +inventory +\S+ +orders\.order\[0,1,2\] payments\.payment\[0,1,2\]$/m);

    const missing = await shoal(['groups', 'describe', 'no-such-group', ...brokers]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.toString()).toBe("shoal groups: no consumer group named 'no-such-group'\n");
    expect((await shoal(['groups', 'list', ...brokers])).code).toBe(2);
  });
});

