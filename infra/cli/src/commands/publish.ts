import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { ShoalError } from '@shoal/core';
import { EventCodec, RegistryClient, type CloudEvent, type SchemaCatalog } from '@shoal/contract';
import { Publisher } from '@shoal/transport';
import { schemaCatalogOption, schemasOption } from '../schema-catalog-option.js';
import { brokerUnavailable, cliKafka, endpointOptions, endpointUsage, resolveEndpoints } from '../connection.js';

export const publishUsage = `Usage: shoal publish <topic> --type <ce-type> (--data '<json>' | --file <path> | JSON lines on stdin) [options]

Publishes CloudEvents with Avro data: validates the JSON data against the type's schema (errors name the
field), encodes it in the Confluent wire format, and prints where each event landed.

  shoal publish orders.order --type shoal.orders.OrderShipped \\
    --data '{"orderId":"o-1","customerId":"c-1","shipmentId":"s-1","trackingNumber":"T1","shippedAt":1767225600000}'

Options:
${endpointUsage}
  --type <ce-type>              the CloudEvent type = the Avro record's full name (required)
  --data <json>                 the event's data as one JSON object
  --file <path>                 a file holding one JSON object, or JSON lines (one event each)
                                (without --data and --file, JSON lines are read from stdin)
  --key <key>                   Kafka key / partitionkey (default: the data's key field from schemas/manifest.json)
  --source <uri>                ce_source (default /shoal/cli)
  --subject <s>                 ce_subject (default: the key)
  --correlation-id <id>         ce_correlationid
  --causation-id <id>           ce_causationid
  --schemas <dir>               the schemas folder (default: the repository's schemas/)
  --json                        print one JSON object per event instead of a sentence
  -h, --help                    show this help

Types in schemas/ are written with their schema from the working tree (which must be registered: see
'shoal schemas register'); other types with the latest schema of subject <topic>-<type>.
`;

/** One JSON document, or JSON lines: what --data, --file and stdin may hold. */
function parseDataDocuments(text: string, origin: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new ShoalError('SHOAL_CONFIG_INVALID', `${origin} holds no event data`);
  try {
    return [JSON.parse(trimmed)];
  } catch {
    // Not one document: JSON lines.
  }
  return trimmed.split('\n').flatMap((line, index) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line)];
    } catch (error) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `${origin} line ${index + 1} is not JSON: ${(error as Error).message}`);
    }
  });
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new ShoalError('SHOAL_CONFIG_INVALID', 'give the data with --data, --file or JSON lines on stdin');
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) lines.push(line);
  return lines.join('\n');
}

function keyOf(catalog: SchemaCatalog, topic: string, type: string, data: unknown, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit;
  const field = catalog.topics.get(topic)?.key;
  if (field === undefined || typeof data !== 'object' || data === null) return undefined;
  const value = (data as Record<string, unknown>)[field];
  if (typeof value !== 'string' || value === '') {
    throw new ShoalError('SHOAL_EVENT_DATA_INVALID', `${type} data needs a non-empty string '${field}': it is the Kafka key of ${topic}`);
  }
  return value;
}

export async function runPublish(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...endpointOptions,
      type: { type: 'string' },
      data: { type: 'string' },
      file: { type: 'string' },
      key: { type: 'string' },
      source: { type: 'string' },
      subject: { type: 'string' },
      'correlation-id': { type: 'string' },
      'causation-id': { type: 'string' },
      ...schemasOption,
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(publishUsage);
    return 0;
  }
  const [topic, ...extra] = positionals;
  if (topic === undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', 'name the topic to publish to');
  if (extra.length > 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `unexpected argument '${extra[0]}'`);
  const type = values.type;
  if (type === undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', '--type is required: the CloudEvent type, e.g. shoal.orders.OrderPlaced');
  if (values.data !== undefined && values.file !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', 'give --data or --file, not both');
  const endpoints = resolveEndpoints(values);
  const catalog = schemaCatalogOption(values);
  const expectedTopic = catalog.events.get(type)?.topic;
  if (expectedTopic !== undefined && expectedTopic !== topic) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `${type} belongs on topic ${expectedTopic} (schemas/manifest.json), not ${topic}`);
  }

  const documents =
    values.data !== undefined
      ? parseDataDocuments(values.data, '--data')
      : values.file !== undefined
        ? parseDataDocuments(await readFile(values.file, 'utf8'), values.file)
        : parseDataDocuments(await readStdin(), 'stdin');

  const events: CloudEvent<unknown>[] = documents.map((data) => {
    const key = keyOf(catalog, topic, type, data, values.key);
    return {
      specversion: '1.0',
      id: uuidv7(),
      source: values.source ?? '/shoal/cli',
      type,
      time: new Date().toISOString(),
      ...(values.subject ?? key ? { subject: values.subject ?? key } : {}),
      ...(key === undefined ? {} : { partitionkey: key }),
      ...(values['correlation-id'] === undefined ? {} : { correlationid: values['correlation-id'] }),
      ...(values['causation-id'] === undefined ? {} : { causationid: values['causation-id'] }),
      data,
    } as CloudEvent<unknown>;
  });

  const codec = new EventCodec({ registry: new RegistryClient({ url: endpoints.registry, retries: 1 }), catalog });
  const publisher = new Publisher({ kafka: cliKafka(endpoints.brokers), codec });
  try {
    await publisher.connect();
    // One call: every event is encoded (and validated) before any is sent, so bad data sends nothing.
    const placed = await publisher.publishUntyped(events, { topic });
    for (const p of placed) {
      process.stdout.write(values.json ? `${JSON.stringify({ ...p, type })}\n` : `published ${type} ${p.id} to ${p.topic} partition ${p.partition} offset ${p.offset}\n`);
    }
  } catch (error) {
    throw brokerUnavailable(error, endpoints.brokers);
  } finally {
    await publisher.disconnect();
  }
  return 0;
}
