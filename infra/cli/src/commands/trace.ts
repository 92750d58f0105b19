/**
 * `shoal trace <order id | correlation id | event id>`: one flow's causation tree in the terminal, found and
 * arranged by the console's own module (@shoal/console's findFlow), from every topic read here from the
 * beginning up to its end (the console's TrafficReader into an EventIndex of this process).
 */
import { parseArgs } from 'node:util';
import { decodeEventData, EventIndex, findFlow, flowLines, flowNodeJson, jsonSafe, TrafficReader, type FlowNode, type SeenEvent } from '@shoal/console';
import { ShoalError, sleep } from '@shoal/core';
import { EventCodec, RegistryClient } from '@shoal/contract';
import { brokerUnavailable, cliKafka, endpointOptions, endpointUsage, resolveEndpoints } from '../connection.js';
import { integerOption } from '../options.js';
import { paint } from '../output.js';
import { schemaCatalogOption, schemasOption } from '../schema-catalog-option.js';

export const traceUsage = `Usage: shoal trace <order id | correlation id | event id> [options]

Prints the causation tree of one flow: every event of it, one a line, under the event that caused it, with
the emitting service, the type, the event's time and the hop's latency (from its cause's time to its own).
The query is tried as an event id, then a correlation id, then an order id (an event's subject or Kafka key).
Every topic is read from the beginning up to its end first.

Options:
${endpointUsage}
  --json                        the tree as one JSON document, each event with its decoded data; with --follow,
                                one JSON object per event and line, its depth included
  --follow                      keep printing the flow's events as they come (Ctrl-C stops)
  --max-events <n>              events kept while reading, the oldest dropped first (default 5000000)
  --schemas <dir>               reader schemas of --json's data (default: the repository's schemas/)
  -h, --help                    show this help

Exit status: 0 printed (with --follow: stopped by Ctrl-C), 1 no event matches or Kafka cannot be reached,
2 a usage error.
`;

const CATCH_UP_POLL_MS = 50;

export async function runTrace(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...endpointOptions, json: { type: 'boolean' }, follow: { type: 'boolean' }, 'max-events': { type: 'string' }, ...schemasOption, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(traceUsage);
    return 0;
  }
  const [query, ...extra] = positionals;
  if (query === undefined || query.trim() === '') throw new ShoalError('SHOAL_CONFIG_INVALID', 'name the order id, correlation id or event id to trace');
  if (extra.length > 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `unexpected argument '${extra[0]}'`);
  const endpoints = resolveEndpoints(values);
  const maxEvents = integerOption(values['max-events'], '--max-events', { min: 1 }) ?? 5_000_000;
  const json = values.json === true;
  const codec = json ? new EventCodec({ registry: new RegistryClient({ url: endpoints.registry }), catalog: schemaCatalogOption(values) }) : undefined;
  const index = new EventIndex({ maxEvents });
  const reader = new TrafficReader({ kafka: cliKafka(endpoints.brokers, 'shoal-trace'), index, groupPrefix: 'shoal-trace' });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    try {
      await reader.start();
    } catch (error) {
      throw brokerUnavailable(error, endpoints.brokers);
    }
    while (!reader.caughtUp() && !stop.signal.aborted) await sleep(CATCH_UP_POLL_MS, stop.signal).catch(() => undefined);
    const flow = findFlow(index, query.trim());
    if (flow === undefined && values.follow !== true) {
      process.stderr.write(`shoal trace: no event has the id, correlation id or order id '${query}' (${index.size} events read from ${reader.status().topics.length} topics)\n`);
      return 1;
    }
    const depths = new Map<string, number>();
    if (flow !== undefined) {
      for (const { node, depth } of flowLines(flow)) depths.set(node.event.id, depth);
      if (json && values.follow !== true) {
        const withData = async (node: FlowNode): Promise<unknown> => ({ ...flowNodeJson(node), decoded: jsonSafe(await decodeEventData(codec!, node.event)), children: await Promise.all(node.children.map(withData)) });
        const { roots, ...summary } = flow;
        process.stdout.write(`${JSON.stringify({ ...summary, roots: await Promise.all(roots.map(withData)) }, null, 2)}\n`);
        return 0;
      }
      for (const { node, depth } of flowLines(flow)) await print(node.event, node.hopMs, depth, codec);
    }
    if (values.follow !== true) return 0;
    // Following: an event joins the flow when it shares its correlation, is of the order, or was caused by one of its events.
    const correlations = new Set(flow?.correlationIds ?? []);
    const belongs = (event: SeenEvent) =>
      depths.has(event.id) ||
      (event.correlationId !== undefined && correlations.has(event.correlationId)) ||
      event.subject === query ||
      event.key === query ||
      event.id === query ||
      event.correlationId === query ||
      (event.causationId !== undefined && depths.has(event.causationId));
    let printing = Promise.resolve();
    index.onEvent((event) => {
      if (!belongs(event) || depths.has(event.id)) return;
      if (event.correlationId !== undefined) correlations.add(event.correlationId);
      const cause = event.causationId === undefined ? undefined : index.get(event.causationId);
      const depth = cause === undefined ? 0 : (depths.get(cause.id) ?? -1) + 1;
      depths.set(event.id, depth);
      printing = printing.then(() => print(event, cause === undefined ? undefined : event.at - cause.at, depth, codec));
    });
    if (process.stderr.isTTY) process.stderr.write(paint('dim', `following ${query}; Ctrl-C stops\n`, process.stderr));
    await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
    await printing;
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await reader.stop();
  }
}

/** One event a line: indented service, type, time, hop; with --json (--follow) a JSON line instead. */
async function print(event: SeenEvent, hopMs: number | undefined, depth: number, codec: EventCodec | undefined): Promise<void> {
  if (codec !== undefined) {
    const node = { event, hopMs, children: [] };
    process.stdout.write(`${JSON.stringify({ depth, ...flowNodeJson(node), decoded: jsonSafe(await decodeEventData(codec, event)) })}\n`);
    return;
  }
  const service = `${'  '.repeat(depth)}${event.service}`;
  const time = event.time ?? new Date(event.at).toISOString();
  const hop = hopMs === undefined ? '' : `  +${hopMs} ms`;
  process.stdout.write(`${paint('bold', service.padEnd(Math.max(24, service.length + 1)))} ${paint('cyan', event.type.padEnd(40))} ${paint('dim', time)}${hop}\n`);
}
