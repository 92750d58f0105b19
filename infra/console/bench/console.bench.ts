import { createEvent, type ShoalEvent } from '@shoal/contract';
import { ServiceHost } from '@shoal/service';
import { Publisher } from '@shoal/transport';
import { formatLatencyTable, quantile } from '../../broker/bench/report.js';
import { count, orderPlaced, progressOf, runBench, type BenchPlatform, type Goal } from '../../../libs/outbox/bench/bench-platform.js';
import { buildConsole, configSpec, findFlow, type ConsoleParts } from '../src/index.js';

/**
 * The console's flow page under a full index: `npm run bench -- console [--quick]` (docs/benchmarks.md).
 *
 * A broker in a child process and a registry in this process (outbox/bench/bench-platform.ts). The catalog
 * topics are filled with the flows of 20,000 orders, five events each as the services emit them (OrderPlaced,
 * StockReserved, PaymentAuthorized, OrderConfirmed, ShipmentScheduled, each caused by the one before): 100,000
 * events. The console runs in this process on the service host as `shoal console` runs it, reads them all,
 * and is then asked over HTTP for the flow of random orders, one request at a time: the answer the flow page
 * waits for (the tree found in the index and every event's data decoded). The baseline, measured in the same
 * run and interleaved with it, is the same server's GET /health/live: what any request to it costs. The flow
 * alone (findFlow on the index, no HTTP, no decoding) is shown too.
 *
 * Goal (docs/benchmarks.md): p99 of the flow page <= 50 ms with 100,000 events seen. Exits 0 whether or not
 * it is met; non-zero only when the benchmark itself fails.
 */
const usage = `Usage: node --import tsx infra/console/bench/console.bench.ts [--quick]

  --quick   10x fewer events (a smoke run; the goal's condition, 100,000 events, is then not met)
`;

const goals = { flowP99Ms: 50, events: 100_000 } as const;
const PUBLISH_BATCH = 2_500;
const CATCH_UP_LIMIT_MS = 180_000;

const progress = progressOf('console');

/** The five events of one order's way to a scheduled shipment, each caused by the one before. */
function orderFlow(seq: number): ShoalEvent[] {
  const orderId = `bench-order-${seq}`;
  const placed = orderPlaced(seq, orderId);
  const { customerId, lines, total } = placed.data;
  const reserved = createEvent('shoal.inventory.StockReserved', { orderId, customerId, lines, total, reservedAt: Date.now() }, { source: '/shoal/inventory', subject: orderId, causedBy: placed });
  const authorized = createEvent('shoal.payments.PaymentAuthorized', { paymentId: `pay-${seq}`, orderId, customerId, amount: total, authorizedAt: Date.now() }, { source: '/shoal/payments', subject: orderId, causedBy: reserved });
  const confirmed = createEvent('shoal.orders.OrderConfirmed', { orderId, customerId, paymentId: `pay-${seq}`, total, confirmedAt: Date.now() }, { source: '/shoal/orders', subject: orderId, causedBy: authorized });
  const scheduled = createEvent('shoal.shipping.ShipmentScheduled', { shipmentId: `ship-${seq}`, orderId, customerId, scheduledAt: Date.now() }, { source: '/shoal/shipping', subject: orderId, causedBy: confirmed });
  return [placed, reserved, authorized, confirmed, scheduled];
}

async function fill(platform: BenchPlatform, orders: number): Promise<void> {
  const publisher = new Publisher({ kafka: platform.kafka, codec: platform.codec() });
  await publisher.connect();
  try {
    const perBatch = PUBLISH_BATCH / 5;
    for (let first = 0; first < orders; first += perBatch) {
      const events = Array.from({ length: Math.min(perBatch, orders - first) }, (_, i) => orderFlow(first + i)).flat();
      await publisher.publishBatch(events);
    }
  } finally {
    await publisher.disconnect();
  }
}

