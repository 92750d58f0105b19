import { describe, expect, it } from 'vitest';
import { loadSchemaCatalog } from '@shoal/contract';
import type { GroupReport } from './consumer-groups.js';
import { findDrift } from './drift.js';

const catalog = loadSchemaCatalog();

function group(name: string, topics: string[]): GroupReport {
  return { group: name, state: 'Stable', members: [{ memberId: `${name}-1`, clientId: name, host: '/127.0.0.1', topics, assignment: [] }], partitions: [], lag: 0 };
}

describe('findDrift', () => {
  it('names a foreign type, an unknown type, declared types never seen, undeclared topics and unhandled reactions', () => {
    const everyType = [...catalog.events.values()];
    const seen = {
      services: [
        ...['orders', 'inventory', 'payments', 'shipping', 'notifications', 'loyalty'].map((service) => ({
          name: service,
          emits: everyType.filter((event) => event.service === service && event.type !== 'shoal.shipping.ShipmentCancelled').map((event) => ({ type: event.type, count: 1, perSecond: 0, lastAt: 0 })),
        })),
        { name: 'billing', emits: [{ type: 'shoal.orders.OrderPlaced', count: 1, perSecond: 0, lastAt: 0 }, { type: 'shoal.billing.InvoiceSent', count: 2, perSecond: 0, lastAt: 0 }] },
      ],
      edges: [
        { from: 'orders', type: 'shoal.orders.OrderPlaced', to: 'inventory', count: 1, perSecond: 0, p50Ms: 1, p95Ms: 1, maxMs: 1, lastAt: 0 },
        { from: 'orders', type: 'shoal.orders.OrderShipped', to: 'inventory', count: 1, perSecond: 0, p50Ms: 1, p95Ms: 1, maxMs: 1, lastAt: 0 },
      ],
    };
    const declared = [{ service: 'inventory', subscriptions: [{ group: 'inventory', topics: ['orders.order', 'payments.payment'], types: ['shoal.orders.OrderPlaced', 'shoal.orders.OrderCancelled', 'shoal.payments.PaymentDeclined'] }] }];
    const groups = [group('inventory', ['orders.order', 'payments.payment', 'shipping.shipment', 'legacy.events']), group('payments', ['inventory.reservation'])];

    expect(findDrift({ catalog, seen, declared, groups })).toEqual([
      { kind: 'foreign-type', service: 'billing', type: 'shoal.orders.OrderPlaced', message: 'billing emits shoal.orders.OrderPlaced, which orders owns (topic orders.order)' },
      { kind: 'unknown-type', service: 'billing', type: 'shoal.billing.InvoiceSent', message: 'billing emits shoal.billing.InvoiceSent, which is not in the catalog (schemas/manifest.json)' },
      { kind: 'never-seen', service: 'shipping', type: 'shoal.shipping.ShipmentCancelled', message: 'shoal.shipping.ShipmentCancelled is declared but no event of it has been seen' },
      { kind: 'undeclared-topic', service: 'inventory', group: 'inventory', topic: 'legacy.events', message: 'group inventory (inventory) reads legacy.events, which is not in the catalog' },
      { kind: 'undeclared-topic', service: 'inventory', group: 'inventory', topic: 'shipping.shipment', message: 'group inventory reads shipping.shipment, which inventory does not declare it subscribes to' },
      { kind: 'unhandled-reaction', service: 'inventory', type: 'shoal.orders.OrderShipped', message: 'inventory reacts to shoal.orders.OrderShipped from orders but declares no handler for it' },
    ]);
  });
});
