import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, freePort, tempDir } from '@shoal/testing';
import { startTestPlatform } from '@shoal/contract/testing';
import type { DlqListBody } from '@shoal/consumer';
import { parkingTraffic } from '@shoal/consumer/testing';
import { parkingServiceProcess, publisherFor } from '@shoal/service/testing';
import { shoal } from './helpers.js';

const BAD = 'ord-42';
const OTHER = 'ord-43';

describe('shoal dlq', () => {
  it('lists the dead letters of a running service with their parked records, redrives and skips them', async () => {
    const platform = await startTestPlatform();
    const dir = tempDir('dlq-cli');
    const failFile = join(dir, 'failing');
    writeFileSync(failFile, `${BAD}\n${OTHER}\n`);
    const service = await parkingServiceProcess({ bootstrap: platform.bootstrap, registryUrl: platform.registryUrl, dataDir: join(dir, 'data'), port: await freePort(), failFile });
    const { url } = service;
    const empty = await shoal(['dlq', 'list', 'parking-test', '--url', url]);
    expect(empty).toMatchObject({ code: 0, out: 'no dead letters in parking-test\n' });

    const { keyed, all } = parkingTraffic(BAD, 2);
    const other = parkingTraffic(OTHER, 1).keyed;
    const publisher = await publisherFor(platform);
    const published = await publisher.publishBatch([...all, ...other]);
    const at = new Map(published.map((entry) => [entry.id, `orders.order[${entry.partition}]@${entry.offset}`]));
    const body = await eventually(async () => {
      const listed = (await (await fetch(`${url}/admin/dlq`)).json()) as DlqListBody;
      expect(listed.groups[0]!.deadLetters.map((letter) => [letter.key, letter.parked.length])).toEqual([
        [BAD, 2],
        [OTHER, 1],
      ]);
      return listed;
    });

    const json = await shoal(['dlq', 'list', 'parking-test', '--url', url, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.out)).toEqual(body);

    const list = await shoal(['dlq', 'list', 'parking-test', '--url', url]);
    expect(list.code, list.stderr).toBe(0);
    const failedAt = (key: string) => body.groups[0]!.deadLetters.find((letter) => letter.key === key)!.failedAt;
    const parkedAt = (key: string, n: number) => body.groups[0]!.deadLetters.find((letter) => letter.key === key)!.parked[n]!.parkedAt;
    const reason = (key: string) => `SHOAL_EVENT_DATA_INVALID (poison, 1 attempt): order ${key} cannot be handled until it is fixed`;
    expect(list.out).toBe(
      [
        `parking-test ${BAD}: ${at.get(keyed[0]!.id)} shoal.orders.OrderPlaced ${keyed[0]!.id} failed ${failedAt(BAD)} ${reason(BAD)}; 2 records parked`,
        `  parked ${at.get(keyed[1]!.id)} shoal.orders.OrderPlaced ${keyed[1]!.id} at ${parkedAt(BAD, 0)}`,
        `  parked ${at.get(keyed[2]!.id)} shoal.orders.OrderPlaced ${keyed[2]!.id} at ${parkedAt(BAD, 1)}`,
        `parking-test ${OTHER}: ${at.get(other[0]!.id)} shoal.orders.OrderPlaced ${other[0]!.id} failed ${failedAt(OTHER)} ${reason(OTHER)}; 1 record parked`,
        `  parked ${at.get(other[1]!.id)} shoal.orders.OrderPlaced ${other[1]!.id} at ${parkedAt(OTHER, 0)}`,
        '',
      ].join('\n'),
    );

    // Not fixed: the redrive fails again, everything stays, exit 1.
    const again = await shoal(['dlq', 'redrive', 'parking-test', '--url', url, '--key', BAD]);
    expect(again.code).toBe(1);
    expect(again.out).toBe(
      `redrove parking-test ${BAD}: 0 records handled; then a record failed again: SHOAL_EVENT_DATA_INVALID: order ${BAD} cannot be handled until it is fixed; it is the dead letter now, 2 records parked behind it\n`,
    );

    writeFileSync(failFile, '');
    const redriven = await shoal(['dlq', 'redrive', 'parking-test', '--url', url, '--key', BAD]);
    expect(redriven).toMatchObject({ code: 0, out: `redrove parking-test ${BAD}: 3 records handled\n` });
    const handled = (await (await fetch(`${url}/handled/${BAD}`)).json()) as { handled: Array<{ eventId: string }> };
    expect(handled.handled.map((row) => row.eventId)).toEqual(keyed.map((event) => event.id));

    const skipped = await shoal(['dlq', 'skip', 'parking-test', '--url', url, '--key', OTHER, '--json']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(JSON.parse(skipped.out)).toEqual({ results: [{ group: 'parking-test', key: OTHER, skipped: other[0]!.id, handled: 1, stillParked: 0 }] });
    const skippedHandled = (await (await fetch(`${url}/handled/${OTHER}`)).json()) as { handled: Array<{ eventId: string }> };
    expect(skippedHandled.handled.map((row) => row.eventId)).toEqual([other[1]!.id]);

    expect(await shoal(['dlq', 'list', 'parking-test', '--url', url])).toMatchObject({ code: 0, out: 'no dead letters in parking-test\n' });
    expect(await shoal(['dlq', 'redrive', 'parking-test', '--url', url])).toMatchObject({ code: 0, out: 'no dead letters to redrive in parking-test\n' });
    const unknown = await shoal(['dlq', 'skip', 'parking-test', '--url', url, '--key', OTHER]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`shoal dlq: parking-test: No dead letter of key '${OTHER}' in group parking-test\n`);
    // A service process and a dozen CLI processes: on a busy two-core machine that takes more than the default minute.
  }, 180_000);

  it('refuses bad arguments as usage errors (exit 2) before asking anything', async () => {
    for (const [args, reason] of [
      [['dlq'], 'name what to do: list, redrive or skip'],
      [['dlq', 'purge', 'inventory'], "unknown action 'purge'"],
      [['dlq', 'list'], 'name the service'],
      [['dlq', 'skip', 'inventory'], 'skip needs the --key'],
      [['dlq', 'list', 'inventory', '--key', 'o-1'], 'list takes no --key'],
      [['dlq', 'redrive', 'inventory', '--key', ''], '--key is empty'],
      [['dlq', 'redrive', 'billing'], "'billing' is not a service with a default port"],
      [['dlq', 'list', 'inventory', '--url', 'ftp://x'], '--url expects an http(s) URL'],
      [['dlq', 'list', 'inventory', '--force'], "Unknown option '--force'"],
    ] as const) {
      const run = await shoal(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toContain(reason);
      expect(run.stderr).toContain('Usage: shoal dlq');
    }
  });
});
