/**
 * One order's trace across the whole platform: `shoal dev` with tracing on (OTEL_* variables, OTLP/HTTP JSON)
 * exporting through the real exporter to a receiver this test runs. The order is placed and its shipment
 * dispatched by a client that sends its own W3C traceparent; every span of the flow must then be in that
 * trace, each with the right parent: request → outbox commit → relay send, and commit → handler (or projection)
 * → the commits of what the handler emitted, across every service shoal dev runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually, uniqueName } from '@shoal/testing';
import { SPAN_KIND, startOtlpReceiver, type ReceivedSpan } from '@shoal/telemetry/testing';
import { viewedAs } from './support/scenarios.js';
import { SERVICES, startShoalDev } from './support/shoal-dev.js';
import { PLATFORM_WAIT, Shop, type Shipment } from './support/shop.js';

/** The happy path's events, by the service that emits them. */
const FLOW: readonly [string, string][] = [
  ['orders', 'shoal.orders.OrderPlaced'],
  ['inventory', 'shoal.inventory.StockReserved'],
  ['payments', 'shoal.payments.PaymentAuthorized'],
  ['orders', 'shoal.orders.OrderConfirmed'],
  ['shipping', 'shoal.shipping.ShipmentScheduled'],
  ['shipping', 'shoal.shipping.ShipmentDispatched'],
  ['orders', 'shoal.orders.OrderShipped'],
  ['notifications', 'shoal.notifications.CustomerNotified'],
];

