/** The outbox commit spans of a traced database: each event carries the trace of the code that asked for its transaction. */
import { describe, expect, it } from 'vitest';
import { createEvent, loadSchemaCatalog } from '@shoal/contract';
import { eventOfRow } from '@shoal/store';
import { readTracingConfig, startTracing } from '@shoal/telemetry';
import { startOtlpReceiver } from '@shoal/telemetry/testing';
import { eventually } from '@shoal/testing';
import { openTestDatabase } from './testing/index.js';

const catalog = loadSchemaCatalog();
const shipped = (orderId: string) =>
  createEvent('shoal.orders.OrderShipped', { orderId, customerId: 'c-1', shipmentId: `s-${orderId}`, trackingNumber: 'T-1', shippedAt: 0 }, { source: '/shoal/orders', subject: orderId });

describe('a traced service database', () => {
  it("gives a queued transaction's events the trace it was asked for in, not the one whose commit started it", async () => {
    const receiver = await startOtlpReceiver();
    const tracing = await startTracing(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'orders')!);
    const database = openTestDatabase(catalog, { tracing });
    const traceA = 'a'.repeat(32);
    const traceB = 'b'.repeat(32);
    const requestA = tracing.httpServer('POST', '/a', { traceparent: `00-${traceA}-${'1'.repeat(16)}-01` });
    const requestB = tracing.httpServer('POST', '/b', { traceparent: `00-${traceB}-${'2'.repeat(16)}-01` });

    let releaseA!: () => void;
    const aWaits = new Promise<void>((resolve) => (releaseA = resolve));
    // A holds the connection across an await; B, asked for meanwhile, queues and starts from A's commit.
    const first = requestA.run(() =>
      database.transact(async (tx) => {
        await aWaits;
        tx.emit(shipped('o-a'));
      }),
    );
    const second = requestB.run(() => database.transact((tx) => tx.emit(shipped('o-b'))));
    releaseA();
    await Promise.all([first, second]);
    const failed = requestA.run(() =>
      database.transact((tx) => {
        tx.emit(shipped('o-rolled-back'));
        throw new Error('changed its mind');
      }),
    );
    await expect(failed).rejects.toThrow('changed its mind');
    requestA.end(201, '/a');
    requestB.end(201, '/b');

    const events = (await database.outbox.rowsAfter(0, 10)).map(eventOfRow);
    expect(events.map((event) => event.subject)).toEqual(['o-a', 'o-b']);
    const [a, b] = events;
    expect(a!.traceparent).toMatch(new RegExp(`^00-${traceA}-[0-9a-f]{16}-01$`));
    expect(b!.traceparent).toMatch(new RegExp(`^00-${traceB}-[0-9a-f]{16}-01$`));

    await tracing.flush();
    const spans = await eventually(() => {
      const received = receiver.spans();
      expect(received.filter((span) => span.name === 'commit orders.order')).toHaveLength(3);
      return received;
    }, 'the three commit spans');
    const commitOf = (orderId: string) => spans.find((span) => span.name === 'commit orders.order' && span.attributes['messaging.kafka.message.key'] === orderId)!;
    expect(commitOf('o-a').parentSpanId).toBe(spans.find((span) => span.name === 'POST /a')!.spanId);
    expect(commitOf('o-b').parentSpanId).toBe(spans.find((span) => span.name === 'POST /b')!.spanId);
    expect(a!.traceparent).toContain(commitOf('o-a').spanId);
    expect(commitOf('o-rolled-back').status).toEqual({ code: 2, message: 'rolled back: changed its mind' });
    expect(commitOf('o-a').status.code).toBe(0);
    await tracing.shutdown();
  });
});
