/**
 * The reference services' HTTP APIs as a user's script calls them (README, "Walkthrough"), for the
 * end-to-end tests and the e2e benchmark. Plain fetch: nothing here knows how the services work inside.
 */
import type { ServiceName } from './shoal-dev.js';

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} answered ${status}: ${JSON.stringify(body)}`);
  }
}

export interface Money {
  amount: number;
  currency: string;
}

export interface OrderLine {
  sku: string;
  quantity: number;
  unitPrice: number;
}

export type OrderStatus = 'PLACED' | 'CONFIRMED' | 'CANCELLED' | 'SHIPPED';

export interface ViewOrder {
  orderId: string;
  status: OrderStatus;
  customerId: string;
  total: Money;
  correlationId?: string;
  cancellation?: { reason: string; detail: string };
  paymentId?: string;
  shipmentId?: string;
  trackingNumber?: string;
  timeline?: { type: string; source: string; time: string; id: string }[];
}

export interface LoyaltyPoints {
  customerId: string;
  balance: number;
  history: { orderId: string; points: number; kind: 'awarded' | 'revoked'; at: number }[];
}

export interface Stock {
  sku: string;
  available: number;
  reserved: number;
}

export interface Payment {
  paymentId: string;
  orderId: string;
  customerId: string;
  status: 'AUTHORIZED' | 'DECLINED' | 'REFUNDED';
  amount: Money;
  reason?: string;
}

export interface Shipment {
  shipmentId: string;
  orderId: string;
  customerId: string;
  status: 'SCHEDULED' | 'DISPATCHED' | 'CANCELLED';
  trackingNumber?: string;
}

export interface Notification {
  notificationId: string;
  customerId: string;
  orderId: string;
  template: string;
  message: string;
  eventId: string;
}

/** How long a request may take before it counts as failed. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * How a request reaches a service: `call` with the base URL of the instance that is to answer. The default
 * asks the one URL of each service; with several instances a caller spreads the calls (test/e2e's
 * InstanceRouter), as a load balancer would.
 */
export type ServiceRoute = <T>(service: ServiceName, call: (baseUrl: string) => Promise<T>) => Promise<T>;

export class Shop {
  private readonly route: ServiceRoute;

  constructor(url: (service: ServiceName) => string, route?: ServiceRoute) {
    this.route = route ?? ((service, call) => call(url(service)));
  }

  request<T>(service: ServiceName, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    return this.route(service, async (baseUrl) => {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        // A service that stopped answering fails the request (the burst counts it) instead of holding the test.
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T, headers: response.headers };
    });
  }

  /** The body of a 2xx answer; anything else throws with the problem the service sent. */
  async ok<T>(service: ServiceName, method: string, path: string, body?: unknown): Promise<T> {
    const result = await this.request<T>(service, method, path, body);
    if (result.status < 200 || result.status > 299) throw new HttpError(result.status, result.body, `${method} ${service}${path}`);
    return result.body;
  }

  /** The body of a 2xx answer, or undefined on 404. */
  async maybe<T>(service: ServiceName, path: string): Promise<T | undefined> {
    const result = await this.request<T>(service, 'GET', path);
    if (result.status === 404) return undefined;
    if (result.status !== 200) throw new HttpError(result.status, result.body, `GET ${service}${path}`);
    return result.body;
  }

  setStock(sku: string, available: number): Promise<Stock> {
    return this.ok('inventory', 'PUT', `/stock/${encodeURIComponent(sku)}`, { available });
  }

  stock(sku: string): Promise<Stock> {
    return this.ok('inventory', 'GET', `/stock/${encodeURIComponent(sku)}`);
  }

  setLimit(customerId: string, limit: number, currency = 'EUR'): Promise<{ customerId: string; limit: number; used: number; available: number }> {
    return this.ok('payments', 'PUT', `/customers/${encodeURIComponent(customerId)}/limit`, { limit, currency });
  }

  customer(customerId: string): Promise<{ customerId: string; limit: number; currency: string; used: number; available: number }> {
    return this.ok('payments', 'GET', `/customers/${encodeURIComponent(customerId)}`);
  }

  placeOrder(customerId: string, lines: OrderLine[], currency = 'EUR'): Promise<{ orderId: string; status: OrderStatus }> {
    return this.ok('orders', 'POST', '/orders', { customerId, currency, lines });
  }

  cancelOrder(orderId: string): Promise<HttpResult<{ status: OrderStatus }>> {
    return this.request('orders', 'POST', `/orders/${encodeURIComponent(orderId)}/cancel`, {});
  }

  order(orderId: string): Promise<{ orderId: string; status: OrderStatus; customerId: string; total: Money; cancellation?: { reason: string; detail: string } } | undefined> {
    return this.maybe('orders', `/orders/${encodeURIComponent(orderId)}`);
  }

  payment(orderId: string): Promise<Payment | undefined> {
    return this.maybe('payments', `/payments/${encodeURIComponent(orderId)}`);
  }

  async shipmentOf(orderId: string): Promise<Shipment | undefined> {
    const { items } = await this.ok<{ items: Shipment[] }>('shipping', 'GET', `/shipments?orderId=${encodeURIComponent(orderId)}`);
    return items[0];
  }

  dispatch(shipmentId: string): Promise<Shipment> {
    return this.ok('shipping', 'POST', `/shipments/${encodeURIComponent(shipmentId)}/dispatch`, {});
  }

  async notifications(query: { customerId?: string; orderId?: string }): Promise<Notification[]> {
    const params = new URLSearchParams({ ...query, limit: '1000' });
    return (await this.ok<{ items: Notification[] }>('notifications', 'GET', `/notifications?${params}`)).items;
  }

  viewOrder(orderId: string): Promise<ViewOrder | undefined> {
    return this.maybe('order-view', `/orders/${encodeURIComponent(orderId)}`);
  }

  /** Every order of the read model (without timelines), following the cursor. */
  /** The loyalty service (Python, behind its sidecar): a customer's points and their history. */
  points(customerId: string): Promise<LoyaltyPoints> {
    return this.ok('loyalty', 'GET', `/customers/${encodeURIComponent(customerId)}/points`);
  }

  async viewOrders(query: { status?: OrderStatus; customerId?: string } = {}): Promise<ViewOrder[]> {
    const all: ViewOrder[] = [];
    let after: string | undefined;
    for (;;) {
      const params = new URLSearchParams({ ...query, limit: '1000', ...(after === undefined ? {} : { after }) });
      const page = await this.ok<{ items: ViewOrder[]; next?: string }>('order-view', 'GET', `/orders?${params}`);
      all.push(...page.items);
      if (page.next === undefined || page.items.length === 0) return all;
      after = page.next;
    }
  }

  stats(): Promise<{ orders: number; byStatus: Record<OrderStatus, number>; events: number }> {
    return this.ok('order-view', 'GET', '/stats');
  }
}

/** How long the end-to-end tests wait for the platform: several processes on two cores, asked over HTTP. */
export const PLATFORM_WAIT = { timeoutMs: 30_000, intervalMs: 100 } as const;

/** Runs `work` over `items` with at most `concurrency` in flight; results in input order. */
export async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
