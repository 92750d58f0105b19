import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, freePort, tempDir } from '@shoal/testing';
import type { ShoalEvent } from '@shoal/contract';
import { startTestPlatform } from '@shoal/contract/testing';
import type { DlqListBody, DlqRedriveBody, DlqSkipBody } from '@shoal/consumer';
import { orderPlaced, parkingTraffic } from '@shoal/consumer/testing';
import { storeAdapters, testPostgresDatabaseUrl, type StoreAdapter } from '@shoal/store-postgres/testing';
import { buildParkingService, parkingServiceProcess, parkingServiceSpec, publisherFor, startTestService, type HandledRow } from './testing/index.js';

const BAD = 'ord-42';

/** The bad order's first event, then its `later` events among 200 events of 40 other orders. */
function traffic(later: number): { bad: ShoalEvent<'shoal.orders.OrderPlaced'>[]; mixed: ShoalEvent<'shoal.orders.OrderPlaced'>[] } {
  const { keyed, all } = parkingTraffic(BAD, later);
  return { bad: keyed, mixed: all };
}

async function http<T = any>(url: string, method: 'GET' | 'POST' = 'GET', body?: unknown): Promise<{ status: number; type: string; body: T }> {
  const response = await fetch(url, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: (await response.json()) as T };
}

const handledOf = async (url: string, orderId: string) => (await http<{ handled: HandledRow[] }>(`${url}/handled/${orderId}`)).body.handled;

/** The service's environment for the adapter: DATABASE_URL of a new PostgreSQL database, or none (SQLite under its data dir). */
async function databaseEnv(adapter: StoreAdapter): Promise<Record<string, string>> {
  return adapter.name === 'postgres' ? { DATABASE_URL: await testPostgresDatabaseUrl() } : {};
}

describe.each(storeAdapters)('the dead-letter admin routes on $name', (adapter) => {
  it.skipIf(adapter.missing !== undefined)('list a parked order with its reason, refuse bad requests, and redrive it once each, in order, after the fix', async () => {
    const platform = await startTestPlatform();
    const failFile = join(tempDir('parking'), 'failing');
    writeFileSync(failFile, `${BAD}\n`);
    const { host } = await startTestService(parkingServiceSpec, buildParkingService, { platform, env: { PARKING_FAIL_FILE: failFile, HOST: '127.0.0.1', ...(await databaseEnv(adapter)) } });
    const url = host.url;
    expect(await http(`${url}/admin/dlq`)).toMatchObject({ status: 200, body: { service: 'parking-test', groups: [{ group: 'parking-test', deadLetters: [] }] } });

    const { bad, mixed } = traffic(5);
    const publisher = await publisherFor(platform);
    const published = await publisher.publishBatch(mixed);
    const at = new Map(published.map((entry) => [entry.id, entry]));

    const list = await eventually(async () => {
      const answer = await http<DlqListBody>(`${url}/admin/dlq`);
      expect(answer.body.groups[0]!.deadLetters[0]?.parked).toHaveLength(5);
      return answer;
    });
    expect(list.type).toContain('application/json');
    const [letter] = list.body.groups[0]!.deadLetters;
    expect(letter).toEqual({
      key: BAD,
      topic: 'orders.order',
      partition: at.get(bad[0]!.id)!.partition,
      offset: at.get(bad[0]!.id)!.offset,
      eventId: bad[0]!.id,
      type: 'shoal.orders.OrderPlaced',
      reason: { code: 'SHOAL_EVENT_DATA_INVALID', message: `order ${BAD} cannot be handled until it is fixed`, kind: 'poison', attempts: 1 },
      failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      parked: bad.slice(1).map((event) => ({
        topic: 'orders.order',
        partition: at.get(event.id)!.partition,
        offset: at.get(event.id)!.offset,
        eventId: event.id,
        type: 'shoal.orders.OrderPlaced',
        parkedAt: expect.stringMatching(/Z$/),
      })),
    });
    await eventually(async () => expect((await handledOf(url, 'ord-7')).length).toBe(5));
    expect(await handledOf(url, BAD)).toEqual([]);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^shoal_consumer_dead_letters\{group="parking-test",service="parking-test"\} 1$/m);
    expect(metrics).toMatch(/^shoal_consumer_parked\{group="parking-test",service="parking-test"\} 5$/m);
    expect(metrics).toMatch(/^shoal_events_consumed_total\{group="parking-test",outcome="parked",service="parking-test"\} 5$/m);
    const ready = await http(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.stringify(ready.body)).toContain('1 key held back by a dead letter with 5 records parked');

    const unknown = await http(`${url}/admin/dlq/redrive`, 'POST', { key: 'ord-nope' });
    expect(unknown).toMatchObject({ status: 404, type: expect.stringContaining('application/problem+json'), body: { code: 'SHOAL_DLQ_KEY_UNKNOWN', status: 404 } });
    expect(await http(`${url}/admin/dlq/skip`, 'POST', { key: BAD, group: 'billing' })).toMatchObject({ status: 404, body: { code: 'SHOAL_DLQ_KEY_UNKNOWN' } });
    for (const [path, body] of [
      ['redrive', { key: 42 }],
      ['redrive', { orderId: BAD }],
      ['redrive', []],
      ['skip', {}],
      ['skip', { key: '' }],
    ] as const) {
      expect(await http(`${url}/admin/dlq/${path}`, 'POST', body), `${path} ${JSON.stringify(body)}`).toMatchObject({
        status: 400,
        type: expect.stringContaining('application/problem+json'),
        body: { code: 'SHOAL_REQUEST_INVALID' },
      });
    }

    // Not fixed yet: it fails again and stays.
    expect(await http<DlqRedriveBody>(`${url}/admin/dlq/redrive`, 'POST', { key: BAD })).toEqual({
      status: 200,
      type: expect.stringContaining('application/json'),
      body: { results: [{ group: 'parking-test', key: BAD, handled: 0, stillParked: 5, error: { code: 'SHOAL_EVENT_DATA_INVALID', message: `order ${BAD} cannot be handled until it is fixed` } }] },
    });
    writeFileSync(failFile, '');
    expect((await http<DlqRedriveBody>(`${url}/admin/dlq/redrive`, 'POST', {})).body).toEqual({ results: [{ group: 'parking-test', key: BAD, handled: 6, stillParked: 0 }] });
    expect((await handledOf(url, BAD)).map((row) => row.eventId)).toEqual(bad.map((event) => event.id));
    expect((await http<DlqListBody>(`${url}/admin/dlq`)).body.groups[0]!.deadLetters).toEqual([]);
    expect((await http<DlqRedriveBody>(`${url}/admin/dlq/redrive`, 'POST', {})).body).toEqual({ results: [] });
  });

  it.skipIf(adapter.missing !== undefined)('skip drops the dead letter and releases the parked records in order', async () => {
    const platform = await startTestPlatform();
    const failFile = join(tempDir('parking'), 'failing');
    writeFileSync(failFile, `${BAD}\n`);
    const { host } = await startTestService(parkingServiceSpec, buildParkingService, { platform, env: { PARKING_FAIL_FILE: failFile, HOST: '127.0.0.1', ...(await databaseEnv(adapter)) } });
    const { bad, mixed } = traffic(3);
    await (await publisherFor(platform)).publishBatch(mixed);
    await eventually(async () => expect((await http<DlqListBody>(`${host.url}/admin/dlq`)).body.groups[0]!.deadLetters[0]?.parked).toHaveLength(3));
    writeFileSync(failFile, '');
    expect((await http<DlqSkipBody>(`${host.url}/admin/dlq/skip`, 'POST', { key: BAD })).body).toEqual({
      results: [{ group: 'parking-test', key: BAD, skipped: bad[0]!.id, handled: 3, stillParked: 0 }],
    });
    expect((await handledOf(host.url, BAD)).map((row) => row.sequence)).toEqual([1, 2, 3]);
    expect(await http(`${host.url}/admin/dlq/skip`, 'POST', { key: BAD })).toMatchObject({ status: 404, body: { code: 'SHOAL_DLQ_KEY_UNKNOWN' } });
  });
});