async function startConsole(platform: BenchPlatform, maxEvents: number): Promise<{ host: ServiceHost; parts: ConsoleParts }> {
  const config = configSpec.load({
    KAFKA_BROKERS: platform.broker.bootstrap,
    SCHEMA_REGISTRY_URL: platform.codec().registry.url,
    SHOAL_DATA_DIR: platform.workDir,
    PORT: '0',
    LOG_LEVEL: 'warn',
    SHOAL_CONSOLE_MAX_EVENTS: String(maxEvents),
  });
  const host = new ServiceHost({ config, catalog: platform.catalog });
  const parts = buildConsole(host);
  await host.start();
  return { host, parts };
}

async function timed(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return ms;
}

runBench({
  name: 'console',
  title: 'Console benchmark: the flow page of one order with the index full (HTTP, one request at a time)',
  usage,
  async run(platform, quick) {
    const orders = quick ? 2_000 : 20_000;
    const requests = quick ? 200 : 1_000;
    progress(`filling the topics with ${count(orders)} order flows (${count(orders * 5)} events)`);
    await fill(platform, orders);
    const { host, parts } = await startConsole(platform, Math.max(orders * 5, 200_000));
    try {
      const started = performance.now();
      while (parts.index.size < orders * 5) {
        if (performance.now() - started > CATCH_UP_LIMIT_MS) throw new Error(`the console read ${parts.index.size} of ${orders * 5} events in ${CATCH_UP_LIMIT_MS / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const readSeconds = (performance.now() - started) / 1000;
      progress(`the console read ${count(parts.index.size)} events in ${readSeconds.toFixed(1)} s; ${count(requests)} flow requests`);
      const pick = () => `bench-order-${Math.floor(Math.random() * orders)}`;
      // Warm-up: the codec's readers and the routes compiled.
      for (let i = 0; i < 50; i += 1) {
        await timed(`${host.url}/api/flows?q=${pick()}`);
        await timed(`${host.url}/health/live`);
      }
      const flowMs: number[] = [];
      const baseMs: number[] = [];
      const findMs: number[] = [];
      for (let i = 0; i < requests; i += 1) {
        const orderId = pick();
        flowMs.push(await timed(`${host.url}/api/flows?q=${orderId}`));
        baseMs.push(await timed(`${host.url}/health/live`));
        const before = performance.now();
        const flow = findFlow(parts.index, orderId);
        findMs.push(performance.now() - before);
        if (flow?.events !== 5) throw new Error(`the flow of ${orderId} has ${flow?.events} events, not 5`);
      }
      for (const samples of [flowMs, baseMs, findMs]) samples.sort((a, b) => a - b);
      const p99 = quantile(flowMs, 0.99);
      const goal: Goal = {
        goal: `flow page p99 <= ${goals.flowP99Ms} ms with ${count(goals.events)} events seen`,
        measured: `${p99.toFixed(1)} ms with ${count(parts.index.size)}`,
        met: p99 <= goals.flowP99Ms && parts.index.size >= goals.events,
      };
      const row = (workload: string, samples: number[]) => ({ workload, messages: samples.length, p50Ms: quantile(samples, 0.5), p99Ms: quantile(samples, 0.99), maxMs: samples.at(-1)! });
      return {
        lines: [
          `${count(parts.index.size)} events in the index (${count(orders)} orders, 5 events each), read in ${readSeconds.toFixed(1)} s; ${count(requests)} requests, each order picked at random`,
          '',
          formatLatencyTable([
            { ...row('GET /api/flows?q=<order id>', flowMs), note: `p50 ${(quantile(flowMs, 0.5) / quantile(baseMs, 0.5)).toFixed(1)}x the baseline's` },
            row('baseline: GET /health/live', baseMs),
            row('findFlow alone (no HTTP, no decoding)', findMs),
          ]),
        ],
        goals: [goal],
      };
    } finally {
      await host.stop();
    }
  },
});
