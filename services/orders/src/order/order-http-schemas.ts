/**
 * The JSON schemas of the orders API: what fastify validates before a route runs (a refusal is a 400
 * problem+json listing each problem) and what it serializes on the way out. Money is an integer in minor
 * units; a request gives the currency once for the order and each unit price as a number.
 */
import { currencySchema, idParams, idSchema } from '@shoal/service';
import { ORDER_STATUSES } from './order-decider.js';

const MAX_LINES = 100;
const MAX_QUANTITY = 100_000;

const id = idSchema;
const currency = currencySchema;

const address = {
  type: 'object',
  required: ['line1', 'city', 'postalCode', 'country'],
  additionalProperties: false,
  properties: {
    line1: { type: 'string', minLength: 1, maxLength: 200 },
    line2: { type: 'string', maxLength: 200, nullable: true },
    city: { type: 'string', minLength: 1, maxLength: 100 },
    postalCode: { type: 'string', minLength: 1, maxLength: 20 },
    country: { type: 'string', pattern: '^[A-Z]{2}$' },
  },
} as const;

export const orderParams = idParams('id');

export const placeOrderBody = {
  type: 'object',
  required: ['customerId', 'currency', 'lines'],
  additionalProperties: false,
  properties: {
    orderId: id,
    customerId: id,
    currency,
    lines: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_LINES,
      items: {
        type: 'object',
        required: ['sku', 'quantity', 'unitPrice'],
        additionalProperties: false,
        properties: {
          sku: { type: 'string', minLength: 1, maxLength: 64 },
          quantity: { type: 'integer', minimum: 1, maximum: MAX_QUANTITY },
          unitPrice: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        },
      },
    },
    shippingAddress: address,
  },
} as const;

/** Optional: `POST /orders/:id/cancel` with no body at all is a cancel without a reason. */
export const cancelOrderBody = {
  type: 'object',
  nullable: true,
  additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
} as const;

const money = {
  type: 'object',
  required: ['amount', 'currency'],
  properties: { amount: { type: 'integer' }, currency: { type: 'string' } },
} as const;

export const placedOrderResponse = {
  type: 'object',
  required: ['orderId', 'status', 'total'],
  properties: { orderId: { type: 'string' }, status: { type: 'string', enum: ORDER_STATUSES }, total: money },
} as const;

export const orderResponse = {
  type: 'object',
  required: ['orderId', 'status', 'customerId', 'currency', 'lines', 'total', 'placedAt', 'version'],
  properties: {
    orderId: { type: 'string' },
    status: { type: 'string', enum: ORDER_STATUSES },
    customerId: { type: 'string' },
    currency: { type: 'string' },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        required: ['sku', 'quantity', 'unitPrice'],
        properties: { sku: { type: 'string' }, quantity: { type: 'integer' }, unitPrice: { type: 'integer' } },
      },
    },
    total: money,
    shippingAddress: address,
    placedAt: { type: 'string', format: 'date-time' },
    paymentId: { type: 'string' },
    shipmentId: { type: 'string' },
    trackingNumber: { type: 'string' },
    cancellation: {
      type: 'object',
      required: ['reason', 'detail'],
      properties: { reason: { type: 'string' }, detail: { type: 'string' } },
    },
    version: { type: 'integer', description: 'the number of events in the order stream; also the ETag' },
  },
} as const;
