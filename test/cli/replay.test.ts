import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '@shoal/testing';
import type { Projector } from '@shoal/projections';
import { createServiceApp, createServiceLogger, projectionAdminRoutes } from '@shoal/service';
import { eventually, orderProjection, publishOrders, startProjectionPlatform } from '@shoal/projections/testing';
import { formatDuration, progressBar, progressLine } from '../../infra/cli/src/commands/replay.js';
import { shoal } from './helpers.js';

/** A bare service host: the projection admin routes of `projectors` on a real socket; its base URL. */
async function serviceFor(projectors: Projector[]): Promise<string> {
  const app = createServiceApp({ logger: createServiceLogger('test', 'silent') });
  await app.register(projectionAdminRoutes, { projectors });
  onTestFinished(() => app.close());
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** A port nothing listens on: one the system just handed out and took back (fetch refuses the well-known ones). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `orders.order[1] 3300/3300 events (100%) ...` lines of the output, by partition: the last one of each. */
function finalLines(out: string): Map<number, string> {
  const lines = new Map<number, string>();
  for (const match of out.matchAll(/^orders\.order\[(\d)\] (.*)$/gm)) lines.set(Number(match[1]), match[2]!);
  return lines;
}

describe('shoal replay', () => {
  it('rebuilds a projection of a running service, printing progress per partition and a summary', async () => {
    const platform = await startProjectionPlatform();
    const published = await publishOrders(platform.publisher, 0, 9000);
    const projector = platform.projector({ projection: orderProjection(), dataDir: tempDir('projection') });
    await projector.start();
    await projector.whenCaughtUp();
    const url = await serviceFor([projector]);

    const run = await shoal(['replay', 'order-view', 'order-counts', '--url', url, '--interval', '50']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.out.trimEnd().split('\n');
    expect(lines[0]).toBe('rebuilding order-view/order-counts v1 (generation 2) from the beginning: 9000 events to replay');
    // Piped output: a line per partition that moved, the last of each at 100%.
    const perPartition = new Map<number, number>();
    for (const { partition } of published) perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1);
    const last = finalLines(run.out);
    expect([...last.keys()].sort()).toEqual([0, 1, 2]);
    for (const [partition, line] of last) expect(line).toMatch(new RegExp(`^${perPartition.get(partition)}/${perPartition.get(partition)} events \\(100%\\) \\d+ events/s ETA 0s$`));
    expect(lines.at(-1)).toMatch(/^swapped in order-view\/order-counts v1 \(generation 2\): 9000 events replayed in \d+\.\ds \(\d+ events\/s\)$/);
    expect(projector.status()).toMatchObject({ model: { generation: 2 }, rebuilding: false, rebuild: { state: 'swapped', done: 9000 } });

    const started = await shoal(['replay', 'order-view', 'order-counts', '--url', `${url}/`, '--from-timestamp', '1970-01-01T00:00:00Z', '--no-wait']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.out).toBe(
      `started rebuilding order-view/order-counts v1 (generation 3) from 1970-01-01T00:00:00.000Z: 9000 events to replay; follow it at ${url}/admin/projections/order-counts\n`,
    );
    await eventually(() => expect(projector.status().rebuild).toMatchObject({ generation: 3, state: 'swapped', from: { timestamp: 0 } }));
  });

  it('exits 1 with the reason when the rebuild fails, the projection is unknown or the service cannot be reached', async () => {
    const platform = await startProjectionPlatform();
    await publishOrders(platform.publisher, 0, 2000);
    const dataDir = tempDir('projection');
    const first = platform.projector({ projection: orderProjection(), dataDir });
    await first.start();
    await first.whenCaughtUp();
    await first.stop();
    // The live model is past event 777; only a replay meets the handler that now refuses it.
    const projector = platform.projector({ projection: orderProjection({ failOn: 777 }), dataDir });
    await projector.start();
    const url = await serviceFor([projector]);

    const failed = await shoal(['replay', 'order-view', 'order-counts', '--url', url, '--interval', '50']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^rebuild failed order-view\/order-counts v1 \(generation 2\) after \d+ of 2000 events: SHOAL_HANDLER_FAILED: The handler of shoal\.orders\.OrderPlaced/);
    expect(failed.stderr).toContain('the live model is unchanged');
    expect(projector.status()).toMatchObject({ state: 'running', model: { generation: 1 } });

    const unknown = await shoal(['replay', 'order-view', 'nope', '--url', url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("shoal replay: order-view: No projection named 'nope' here (known: order-counts)\n");

    const nobody = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = await shoal(['replay', 'order-view', 'order-counts', '--url', nobody]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(`shoal replay: cannot reach order-view at ${nobody} (ECONNREFUSED): is it running? give its address with --url\n`);
  });

  it('refuses bad arguments as usage errors (exit 2) before asking anything', async () => {
    const unknownService = await shoal(['replay', 'billing', 'invoices']);
    expect(unknownService.code).toBe(2);
    expect(unknownService.stderr).toContain("'billing' is not a service with a default port");
    expect(unknownService.stderr).toContain('--url');
    expect(unknownService.stderr).toContain('Usage: shoal replay');

    const both = await shoal(['replay', 'order-view', 'orders', '--from-beginning', '--from-timestamp', '0']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');

    const badTime = await shoal(['replay', 'order-view', 'orders', '--from-timestamp', 'last tuesday']);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--from-timestamp: Cannot read "last tuesday" as a time');

    const missing = await shoal(['replay', 'order-view']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('name the service and the projection');
  });

  it('formats progress lines, bars and durations', () => {
    const partition = { topic: 'orders.order', partition: 2, done: 1200, total: 4800, eventsPerSecond: 3000.4, etaSeconds: 2, caughtUp: false };
    expect(progressLine(partition)).toBe('orders.order[2] 1200/4800 events (25%) 3000 events/s ETA 2s');
    expect(progressBar('orders.order[2]', partition, 16, 8)).toBe('orders.order[2]  ██░░░░░░  25%  1,200/4,800 events  3,000 events/s  ETA 2s');
    expect(progressBar('total', { done: 0, total: 0, eventsPerSecond: 0, etaSeconds: 0 }, 5, 4)).toBe('total ████ 100%  0/0 events  0 events/s  ETA 0s');
    expect([null, 0, 59.4, 61, 3599, 3600, 7325].map(formatDuration)).toEqual(['-', '0s', '59s', '1m 01s', '59m 59s', '1h 00m', '2h 02m']);
  });
});
