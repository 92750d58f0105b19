import { eventually, recordsOnTopics } from '@shoal/testing';
import { createServer } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ShoalError } from '@shoal/core';
import { createEvent } from '@shoal/contract';
import { Publisher } from '@shoal/transport';
import { startTestPlatform } from '@shoal/contract/testing';
import { defineProjection } from '@shoal/projections';
import { defineServiceConfig, integerSetting } from './config.js';
import type { ServiceHost } from './service-host.js';
import { ServiceHost as Host } from './service-host.js';
import { consumedEvents, startTestService } from './testing/index.js';
import { sqliteOnly } from '@shoal/store-sqlite';
import { startPostgres, postgresMissingReason } from '@shoal/postgres';

/**
 * A small service composed the way the reference services are: a database whose route emits an event, a
 * subscription that records what it hears, a projection, a component. Everything runs for real: kafkajs
 * against the broker, HTTP through fastify, SQLite files in a temp dir.
 */
const spec = defineServiceConfig({
  service: 'echo',
  defaultPort: 3999,
  settings: { greeting: integerSetting('ECHO_GREETING', { default: 1, min: 0, doc: 'test setting' }) },
});

const notifications = defineProjection({
  name: 'notifications',
  version: 1,
  topics: ['notifications.notification'],
  migrate: ({ sql }) => sql.run('CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, customer TEXT NOT NULL)'),
  handlers: {
    'shoal.notifications.CustomerNotified': (event, { sql }) => sql.run('INSERT INTO seen (id, customer) VALUES (?, ?) ON CONFLICT (id) DO NOTHING', [event.id, event.data.customerId]),
  },
});

async function buildEcho(host: ServiceHost) {
  const database = sqliteOnly(await host.openDatabase(), 'The echo service');
  database.db.exec('CREATE TABLE IF NOT EXISTS heard (id TEXT PRIMARY KEY, customer TEXT NOT NULL)');
  host.subscribe({
    database,
    topics: ['notifications.notification'],
    handlers: {
      'shoal.notifications.CustomerNotified': (event, tx) => {
        if (event.data.message === 'poison') throw new ShoalError('SHOAL_EVENT_DATA_INVALID', 'poison message');
        tx.db.prepare('INSERT INTO heard (id, customer) VALUES (?, ?)').run(event.id, event.data.customerId);
      },
    },
    retry: { attempts: 1 },
  });
  host.projector(notifications);
  host.routes(async (app) => {
    app.post<{ Params: { customer: string }; Body: { message: string } }>(
      '/notify/:customer',
      {
        schema: {
          params: { type: 'object', properties: { customer: { type: 'string', maxLength: 20 } } },
          body: { type: 'object', required: ['message'], additionalProperties: false, properties: { message: { type: 'string', minLength: 1 } } },
        },
      },
      async (request, reply) => {
        const event = notified(host.source, request.params.customer, request.body.message);
        await database.transact((tx) => tx.emit(event));
        return reply.code(202).send({ id: event.id });
      },
    );
    app.get<{ Params: { customer: string } }>('/heard/:customer', async (request) => {
      const row = database.db.prepare('SELECT count(*) AS n FROM heard WHERE customer = ?').get(request.params.customer) as { n: number };
      if (row.n === 0) throw new ShoalError('SHOAL_NOT_FOUND', `Nothing heard for ${request.params.customer}`, { details: { customer: request.params.customer } });
      return { heard: row.n };
    });
    app.post('/refuse', async () => {
      throw new ShoalError('SHOAL_COMMAND_REJECTED', 'not in this state');
    });
    app.get('/explode', async () => {
      throw new Error('secret internal detail');
    });
  });
}

function notified(source: string, customerId: string, message: string) {
  return createEvent(
    'shoal.notifications.CustomerNotified',
    { notificationId: `n-${customerId}-${message}`, customerId, orderId: 'o-1', channel: 'EMAIL', template: 'test', message, notifiedAt: Date.now() },
    { source, subject: customerId, partitionKey: customerId },
  );
}