describe('the dead-letter admin routes of a service process on SQLite', () => {
  it('keep parked records across a SIGKILL of the service, and redrive them once each, in order, after the restart', async () => {
    const platform = await startTestPlatform();
    const dir = tempDir('parking');
    const failFile = join(dir, 'failing');
    writeFileSync(failFile, `${BAD}\n`);
    const settings = { bootstrap: platform.bootstrap, registryUrl: platform.registryUrl, dataDir: join(dir, 'data'), port: await freePort(), failFile };
    const first = await parkingServiceProcess(settings);
    const { bad, mixed } = traffic(8);
    const publisher = await publisherFor(platform);
    await publisher.publishBatch(mixed);
    await eventually(async () => expect((await http<DlqListBody>(`${first.url}/admin/dlq`)).body.groups[0]!.deadLetters[0]?.parked).toHaveLength(8), {
      what: () => `8 records parked; the service's output:\n${first.output()}`,
    });
    await eventually(async () => expect((await handledOf(first.url, 'ord-39')).length).toBe(5));
    const before = (await http<DlqListBody>(`${first.url}/admin/dlq`)).body;

    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = await parkingServiceProcess(settings);
    expect((await http<DlqListBody>(`${second.url}/admin/dlq`)).body).toEqual(before);
    // Records of the key that arrive after the restart still wait behind the parked ones.
    const after = orderPlaced(BAD, 9);
    await publisher.publishBatch([after]);
    await eventually(async () => expect((await http<DlqListBody>(`${second.url}/admin/dlq`)).body.groups[0]!.deadLetters[0]?.parked).toHaveLength(9));
    writeFileSync(failFile, '');
    expect((await http<DlqRedriveBody>(`${second.url}/admin/dlq/redrive`, 'POST', { key: BAD, group: 'parking-test' })).body).toEqual({
      results: [{ group: 'parking-test', key: BAD, handled: 10, stillParked: 0 }],
    });
    expect((await handledOf(second.url, BAD)).map((row) => row.eventId)).toEqual([...bad, after].map((event) => event.id));
    const others = await Promise.all(Array.from({ length: 40 }, (_, n) => handledOf(second.url, `ord-${n}`)));
    expect(others.flat()).toHaveLength(200);
    expect(new Set(others.flat().map((row) => row.eventId)).size).toBe(200);
    // Two service processes, the second waiting out the first's session (10 s) before it gets the partitions.
  }, 120_000);
});
