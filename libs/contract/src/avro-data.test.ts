import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { dataInvalid, dataProblems, describeType } from './avro-data.js';
import { avroTypeOptions, loadSchemaCatalog } from './catalog/index.js';

const catalog = loadSchemaCatalog();
const orderPlaced = catalog.avroType('shoal.orders.OrderPlaced');
const validOrder = {
  orderId: 'o-1',
  customerId: 'c-1',
  lines: [
    { sku: 'a', quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } },
    { sku: 'b', quantity: 2, unitPrice: { amount: 50, currency: 'EUR' } },
  ],
  total: { amount: 200, currency: 'EUR' },
  shippingAddress: null,
  placedAt: 1_767_225_600_000,
};

describe('data problems, in terms of the data', () => {
  it('finds nothing wrong with valid data', () => {
    expect(dataProblems(orderPlaced, validOrder)).toEqual([]);
  });

  it('names array items by index and nested fields by name', () => {
    const order = { ...validOrder, lines: [validOrder.lines[0], { sku: 'b', quantity: 'two', unitPrice: { amount: 50 } }] };
    expect(dataProblems(orderPlaced, order)).toEqual([
      { path: 'data.lines[1].quantity', expected: 'int', got: '"two"' },
      { path: 'data.lines[1].unitPrice.currency', expected: 'string', got: 'undefined' },
    ]);
  });

  it('describes unions, records and enums by their names', () => {
    const address = dataProblems(orderPlaced, { ...validOrder, shippingAddress: 'Paris' });
    expect(address).toEqual([{ path: 'data.shippingAddress', expected: 'null | shoal.common.Address', got: '"Paris"' }]);
    const cancelled = catalog.avroType('shoal.orders.OrderCancelled');
    expect(dataProblems(cancelled, { orderId: 'o', customerId: 'c', reason: 'BORED', detail: 'd', cancelledAt: 1 })).toEqual([
      { path: 'data.reason', expected: 'enum shoal.orders.OrderCancellationReason (OUT_OF_STOCK | PAYMENT_DECLINED | CUSTOMER_REQUEST)', got: '"BORED"' },
    ]);
    expect(describeType(catalog.avroType('shoal.common.Money'))).toBe('record shoal.common.Money');
  });

  it('names map entries by key and reaches into a union branch', () => {
    const type = avsc.Type.forSchema(
      {
        type: 'record',
        name: 'Sheet',
        fields: [
          { name: 'cells', type: { type: 'map', values: 'int' } },
          { name: 'owner', type: ['null', { type: 'record', name: 'Owner', fields: [{ name: 'name', type: 'string' }] }] },
        ],
      },
      { wrapUnions: 'never' },
    );
    expect(dataProblems(type, { cells: { a1: 1, b2: 1.5 }, owner: null }).map((p) => p.path)).toEqual(['data.cells["b2"]']);
  });

  it('names the branch of a wrapped union by its key and describes the shapes such a union takes', () => {
    const card = { type: 'record', name: 'shoal.test.Card', fields: [{ name: 'last4', type: 'string' }] };
    const transfer = { type: 'record', name: 'shoal.test.Transfer', fields: [{ name: 'iban', type: 'string' }] };
    const type = avsc.Type.forSchema(
      { type: 'record', name: 'shoal.test.Payment', fields: [{ name: 'method', type: ['null', card, transfer] }, { name: 'amount', type: ['int', 'long'] }] } as avsc.Schema,
      avroTypeOptions(),
    );
    expect(dataProblems(type, { method: { 'shoal.test.Card': { last4: 4242 } }, amount: { long: 5 } })).toEqual([
      { path: 'data.method["shoal.test.Card"].last4', expected: 'string', got: '4242' },
    ]);
    expect(dataProblems(type, { method: { last4: '4242' }, amount: 5 })).toEqual([
      { path: 'data.method', expected: 'null | {"shoal.test.Card": …} | {"shoal.test.Transfer": …}', got: '{"last4":"4242"}' },
      { path: 'data.amount', expected: '{"int": …} | {"long": …}', got: '5' },
    ]);
  });

  it('is a non-retriable SHOAL_EVENT_DATA_INVALID listing every problem', () => {
    const error = dataInvalid('shoal.orders.OrderPlaced', orderPlaced, { ...validOrder, orderId: 7, lines: [{ ...validOrder.lines[0], quantity: 'two' }] });
    expect(error.code).toBe('SHOAL_EVENT_DATA_INVALID');
    expect(error.retriable).toBe(false);
    expect(error.message).toBe(
      'shoal.orders.OrderPlaced data does not match its schema shoal.orders.OrderPlaced: data.orderId: expected string, got 7; data.lines[0].quantity: expected int, got "two"',
    );
  });
});
