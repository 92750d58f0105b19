/**
 * The load of the e2e benchmark: `POST /orders` to the orders service, as a client would send it, in the two
 * shapes docs/benchmarks.md describes.
 *
 *   closed loop   at most `concurrency` requests in flight, the next one sent as soon as one is answered:
 *                 orders as fast as the system takes them (sustained throughput)
 *   open loop     request i sent at start + i / rate whatever the earlier ones did, so a slow answer queues
 *                 work instead of holding the next order back (no coordinated omission); latency is then
 *                 measured from the scheduled time, not from when the request actually left
 *
 * Requests go through node:http with a keep-alive agent rather than fetch: undici costs several times the CPU
 * per request, and this process shares the two cores with the platform it measures.
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface OrderRequest {
  customerId: string;
  currency: string;
  lines: Array<{ sku: string; quantity: number; unitPrice: number }>;
}

/** One order's life as the client saw it, times from performance.now() (ms). */
export interface PlacedOrder {
  orderId: string;
  /** When the request was due (open loop) or sent (closed loop). */
  scheduledAt: number;
  sentAt: number;
  answeredAt: number;
}

export interface OrderTrafficOptions {
  /** The orders service's base URL, or one per instance: requests take them in turn. */
  url: string | readonly string[];
  skus: readonly string[];
  customers: readonly string[];
  /** Sockets kept open to the service; default 256 (an open loop needs more than it has requests in flight). */
  maxSockets?: number;
}

export interface ClosedLoopRun {
  orders: PlacedOrder[];
  failures: string[];
}

export interface OpenLoopRun extends ClosedLoopRun {
  /** The largest delay of a request behind its schedule: timer granularity and event-loop stalls here. */
  maxLateMs: number;
}

export class OrderTraffic {
  private readonly agent: Agent;
  private readonly endpoints: URL[];
  private sequence = 0;

  constructor(private readonly options: OrderTrafficOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 });
    this.endpoints = (typeof options.url === 'string' ? [options.url] : options.url).map((url) => new URL('/orders', url));
  }

  /** Order number n of this run: 1-3 lines of distinct skus, quantities 1-3, its customer by turn. */
  orderRequest(n: number): OrderRequest {
    const { skus, customers } = this.options;
    const lineCount = 1 + (n % 3);
    const lines = Array.from({ length: lineCount }, (_, i) => ({
      sku: skus[(n + i * 3) % skus.length]!,
      quantity: 1 + ((n + i) % 3),
      unitPrice: 499 + ((n * 37 + i * 101) % 5000),
    }));
    return { customerId: customers[n % customers.length]!, currency: 'EUR', lines };
  }

  /** `count` orders with at most `concurrency` in flight. */
  async closedLoop(count: number, concurrency: number): Promise<ClosedLoopRun> {
    const orders: PlacedOrder[] = [];
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        const sentAt = performance.now();
        const placed = await this.place(sentAt, sentAt).catch((error: unknown) => {
          failures.push((error as Error).message);
          return undefined;
        });
        if (placed !== undefined) orders.push(placed);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return { orders, failures };
  }

  /** Orders at `ratePerSecond` for `seconds`, each sent when it is due. */
  async openLoop(ratePerSecond: number, seconds: number): Promise<OpenLoopRun> {
    const count = Math.round(ratePerSecond * seconds);
    const intervalMs = 1000 / ratePerSecond;
    const orders: PlacedOrder[] = [];
    const failures: string[] = [];
    const inFlight: Array<Promise<void>> = [];
    const start = performance.now();
    let maxLateMs = 0;
    for (let i = 0; i < count; i++) {
      const due = start + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const sentAt = performance.now();
      maxLateMs = Math.max(maxLateMs, sentAt - due);
      inFlight.push(
        this.place(due, sentAt).then(
          (placed) => void orders.push(placed),
          (error: unknown) => void failures.push((error as Error).message),
        ),
      );
    }
    await Promise.all(inFlight);
    return { orders, failures, maxLateMs };
  }

  close(): void {
    this.agent.destroy();
  }

  private place(scheduledAt: number, sentAt: number): Promise<PlacedOrder> {
    const body = JSON.stringify(this.orderRequest(this.sequence++));
    return new Promise((resolve, reject) => {
      const req = request(
        this.endpoints[this.sequence % this.endpoints.length]!,
        { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const answeredAt = performance.now();
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 201) {
              reject(new Error(`POST /orders answered ${res.statusCode}: ${text.slice(0, 300)}`));
              return;
            }
            const { orderId } = JSON.parse(text) as { orderId: string };
            resolve({ orderId, scheduledAt, sentAt, answeredAt });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
