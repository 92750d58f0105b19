import { createEvent } from '@shoal/contract';
import { eventually } from '@shoal/testing';
import { describe, expect, it } from 'vitest';
import { SPAN_KIND, startOtlpReceiver, type ReceivedSpan } from './testing/index.js';
import { readTracingConfig } from './tracing-config.js';
import { startTracing } from './start-tracing.js';

const placed = () =>
  createEvent(
    'shoal.orders.OrderPlaced',
    { orderId: 'o-1', customerId: 'c-1', lines: [{ sku: 'sku-1', quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } }], total: { amount: 100, currency: 'EUR' }, shippingAddress: null, placedAt: 0 },
    { source: '/shoal/orders', subject: 'o-1' },
  );

describe.each(['http/json', 'http/protobuf'] as const)('tracing exported over OTLP %s to a receiver', (protocol) => {
  it('chains request, commit, send and process spans through the events, with the messaging attributes', async () => {
    const receiver = await startOtlpReceiver();
    const config = readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol }, 'orders')!;
    const tracing = await startTracing(config);

    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const request = tracing.httpServer('POST', '/orders?dry=0', { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`, tracestate: 'vendor=1' });
    const { context } = await import('@opentelemetry/api');
    const commit = tracing.outboxCommit();
    const stored = context.with(request.context, () => commit.stamp(placed(), 'orders.order'));
    commit.end();
    request.end(201, '/orders');
    expect(stored.traceparent).toMatch(new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-01$`));
    expect(stored.extensions?.['tracestate']).toBe('vendor=1');

    const sending = tracing.publishing([{ event: stored, topic: 'orders.order', key: 'o-1' }]);
    sending.end([{ partition: 2, offset: '41' }]);
    const handled = tracing.handling(stored, { topic: 'orders.order', partition: 2, offset: '41', key: 'o-1' }, 'inventory', () => 'handled');
    expect(handled).toBe('handled');
    expect(() => tracing.applying('order-view', stored, { topic: 'orders.order', partition: 2, offset: '41', key: 'o-1' }, 'order-view.projection', () => {
      throw new Error('model broken');
    })).toThrow('model broken');
    await tracing.flush();

    const spans = await eventually(() => {
      const received = receiver.spans();
      expect(received).toHaveLength(5);
      return received;
    }, 'the five spans at the receiver');
    const byName = (name: string) => spans.find((span) => span.name === name) as ReceivedSpan;
    const http = byName('POST /orders');
    const committed = byName('commit orders.order');
    const sent = byName('send orders.order');
    const processed = byName('process orders.order');
    const applied = byName('apply orders.order');
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([callerTrace]));
    expect(http).toMatchObject({ kind: SPAN_KIND.server, parentSpanId: '00f067aa0ba902b7', service: 'orders' });
    expect(http.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/orders', 'http.response.status_code': 201, 'url.path': '/orders', 'url.query': 'dry=0' });
    expect(committed).toMatchObject({ kind: SPAN_KIND.producer, parentSpanId: http.spanId });
    expect(stored.traceparent).toBe(`00-${callerTrace}-${committed.spanId}-01`);
    expect(sent).toMatchObject({ kind: SPAN_KIND.producer, parentSpanId: committed.spanId });
    expect(sent.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'orders.order',
      'messaging.destination.partition.id': '2',
      'messaging.kafka.offset': 41,
      'messaging.message.id': stored.id,
      'messaging.kafka.message.key': 'o-1',
      'cloudevents.event_type': 'shoal.orders.OrderPlaced',
    });
    expect(processed).toMatchObject({ kind: SPAN_KIND.consumer, parentSpanId: committed.spanId });
    expect(processed.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'messaging.consumer.group.name': 'inventory', 'messaging.kafka.offset': 41, 'messaging.message.id': stored.id });
    expect(applied).toMatchObject({ kind: SPAN_KIND.consumer, parentSpanId: committed.spanId, status: { code: 2, message: 'model broken' } });
    expect(applied.attributes).toMatchObject({ 'shoal.projection.name': 'order-view' });
    expect(receiver.contentTypes()[0]).toBe(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
    await tracing.shutdown();
  });
});

describe('the OTLP receiver that only counts', () => {
  it.each(['http/json', 'http/protobuf'] as const)('counts the spans of %s exports without keeping them', async (protocol) => {
    const receiver = await startOtlpReceiver({ keepSpans: false });
    const tracing = await startTracing(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol }, 'orders')!);
    const commit = tracing.outboxCommit();
    for (let i = 0; i < 3; i++) commit.stamp(placed(), 'orders.order');
    commit.end();
    await tracing.flush();
    await eventually(() => expect(receiver.spanCount()).toBe(3), 'three spans counted');
    expect(receiver.spans()).toEqual([]);
    await tracing.shutdown();
  });
});

describe('the span of an asynchronous handler', () => {
  it('lasts until its promise settles, and keeps its context across the awaits', async () => {
    const receiver = await startOtlpReceiver();
    const tracing = await startTracing(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'inventory')!);
    const origin = { topic: 'orders.order', partition: 0, offset: '7', key: 'o-1' };
    const event = tracing.withContext(placed(), tracing.contextOf({ traceparent: `00-${'c'.repeat(32)}-${'3'.repeat(16)}-01` }));
    const commit = tracing.outboxCommit();
    const emitted = await tracing.handling(event, origin, 'inventory', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return commit.stamp(placed(), 'inventory.reservation');
    });
    commit.end();
    await expect(
      tracing.handling(event, origin, 'inventory', async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new Error('stock table locked');
      }),
    ).rejects.toThrow('stock table locked');
    await tracing.flush();
    const spans = await eventually(() => {
      const received = receiver.spans();
      expect(received).toHaveLength(3);
      return received;
    }, 'two process spans and a commit');
    const [handled, failed] = spans.filter((span) => span.name === 'process orders.order');
    const committed = spans.find((span) => span.name === 'commit inventory.reservation')!;
    // The commit made after the handler's await is still its child.
    expect(committed.parentSpanId).toBe(handled!.spanId);
    expect(emitted.traceparent).toBe(`00-${'c'.repeat(32)}-${committed.spanId}-01`);
    expect(failed!.status).toEqual({ code: 2, message: 'stock table locked' });
    expect(handled!.status.code).toBe(0);
    await tracing.shutdown();
  });
});
