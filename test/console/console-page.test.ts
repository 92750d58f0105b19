import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@shoal/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Shop } from '../e2e/support/shop.js';
import { startShoalDev, type ShoalDev } from '../e2e/support/shoal-dev.js';
import { launchChromium, newPage, screenshot } from './browser.js';

/**
 * The console's page in a real browser against what `npm start` runs: `shoal dev` (broker, registry, the seven
 * services and the console) in a child process on free ports, a few orders placed over HTTP, and chromium
 * reading the page as a person would.
 */
let dataDir: string | undefined;
let dev: ShoalDev;
let browser: Browser;
let shop: Shop;
const placed: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  // The platform outlives any one test: its data dir is the file's, removed after it.
  dataDir = mkdtempSync(join(tmpdir(), 'shoal-console-page-'));
  dev = await startShoalDev({ dataDir, env: { SHIPPING_AUTO_DISPATCH_MS: '0' } });
  shop = new Shop((service) => dev.url(service));
  await shop.setStock('CONSOLE-SKU', 100);
  await shop.setLimit('console-customer', 1_000_000);
  for (let i = 0; i < 3; i += 1) placed.push((await shop.placeOrder('console-customer', [{ sku: 'CONSOLE-SKU', quantity: 1, unitPrice: 1200 }])).orderId);
  for (const orderId of placed) await eventually(async () => expect((await shop.order(orderId))?.status).toBe('CONFIRMED'), `order ${orderId} confirmed`);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  const code = await dev?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  if (code !== undefined && code !== 0) throw new Error(`shoal dev exited with ${code}:\n${dev.output().slice(-4000)}`);
}, 90_000);

describe('the console page', () => {
  it('maps the seven services of a running shoal dev and the reactions between them after a few orders', async () => {
    const page = await newPage(browser);
    await page.goto(`${dev.ready.console!.url}/#/map`);
    const edges = ['orders>inventory', 'inventory>payments', 'payments>orders', 'orders>shipping', 'orders>notifications', 'inventory>order-view'];
    await eventually(async () => {
      const services = await page.locator('svg.map g.service').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-service')));
      expect(services.sort()).toEqual(['inventory', 'loyalty', 'notifications', 'order-view', 'orders', 'payments', 'shipping']);
      const drawn = await page.locator('svg.map g.edge').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-edge')));
      expect(drawn).toEqual(expect.arrayContaining(edges));
    }, { what: 'the map to show the seven services and their edges', timeoutMs: 30_000 });
    // The label of the OrderPlaced edge counts the three orders.
    const label = await page.locator('svg.map g.edge[data-edge="orders>inventory"][data-type="shoal.orders.OrderPlaced"] text').allTextContents();
    expect(label[0]).toBe('OrderPlaced');
    expect(label[1]).toMatch(/^3 · \d+\.\d\/s · \d+ ms$/);
    expect(await page.locator('#edges td', { hasText: 'shoal.payments.PaymentAuthorized' }).count()).toBe(1);
    expect(existsSync(await screenshot(page, 'map'))).toBe(true);
  });

  it('shows the causation tree of one order on its flow page, searched by its id', async () => {
    const page = await newPage(browser);
    const orderId = placed[0]!;
    await page.goto(`${dev.ready.console!.url}/#/flow`);
    await page.fill('#flow-query', orderId);
    await page.click('form.search button');
    const tree = page.locator('#flow .tree');
    const chain = ['shoal.orders.OrderPlaced', 'shoal.inventory.StockReserved', 'shoal.payments.PaymentAuthorized', 'shoal.orders.OrderConfirmed', 'shoal.shipping.ShipmentScheduled'];
    const path = chain.map((type) => `details[data-event-type="${type}"]`).join(' > ');
    await eventually(async () => expect(await tree.locator(path).count()).toBe(1), { what: `the tree ${chain.join(' > ')}`, timeoutMs: 30_000 });
    expect(page.url()).toContain(`#/flow?q=${orderId}`);
    // The order's confirmation and its placing are both notified, each under its own cause.
    expect(await tree.locator('details[data-event-type="shoal.orders.OrderPlaced"] > details[data-event-type="shoal.notifications.CustomerNotified"]').count()).toBe(1);
    expect(await tree.locator('details[data-event-type="shoal.orders.OrderConfirmed"] > details[data-event-type="shoal.notifications.CustomerNotified"]').count()).toBe(1);
    const root = tree.locator('details[data-event-type="shoal.orders.OrderPlaced"]').first();
    expect(await root.locator(':scope > summary').textContent()).toMatch(/^orders shoal\.orders\.OrderPlaced \d{4}-\d\d-\d\dT/);
    expect(await root.locator(':scope > pre').textContent()).toContain(`"orderId": "${orderId}"`);
    const hop = await tree.locator(`${chain.slice(0, 2).map((type) => `details[data-event-type="${type}"]`).join(' > ')} > summary .hop`).textContent();
    expect(hop).toMatch(/^\+\d+ ms$/);
    expect(await page.locator('#flow > p').first().textContent()).toMatch(/^7 events across orders, /);
    expect(existsSync(await screenshot(page, 'flow'))).toBe(true);
  });

  it('rebuilds order-view’s projection from the projections page and shows it swapped in', async () => {
    const page = await newPage(browser);
    await page.goto(`${dev.ready.console!.url}/#/projections`);
    const button = page.locator('button[data-rebuild="order-view/orders"]');
    await eventually(async () => expect(await button.count()).toBe(1), { what: 'the rebuild button of order-view/orders', timeoutMs: 30_000 });
    await button.click();
    await eventually(async () => expect(await page.locator('[data-rebuild-state="swapped"]').count()).toBe(1), { what: 'the rebuild to be swapped in', timeoutMs: 60_000 });
    expect(await page.locator('#rebuild-outcome').textContent()).toBe('rebuilding order-view/orders');
    // The rebuilt model, swapped in, serves the orders placed before it.
    const viewed = await shop.viewOrders({ customerId: 'console-customer' });
    expect(viewed.map((order) => [order.orderId, order.status]).sort()).toEqual(placed.map((orderId) => [orderId, 'CONFIRMED']).sort());
    expect(existsSync(await screenshot(page, 'projections'))).toBe(true);
  });
});
