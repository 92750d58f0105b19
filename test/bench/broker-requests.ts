/**
 * Requests the embedded broker received during a phase, by Kafka API and by client: read from its GET
 * /metrics (shoal dev's `--broker-metrics-port`) before and after, and the difference divided by the orders of
 * the phase. The services' kafkajs clients carry the service's name as client id; the benchmark's own
 * clients (its watch, its idle checks, its baselines) start with BENCH_CLIENT and are counted apart, so that
 * the platform's figure is the platform's.
 */
import { parseRequestCounts } from '@shoal/broker';

export const BENCH_CLIENT = 'e2e-bench';

export type RequestReading = ReadonlyMap<string, ReadonlyMap<string, number>>;

/** client id -> API -> requests so far. */
export async function readBrokerRequests(url: string): Promise<RequestReading> {
  const response = await fetch(url);
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 200)}`);
  const reading = new Map<string, Map<string, number>>();
  for (const { api, clientId, requests } of parseRequestCounts(text)) {
    let apis = reading.get(clientId);
    if (apis === undefined) reading.set(clientId, (apis = new Map()));
    apis.set(api, requests);
  }
  return reading;
}

/** What a phase cost the broker: requests per API (and per client) between two readings. */
export interface RequestFigures {
  /** Orders of the phase. */
  orders: number;
  /** API -> requests of the platform's clients (shoal dev and the services). */
  byApi: Map<string, number>;
  /** client id -> requests, the platform's clients. */
  byClient: Map<string, number>;
  /** Requests of the benchmark's own clients. */
  bench: number;
}

export function requestsBetween(before: RequestReading, after: RequestReading, orders: number): RequestFigures {
  const byApi = new Map<string, number>();
  const byClient = new Map<string, number>();
  let bench = 0;
  for (const [clientId, apis] of after) {
    for (const [api, requests] of apis) {
      const added = requests - (before.get(clientId)?.get(api) ?? 0);
      if (added === 0) continue;
      if (clientId.startsWith(BENCH_CLIENT)) {
        bench += added;
        continue;
      }
      byApi.set(api, (byApi.get(api) ?? 0) + added);
      byClient.set(clientId, (byClient.get(clientId) ?? 0) + added);
    }
  }
  return { orders, byApi, byClient, bench };
}
