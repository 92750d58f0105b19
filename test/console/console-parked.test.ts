import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, tempDir } from '@shoal/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildConsole, configSpec as consoleSpec } from '@shoal/console';
import { startTestPlatform } from '@shoal/contract/testing';
import { buildParkingService, parkingServiceSpec, publisherFor, startTestService } from '@shoal/service/testing';
import { orderPlaced } from '@shoal/service-inventory/testing';
import { launchChromium, newPage, screenshot } from './browser.js';

/**
 * A parked order redriven from the console's page, in a real browser: a service whose handler fails for good
 * on one order (the parking test service of @shoal/service/testing, which fails for the order ids of a file)
 * dead-letters its first event and parks the next one of the same key; once "the fix" is in (the file
 * cleared), the Redrive button of that key on the consumer groups view asks the console, which asks the
 * service, and both events are handled once each, in order.
 */
describe('the console page and parked events', () => {
  it('redrives a parked order from the page', async () => {
    const platform = await startTestPlatform();
    const failFile = join(tempDir('console-parked'), 'failing');
    writeFileSync(failFile, 'o-stuck\n');
    const parking = await startTestService(parkingServiceSpec, buildParkingService, { platform, env: { PARKING_FAIL_FILE: failFile } });
    const consoleService = await startTestService(consoleSpec, (host) => void buildConsole(host), { platform, env: { SHOAL_CONSOLE_SERVICES: `parking-test=${parking.host.url}` } });
    const publisher = await publisherFor(platform);
    const first = orderPlaced([['SKU-P', 1]], { orderId: 'o-stuck' });
    const second = orderPlaced([['SKU-P', 2]], { orderId: 'o-stuck' });
    await publisher.publishBatch([first, second, orderPlaced([['SKU-P', 1]], { orderId: 'o-fine' })]);

    const browser = await launchChromium();
    onTestFinished(() => browser.close());
    const page = await newPage(browser);
    await page.goto(`${consoleService.host.url}/#/groups`);
    const redrive = page.locator('section[data-dlq-service="parking-test"] button[data-action="redrive"][data-key="o-stuck"]');
    await eventually(async () => expect(await redrive.count()).toBe(1), { what: 'the dead letter of o-stuck on the page', timeoutMs: 30_000 });
    const row = page.locator('section[data-dlq-service="parking-test"] tr', { has: page.locator('button[data-action="redrive"][data-key="o-stuck"]') });
    expect(await row.textContent()).toContain('shoal.orders.OrderPlaced');
    expect(await row.textContent()).toContain('SHOAL_EVENT_DATA_INVALID');
    await eventually(async () => expect(await row.textContent()).toMatch(/shoal\.orders\.OrderPlaced @\d+/), { what: 'the parked event behind it', timeoutMs: 30_000 });
    expect(existsSync(await screenshot(page, 'parked'))).toBe(true);

    writeFileSync(failFile, '');
    await redrive.click();
    await eventually(async () => expect(await page.locator('#dlq-outcome').textContent()).toMatch(/^redrive o-stuck: \[.*"handled":2.*"stillParked":0.*\]$/), { what: 'the redrive answered', timeoutMs: 30_000 });
    const handled = await eventually(async () => {
      const response = await fetch(`${parking.host.url}/handled/o-stuck`);
      const body = (await response.json()) as { handled: Array<{ eventId: string }> };
      expect(body.handled).toHaveLength(2);
      return body.handled;
    }, 'both events of o-stuck handled');
    expect(handled.map((row) => row.eventId)).toEqual([first.id, second.id]);
    await eventually(async () => expect(await redrive.count()).toBe(0), { what: 'the dead letter gone from the page', timeoutMs: 30_000 });
    expect(existsSync(await screenshot(page, 'redriven'))).toBe(true);
  });
});