/** A service whose route emits an event: its database is all it has, on whatever DATABASE_URL says. */
async function buildEmitter(host: ServiceHost) {
  const database = await host.openDatabase();
  host.routes(async (app) => {
    app.post<{ Params: { customer: string } }>('/notify/:customer', async (request, reply) => {
      await database.transact((tx) => {
        tx.emit(notified(host.source, request.params.customer, 'hi'));
      });
      return reply.code(202).send();
    });
  });
}

describe('service host', () => {
  it('serves health, readiness with its checks, metrics, and a route whose event flows through the outbox, the broker and back', async () => {
    const { host, platform } = await startTestService(spec, buildEcho);
    expect(host.config.greeting).toBe(1);
    expect(Object.isFrozen(host.config)).toBe(true);

    const live = await host.app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toMatchObject({ status: 'live', service: 'echo', pid: process.pid });

    const ready = await host.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    const checks = ready.json().checks as Record<string, { ok: boolean }>;
    expect(Object.keys(checks).sort()).toEqual(['database:echo', 'host', 'outbox:echo', 'projection:notifications', 'subscription:echo']);
    expect(Object.values(checks).every((check) => check.ok)).toBe(true);

    for (const customer of ['c1', 'c1', 'c2']) {
      const response = await host.app.inject({ method: 'POST', url: `/notify/${customer}`, payload: { message: `hello ${Math.random()}` } });
      expect(response.statusCode).toBe(202);
    }
    await eventually(async () => {
      const heard = await host.app.inject({ method: 'GET', url: '/heard/c1' });
      expect(heard.json()).toEqual({ heard: 2 });
    });
    expect(await recordsOnTopics(platform.kafka(), 'notifications.notification')).toBe(3);

    const metrics = await eventually(async () => {
      const response = await host.app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/plain');
      expect(response.body).toMatch(/shoal_events_consumed_total\{group="echo",outcome="handled",service="echo"\} 3/);
      expect(response.body).toMatch(/shoal_projection_events_total\{projection="notifications",outcome="applied",service="echo"\} 3/);
      return response.body;
    });
    expect(metrics).toMatch(/shoal_events_published_total\{database="echo",service="echo"\} 3/);
    expect(metrics).toMatch(/shoal_outbox_backlog\{database="echo",service="echo"\} 0/);
    expect(metrics).toMatch(/shoal_consumer_handler_duration_seconds_count\{group="echo",service="echo"\} 3/);
    expect(metrics).toMatch(/shoal_consumer_lag\{group="echo",topic="notifications.notification",partition="\d",service="echo"\} 0/);
    expect(metrics).toMatch(/shoal_service_ready\{service="echo"\} 1/);
    expect(metrics).toMatch(/shoal_http_requests_total\{method="POST",route="\/notify\/:customer",status="202",service="echo"\} 3/);
    expect(metrics).toMatch(/process_cpu_user_seconds_total/);

    const admin = await host.app.inject({ method: 'GET', url: '/admin/projections/notifications' });
    expect(admin.statusCode).toBe(200);
    expect(admin.json()).toMatchObject({ name: 'notifications', applied: 3 });
  });

  it('answers every refusal as problem+json with a stable code', async () => {
    const { host } = await startTestService(spec, buildEcho);
    const problem = async (method: 'GET' | 'POST', url: string, payload?: string, contentType = 'application/json') => {
      const response = await host.app.inject({ method, url, ...(payload === undefined ? {} : { payload, headers: { 'content-type': contentType } }) });
      expect(response.headers['content-type']).toContain('application/problem+json');
      const body = response.json();
      expect(body.type).toBe(`urn:shoal:error:${body.code}`);
      expect(body.status).toBe(response.statusCode);
      return body as { status: number; code: string; detail: string; errors?: { path: string; message: string }[]; [k: string]: unknown };
    };

    expect(await problem('GET', '/nowhere')).toMatchObject({ status: 404, code: 'SHOAL_NOT_FOUND', title: 'Not Found', instance: '/nowhere' });
    expect(await problem('GET', '/heard/nobody')).toMatchObject({ status: 404, code: 'SHOAL_NOT_FOUND', customer: 'nobody' });
    expect(await problem('POST', '/refuse')).toMatchObject({ status: 409, code: 'SHOAL_COMMAND_REJECTED', detail: 'not in this state' });
    const invalid = await problem('POST', '/notify/c1', JSON.stringify({ message: '', extra: 1 }));
    expect(invalid).toMatchObject({ status: 400, code: 'SHOAL_REQUEST_INVALID' });
    expect(invalid.errors?.[0]?.path).toMatch(/^body/);
    expect(await problem('POST', '/notify/c1', '{"message": ')).toMatchObject({ status: 400, code: 'SHOAL_REQUEST_INVALID' });
    // A JSON body is validated as sent: no coercion of a number into the string the schema asks for.
    expect(await problem('POST', '/notify/c1', '{"message": 42}')).toMatchObject({ status: 400, code: 'SHOAL_REQUEST_INVALID', errors: [{ path: 'body/message' }] });
    expect(await problem('POST', '/notify/c1', 'message=x', 'application/x-www-form-urlencoded')).toMatchObject({ status: 415 });
    expect(await problem('POST', `/notify/${'x'.repeat(30)}`, '{"message":"m"}')).toMatchObject({ status: 400, code: 'SHOAL_REQUEST_INVALID' });
    expect(await problem('POST', `/notify/${'x'.repeat(200)}`, '{"message":"m"}')).toMatchObject({ status: 414, code: 'SHOAL_REQUEST_INVALID' });
    const internal = await problem('GET', '/explode');
    expect(internal).toMatchObject({ status: 500, code: 'SHOAL_HANDLER_FAILED' });
    expect(internal.detail).not.toContain('secret');
    expect(await problem('GET', '/admin/projections/unknown')).toMatchObject({ status: 404, code: 'SHOAL_PROJECTION_NOT_FOUND' });
  });

  it('dead-letters a poison event, parks the later events of its key, and keeps serving the others', async () => {
    const { host, platform } = await startTestService(spec, buildEcho);
    const publisher = new Publisher({ kafka: platform.kafka(), codec: platform.codec });
    await publisher.connect();
    onTestFinished(() => publisher.disconnect());
    await publisher.publish(notified('/shoal/test', 'c9', 'poison'));
    await publisher.publish(notified('/shoal/test', 'c9', 'fine'));
    await publisher.publish(notified('/shoal/test', 'c8', 'fine'));
    await eventually(async () => expect((await host.app.inject({ method: 'GET', url: '/heard/c8' })).json()).toEqual({ heard: 1 }));
    await eventually(async () => expect(await recordsOnTopics(platform.kafka(), 'echo.dlq')).toBe(1));
    await eventually(async () => expect(await consumedEvents(host, 'echo')).toMatchObject({ dead_lettered: 1, parked: 1 }));
    expect((await host.app.inject({ method: 'GET', url: '/heard/c9' })).statusCode).toBe(404);
    expect((await host.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    // Skipping the poison event releases the one parked behind it.
    const skipped = await host.app.inject({ method: 'POST', url: '/admin/dlq/skip', payload: { key: 'c9' } });
    expect(skipped.json()).toMatchObject({ results: [{ group: 'echo', key: 'c9', handled: 1, stillParked: 0 }] });
    expect((await host.app.inject({ method: 'GET', url: '/heard/c9' })).json()).toEqual({ heard: 1 });
  });

  it('drains the outbox on stop: what was committed is published before the process would end', async () => {
    const { host, platform } = await startTestService(spec, buildEcho);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => host.app.inject({ method: 'POST', url: '/notify/drain', payload: { message: `m${i}` } })),
    );
    expect(responses.every((response) => response.statusCode === 202)).toBe(true);
    await host.stop();
    expect(await recordsOnTopics(platform.kafka(), 'notifications.notification')).toBe(50);
    await expect(host.app.inject({ method: 'GET', url: '/health/live' })).rejects.toThrow();
  });

  it('is not ready while a restarted service works through what it missed, and is once it has', async () => {
    const platform = await startTestPlatform();
    const first = await startTestService(spec, buildEcho, { platform });
    await first.host.stop();
    const publisher = new Publisher({ kafka: platform.kafka(), codec: platform.codec });
    await publisher.connect();
    onTestFinished(() => publisher.disconnect());
    await publisher.publishBatch(Array.from({ length: 300 }, (_, i) => notified('/shoal/test', `k${i % 7}`, `missed ${i}`)), { topic: 'notifications.notification' });

    const second = await startTestService(spec, buildEcho, { platform, dataDir: first.dataDir, ready: false });
    const seen: number[] = [];
    await eventually(async () => {
      const response = await second.host.app.inject({ method: 'GET', url: '/health/ready' });
      seen.push(response.statusCode);
      expect(response.statusCode).toBe(200);
    }, { what: 'the restarted service ready', timeoutMs: 30_000 });
    const heard = second.host.metrics.registry.getSingleMetricAsString('shoal_events_consumed_total');
    expect(await heard).toMatch(/outcome="handled",service="echo"\} 300/);
  });

  it('names the variable to change when its port is taken, and reports every bad variable at once', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as { port: number }).port;
    const platform = await startTestPlatform();
    const config = spec.load({ KAFKA_BROKERS: platform.bootstrap, SCHEMA_REGISTRY_URL: platform.registryUrl, PORT: String(port), LOG_LEVEL: 'silent', SHOAL_DATA_DIR: '/tmp' });
    const host = new Host({ config, catalog: platform.catalog });
    onTestFinished(() => host.stop());
    await buildEcho(host);
    await expect(host.start()).rejects.toMatchObject({ code: 'SHOAL_PORT_IN_USE', message: `port ${port} on 127.0.0.1 is already in use: stop what holds it or choose another with PORT` });

    expect(() => spec.load({ PORT: 'eighty', KAFKA_BROKERS: 'nohost', LOG_LEVEL: 'loud', ECHO_GREETING: '-1' })).toThrow(
      /KAFKA_BROKERS="nohost": expected host:port.*; PORT="eighty" is not an integer; LOG_LEVEL="loud": expected one of .*; ECHO_GREETING=-1 is out of range/,
    );
  });

  it.skipIf(postgresMissingReason() !== undefined)('runs on the PostgreSQL database DATABASE_URL names, and is not ready while that server is down', async () => {
    const server = await startPostgres();
    onTestFinished(() => server.stop());
    const { host, platform } = await startTestService(spec, buildEmitter, { env: { DATABASE_URL: server.url('postgres') } });
    const ready = async () => (await host.app.inject({ method: 'GET', url: '/health/ready' })).json() as { status: string; checks: Record<string, { ok: boolean; detail: string }> };
    expect((await ready()).checks['database:echo']).toEqual({ ok: true, detail: 'postgres' });
    expect((await host.app.inject({ method: 'POST', url: '/notify/c1' })).statusCode).toBe(202);
    await eventually(async () => expect(await recordsOnTopics(platform.kafka(), 'notifications.notification')).toBe(1));

    await server.halt();
    await eventually(async () => expect((await ready()).checks['database:echo']!.ok).toBe(false), { timeoutMs: 20_000 });
    await server.restart();
    await eventually(async () => expect((await ready()).checks['database:echo']).toEqual({ ok: true, detail: 'postgres' }), { timeoutMs: 30_000 });
    expect((await host.app.inject({ method: 'POST', url: '/notify/c2' })).statusCode).toBe(202);
    await eventually(async () => expect(await recordsOnTopics(platform.kafka(), 'notifications.notification')).toBe(2), { timeoutMs: 30_000 });
  });
});
