import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isShoalError } from '@shoal/core';
import { loadSchemaCatalog } from '@shoal/contract';
import { tempDir } from '@shoal/testing';
import { durationMs, loadSidecarConfig } from './sidecar-config.js';

const catalog = loadSchemaCatalog();

function file(name: string, text: string): string {
  const path = join(tempDir('sidecar-config'), name);
  writeFileSync(path, text);
  return path;
}

const valid = `
service: loyalty
port: 3507
app: http://127.0.0.1:3007
subscriptions:
  - topic: orders.order
    types: [shoal.orders.OrderShipped]
    path: /events/order-shipped
publishes: [shoal.loyalty.PointsAwarded]
timers:
  - { name: hourly-summary, every: 1h, path: /timers/hourly-summary }
retries: { attempts: 5 }
`;

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (isShoalError(error, 'SHOAL_CONFIG_INVALID')) return (error.details?.problems as string[] | undefined) ?? [error.message];
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('the sidecar configuration', () => {
  it('reads YAML and JSON alike, with defaults, and the environment overriding port and app', () => {
    const config = loadSidecarConfig(file('loyalty.yaml', valid), catalog, {});
    expect(config).toMatchObject({
      service: 'loyalty',
      port: 3507,
      app: 'http://127.0.0.1:3007',
      health: '/health',
      subscriptions: [{ topic: 'orders.order', types: ['shoal.orders.OrderShipped'], path: '/events/order-shipped' }],
      timers: [{ name: 'hourly-summary', everyMs: 3_600_000, path: '/timers/hourly-summary' }],
      retries: { attempts: 5, initialMs: 200, maxMs: 30_000 },
      timeoutMs: 10_000,
    });
    expect(config.host).toMatchObject({ service: 'loyalty', port: 3507, kafkaBrokers: ['127.0.0.1:9092'] });
    const json = file('loyalty.json', JSON.stringify({ service: 'loyalty', port: 1, app: 'http://h:2/', publishes: ['shoal.loyalty.PointsRevoked'] }));
    const moved = loadSidecarConfig(json, catalog, { PORT: '46001', SHOAL_SIDECAR_APP: 'http://127.0.0.1:46002', KAFKA_BROKERS: 'k:1' });
    expect(moved).toMatchObject({ port: 46001, app: 'http://127.0.0.1:46002', publishes: ['shoal.loyalty.PointsRevoked'] });
    expect(moved.host.kafkaBrokers).toEqual(['k:1']);
  });

  it('names every mistake at once', () => {
    const bad = file(
      'bad.yaml',
      `
service: Loyalty
port: 99999
app: ftp://x
colour: blue
subscriptions:
  - topic: orders.nothing
    types: [shoal.orders.OrderShipped]
    path: events
  - topic: orders.order
    types: [shoal.payments.PaymentRefunded]
    path: /x
publishes: [shoal.loyalty.Nothing]
timers:
  - { name: t, every: often, path: /t }
retries: { attempts: 0, tries: 3 }
publishedRetention: 10s
`,
    );
    expect(problemsOf(() => loadSidecarConfig(bad, catalog, {}))).toEqual([
      expect.stringMatching(/^colour: unknown setting/),
      expect.stringMatching(/^service: a lower-case name/),
      expect.stringMatching(/^port: a port number/),
      expect.stringMatching(/^app: an http\(s\) URL is expected, got "ftp:\/\/x"/),
      expect.stringMatching(/^subscriptions\[0\]\.topic: "orders\.nothing" is not a topic/),
      expect.stringMatching(/^subscriptions\[0\]\.path: a path starting with \//),
      expect.stringMatching(/^subscriptions\[1\]\.types\[0\]: shoal\.payments\.PaymentRefunded is not an event of orders\.order/),
      expect.stringMatching(/^publishes\[0\]: "shoal\.loyalty\.Nothing" is not an event type/),
      expect.stringMatching(/^timers\[0\]\.every: a duration/),
      expect.stringMatching(/^retries\.attempts: an integer from 1 to 100/),
      expect.stringMatching(/^retries\.tries: unknown setting/),
      expect.stringMatching(/^publishedRetention: a duration of at least 1m is expected \(7d, 12h\), got "10s"/),
    ]);
  });

  it('refuses a file it cannot read or parse, and a bad variable, naming it', () => {
    expect(problemsOf(() => loadSidecarConfig('/no/such/file.yaml', catalog, {}))[0]).toMatch(/Cannot read the sidecar configuration \/no\/such\/file\.yaml/);
    expect(problemsOf(() => loadSidecarConfig(file('x.yaml', 'service: [unclosed'), catalog, {}))[0]).toMatch(/neither YAML nor JSON/);
    expect(problemsOf(() => loadSidecarConfig(file('l.yaml', valid), catalog, { SHOAL_SIDECAR_APP: 'nope' }))).toEqual([expect.stringMatching(/^SHOAL_SIDECAR_APP="nope"/)]);
  });

  it('reads durations', () => {
    expect([durationMs('500ms'), durationMs('30s'), durationMs('5m'), durationMs('1h'), durationMs('1d'), durationMs(250), durationMs('soon')]).toEqual([500, 30_000, 300_000, 3_600_000, 86_400_000, 250, undefined]);
  });
});
