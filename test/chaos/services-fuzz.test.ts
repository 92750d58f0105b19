/**
 * The six services' HTTP APIs under hostile requests: every route gets malformed, empty, binary, oversized,
 * deeply nested and wrongly typed bodies, odd and overlong path parameters, and nonsense query strings. What
 * a client sends may be refused, never crash or break a service: every answer is below 500, every refusal
 * is problem+json with a Shoal code, and every service is still ready afterwards.
 *
 * Seeded: replay a run with SHOAL_FUZZ_SEED=<seed> npx vitest run test/chaos/services-fuzz.test.ts
 */
import { describe, expect, it } from 'vitest';
import { startTestPlatform } from '@shoal/contract/testing';
import { startTestService } from '@shoal/service/testing';
import { buildInventory } from '../../services/inventory/src/app.js';
import { configSpec as inventorySpec } from '../../services/inventory/src/config.js';
import { buildNotifications } from '../../services/notifications/src/app.js';
import { configSpec as notificationsSpec } from '../../services/notifications/src/config.js';
import { buildOrderView } from '../../services/order-view/src/app.js';
import { configSpec as orderViewSpec } from '../../services/order-view/src/config.js';
import { buildOrders } from '../../services/orders/src/app.js';
import { configSpec as ordersSpec } from '../../services/orders/src/config.js';
import { buildPayments } from '../../services/payments/src/app.js';
import { configSpec as paymentsSpec } from '../../services/payments/src/config.js';
import { buildShipping } from '../../services/shipping/src/app.js';
import { configSpec as shippingSpec } from '../../services/shipping/src/config.js';
import { fuzzSeed, seededRandom, type Random } from './random.js';

const SEED = fuzzSeed('test/chaos/services-fuzz.test.ts');

type Method = 'GET' | 'POST' | 'PUT';

/** Every route of every service, `:p` standing for a path parameter. */
const routes: Record<string, { method: Method; path: string }[]> = {
  orders: [
    { method: 'POST', path: '/orders' },
    { method: 'POST', path: '/orders/:p/cancel' },
    { method: 'GET', path: '/orders/:p' },
  ],
  inventory: [
    { method: 'PUT', path: '/stock/:p' },
    { method: 'GET', path: '/stock/:p' },
    { method: 'GET', path: '/stock' },
    { method: 'GET', path: '/reservations/:p' },
  ],
  payments: [
    { method: 'PUT', path: '/customers/:p/limit' },
    { method: 'GET', path: '/customers/:p' },
    { method: 'GET', path: '/payments/:p' },
  ],
  shipping: [
    { method: 'POST', path: '/shipments/:p/dispatch' },
    { method: 'GET', path: '/shipments/:p' },
    { method: 'GET', path: '/shipments' },
  ],
  notifications: [{ method: 'GET', path: '/notifications' }],
  'order-view': [
    { method: 'GET', path: '/orders/:p' },
    { method: 'GET', path: '/orders' },
    { method: 'GET', path: '/stats' },
  ],
};

const pathParams = ['x', '%00', '..%2F..%2Fetc%2Fpasswd', '%ZZ', '🦈', ' ', `${'a'.repeat(99)}`, `${'a'.repeat(5000)}`, "o'; DROP TABLE orders; --", '%2F'];
const queries = ['', '?limit=-1', '?limit=abc', '?limit=1e9', '?limit=99999999999999999999', '?status=NOPE', '?customerId=', '?orderId=%00', '?after=%FF', '?customerId=c&customerId=d', `?customerId=${'c'.repeat(10_000)}`];

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A hostile body and the content type it claims. */
function hostileBody(random: Random): { payload: string | Buffer; contentType: string } {
  const bodies: (() => string | Buffer)[] = [
    () => '',
    () => '{',
    () => 'null',
    () => '[]',
    () => '"x"',
    () => '{"available": "10", "limit": "1", "currency": 1}',
    () => '{"available": 1e308, "limit": -1, "currency": "EURO"}',
    () => '{"customerId": "c", "currency": "EUR", "lines": [{"sku": "s", "quantity": 1.5, "unitPrice": -1}]}',
    () => JSON.stringify({ customerId: 'c', currency: 'EUR', lines: Array.from({ length: 20_000 }, () => ({ sku: 's', quantity: 1, unitPrice: 1 })) }),
    () => JSON.stringify({ customerId: 'c'.repeat(2 * 1024 * 1024), currency: 'EUR', lines: [] }),
    () => nested(5_000),
    () => random.bytes(random.int(1, 4096)),
    () => '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
    () => JSON.stringify({ customerId: 'c', currency: 'EUR', lines: [{ sku: 's', quantity: 2 ** 31, unitPrice: Number.MAX_SAFE_INTEGER }] }),
  ];
  const contentTypes = ['application/json', 'application/json', 'text/plain', 'application/octet-stream', 'application/json; charset=latin1'];
  return { payload: random.pick(bodies)(), contentType: random.pick(contentTypes) };
}

async function startServices() {
  const platform = await startTestPlatform();
  const services = await Promise.all([
    startTestService(ordersSpec, buildOrders, { platform }),
    startTestService(inventorySpec, buildInventory, { platform }),
    startTestService(paymentsSpec, buildPayments, { platform }),
    startTestService(shippingSpec, buildShipping, { platform }),
    startTestService(notificationsSpec, buildNotifications, { platform }),
    startTestService(orderViewSpec, buildOrderView, { platform }),
  ]);
  return new Map<string, { app: (typeof services)[number]['host']['app'] }>(services.map((service) => [service.host.config.service, service.host]));
}

describe('the services under hostile HTTP requests', () => {
  it('refuse what they cannot take with a 4xx problem+json and stay ready', async () => {
    const hosts = await startServices();
    const random = seededRandom(SEED, 'services-fuzz');
    const answered: { service: string; method: Method; url: string; status: number }[] = [];
    for (const [service, serviceRoutes] of Object.entries(routes)) {
      const host = hosts.get(service)!;
      for (const route of serviceRoutes) {
        for (let i = 0; i < 25; i++) {
          const url = route.path.replace(':p', random.pick(pathParams)) + random.pick(queries);
          const body = route.method === 'GET' ? undefined : hostileBody(random);
          const response = await host.app.inject({
            method: route.method,
            url,
            ...(body === undefined ? {} : { payload: body.payload, headers: { 'content-type': body.contentType } }),
          });
          answered.push({ service, method: route.method, url: url.slice(0, 80), status: response.statusCode });
          expect(response.statusCode, `${service} ${route.method} ${url.slice(0, 80)}: ${response.body.slice(0, 300)}`).toBeLessThan(500);
          if (response.statusCode >= 400) {
            expect(response.headers['content-type'], `${service} ${route.method} ${url.slice(0, 80)}`).toContain('application/problem+json');
            const problem = response.json() as { code: string; status: number };
            expect(problem.code).toMatch(/^SHOAL_/);
            expect(problem.status).toBe(response.statusCode);
          }
        }
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Hostile input was refused, not silently accepted across the board.
    expect(answered.filter((answer) => answer.status >= 400).length).toBeGreaterThan(answered.length / 2);
    for (const [service, host] of hosts) {
      const ready = await host.app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode, `${service} ready after the barrage`).toBe(200);
    }
  }, 180_000);
});