describe('tracing across every hop, through shoal dev', () => {
  it('gives one order one trace: the requests, every outbox commit, relay send, handler and projection apply, with correct parents', async () => {
    const receiver = await startOtlpReceiver();
    const dataDir = mkdtempSync(join(tmpdir(), 'shoal-tracing-'));
    const dev = await startShoalDev({
      dataDir,
      env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    });
    onTestFinished(async () => {
      if (dev.child.exitCode === null) await dev.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const shop = new Shop((service) => dev.url(service));
    const sku = uniqueName('SKU-TRACE');
    const customer = uniqueName('c-trace');
    await shop.setStock(sku, 10);
    await shop.setLimit(customer, 100_000, 'EUR');

    const traceId = randomBytes(16).toString('hex');
    const clientSpans = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
    const traced = (clientSpan: string) => ({ traceparent: `00-${traceId}-${clientSpan}-01` });
    const placed = await shop.request<{ orderId: string }>('orders', 'POST', '/orders', { customerId: customer, currency: 'EUR', lines: [{ sku, quantity: 1, unitPrice: 990 }] }, traced(clientSpans[0]!));
    expect(placed.status).toBe(201);
    const { orderId } = placed.body;
    const shipment = await eventually(async () => {
      const found = await shop.shipmentOf(orderId);
      expect(found?.status).toBe('SCHEDULED');
      return found!;
    }, PLATFORM_WAIT);
    const dispatched = await shop.request<Shipment>('shipping', 'POST', `/shipments/${encodeURIComponent(shipment.shipmentId)}/dispatch`, {}, traced(clientSpans[1]!));
    expect(dispatched.status).toBe(200);
    await viewedAs(shop, orderId, 'SHIPPED');

    // Every event of the flow committed, published, handled and projected: the spans arrive within the exporter's delay.
    const spans = await eventually(() => {
      const inTrace = receiver.spans().filter((span) => span.traceId === traceId);
      for (const [service, type] of FLOW) expect(inTrace.some((span) => span.service === service && span.name.startsWith('commit ') && span.attributes['cloudevents.event_type'] === type), `${service} commits ${type}`).toBe(true);
      const commits = inTrace.filter((span) => span.name.startsWith('commit '));
      for (const commit of commits) {
        const id = commit.attributes['messaging.message.id'];
        expect(inTrace.some((span) => span.name.startsWith('send ') && span.attributes['messaging.message.id'] === id), `the relay's send of ${commit.attributes['cloudevents.event_type']}`).toBe(true);
      }
      expect(inTrace.filter((span) => span.service === 'order-view' && span.name.startsWith('apply ')).length, 'order-view applies every order event').toBeGreaterThanOrEqual(7);
      expect(inTrace.filter((span) => span.service === 'notifications' && span.name.startsWith('process ')).length).toBeGreaterThanOrEqual(3);
      return inTrace;
    }, { what: "the order's spans at the receiver", timeoutMs: 60_000, intervalMs: 250 });

    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const parentOf = (span: ReceivedSpan) => (span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId));
    const event = (span: ReceivedSpan) => span.attributes['messaging.message.id'];

    // One tree under the client's two spans: no span starts a trace of its own or hangs off a span not in it.
    for (const span of spans) {
      if (span.kind === SPAN_KIND.server) expect(clientSpans).toContain(span.parentSpanId);
      else expect(parentOf(span), `the parent of ${span.service}'s ${span.name}`).toBeDefined();
    }
    // Every service shoal dev runs takes part in an order's flow, the one behind its sidecar too.
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(SERVICES));

    const requests = spans.filter((span) => span.kind === SPAN_KIND.server);
    expect(requests.map((span) => `${span.service} ${span.name}`).sort()).toEqual(['orders POST /orders', 'shipping POST /shipments/:id/dispatch']);
    for (const span of spans) {
      const parent = parentOf(span);
      if (span.name.startsWith('commit ')) {
        // A commit is the child of what emitted the event in the same service: a request or a handler.
        expect(parent!.service).toBe(span.service);
        expect(parent!.kind === SPAN_KIND.server || parent!.name.startsWith('process ')).toBe(true);
        expect(span.kind).toBe(SPAN_KIND.producer);
      } else if (span.name.startsWith('send ')) {
        // The relay's send continues the context stored with the outbox row: the commit of the same event.
        expect(parent!.name.startsWith('commit ')).toBe(true);
        expect(event(parent!)).toBe(event(span));
        expect(parent!.service).toBe(span.service);
        expect(span.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.destination.name': parent!.attributes['messaging.destination.name'] });
        expect(span.attributes['messaging.destination.partition.id']).toMatch(/^\d+$/);
      } else if (span.name.startsWith('process ') || span.name.startsWith('apply ')) {
        // A handler's span is the child of the commit of the event it handles, in the service that emitted it.
        expect(span.kind).toBe(SPAN_KIND.consumer);
        expect(parent!.name.startsWith('commit ')).toBe(true);
        expect(event(parent!)).toBe(event(span));
        expect(parent!.service).not.toBe(span.service);
        expect(span.name).toBe(`${span.name.split(' ')[0]} ${parent!.attributes['messaging.destination.name']}`);
        expect(span.attributes['messaging.consumer.group.name']).toEqual(expect.any(String));
        expect(span.attributes['messaging.destination.partition.id']).toMatch(/^\d+$/);
        expect(span.attributes['messaging.kafka.offset']).toEqual(expect.any(Number));
        expect(span.attributes['cloudevents.event_type']).toBe(parent!.attributes['cloudevents.event_type']);
      }
    }

    // The causal chain, hop by hop: each event's commit is the child of the handler of the one before it.
    const commitOf = (type: string) => spans.find((span) => span.name.startsWith('commit ') && span.attributes['cloudevents.event_type'] === type)!;
    const chain = ['shoal.orders.OrderPlaced', 'shoal.inventory.StockReserved', 'shoal.payments.PaymentAuthorized', 'shoal.orders.OrderConfirmed', 'shoal.shipping.ShipmentScheduled'];
    for (let i = 1; i < chain.length; i++) {
      const handler = parentOf(commitOf(chain[i]!))!;
      expect(handler.name.startsWith('process ')).toBe(true);
      expect(event(handler)).toBe(event(commitOf(chain[i - 1]!)));
    }
    expect(parentOf(commitOf('shoal.orders.OrderPlaced'))!.name).toBe('POST /orders');
    expect(parentOf(commitOf('shoal.shipping.ShipmentDispatched'))!.name).toBe('POST /shipments/:id/dispatch');
    expect(event(parentOf(commitOf('shoal.orders.OrderShipped'))!)).toBe(event(commitOf('shoal.shipping.ShipmentDispatched')));
  }, 420_000);
});
