/**
 * Requests the broker received, by API and by client id: where a platform's broker traffic goes (the e2e
 * benchmark prints them per order), so a change that adds or removes requests shows up as a number.
 *
 * Counted when a request is routed, before it is handled: a parked long-poll Fetch counts once, when it
 * arrives. A frame the broker cannot route (an unknown API key) closes its connection and is not counted.
 * One increment per request on a small map: nothing a benchmark could see.
 */
export interface RequestCount {
  /** The API's name as the Kafka protocol guide spells it (Produce, Fetch, OffsetCommit, ...). */
  api: string;
  apiKey: number;
  /** The client id of the request header; '' for none. */
  clientId: string;
  requests: number;
}

export class RequestCounts {
  private readonly byClient = new Map<string, Map<number, { api: string; requests: number }>>();

  count(clientId: string | null, apiKey: number, api: string): void {
    const client = clientId ?? '';
    let apis = this.byClient.get(client);
    if (apis === undefined) {
      apis = new Map();
      this.byClient.set(client, apis);
    }
    const entry = apis.get(apiKey);
    if (entry === undefined) apis.set(apiKey, { api, requests: 1 });
    else entry.requests += 1;
  }

  /** Every count so far, by client id then API key. */
  list(): RequestCount[] {
    const counts: RequestCount[] = [];
    for (const [clientId, apis] of [...this.byClient].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const [apiKey, { api, requests }] of [...apis].sort(([a], [b]) => a - b)) counts.push({ api, apiKey, clientId, requests });
    }
    return counts;
  }
}

const METRIC = 'shoal_broker_requests_total';

/** The counts in the Prometheus text format: `shoal_broker_requests_total{api="Fetch",client="orders"} 1234`. */
export function requestCountsText(counts: readonly RequestCount[]): string {
  const lines = [`# HELP ${METRIC} Requests received, by Kafka API and client id`, `# TYPE ${METRIC} counter`];
  for (const { api, clientId, requests } of counts) lines.push(`${METRIC}{api="${api}",client="${escapeLabel(clientId)}"} ${requests}`);
  return `${lines.join('\n')}\n`;
}

/** Reads `requestCountsText` back (the benchmark's side): other lines are ignored. */
export function parseRequestCounts(text: string): Array<Pick<RequestCount, 'api' | 'clientId' | 'requests'>> {
  const counts: Array<Pick<RequestCount, 'api' | 'clientId' | 'requests'>> = [];
  const sample = new RegExp(`^${METRIC}\\{api="([^"]*)",client="((?:[^"\\\\]|\\\\.)*)"\\} (\\d+)$`);
  for (const line of text.split('\n')) {
    const match = sample.exec(line);
    if (match !== null) counts.push({ api: match[1]!, clientId: unescapeLabel(match[2]!), requests: Number(match[3]) });
  }
  return counts;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
}
