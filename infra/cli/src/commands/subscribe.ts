import { randomUUID } from 'node:crypto';
import { inspect, parseArgs } from 'node:util';
import { ShoalError, isShoalError } from '@shoal/core';
import { EventCodec, RegistryClient, type CloudEvent } from '@shoal/contract';
import { Subscriber, type MessageContext } from '@shoal/transport';
import { schemaCatalogOption, schemasOption } from '../schema-catalog-option.js';
import { brokerUnavailable, cliKafka, endpointOptions, endpointUsage, resolveEndpoints } from '../connection.js';
import { integerOption } from '../options.js';
import { paint } from '../output.js';

export const subscribeUsage = `Usage: shoal subscribe <topic...> [options]

Prints the CloudEvents of the topics with their data decoded: one JSON object per line when the output is
a pipe or a file ({"topic","partition","offset","key","event":{...}}), readable and coloured in a terminal.
Ctrl-C stops it.

Options:
${endpointUsage}
  --from-beginning              start at the oldest event (default: only new events)
  --group <id>                  consume as this consumer group, committing offsets (default: a throwaway group
                                that is deleted on exit)
  --type <ce-type>              print only this type; repeatable
  --max-messages <n>            stop after printing n events
  --schemas <dir>               reader schemas for the types it knows (default: the repository's schemas/)
  -h, --help                    show this help

A record that is not a valid Shoal event (bad CloudEvent headers, not Avro, unknown schema id) is reported
on stderr with its position, and consumption goes on.
`;

/** JSON of event data: Avro bytes and fixed values become base64, as in CloudEvents' JSON format. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('base64');
  }
  return typeof value === 'bigint' ? value.toString() : value;
}

function forPeople(event: CloudEvent<unknown>, context: MessageContext): string {
  const where = paint('dim', `${context.topic}/${context.partition}@${context.offset}`);
  const attributes = Object.entries(event)
    .filter(([name, value]) => value !== undefined && !['type', 'data', 'specversion', 'datacontenttype'].includes(name))
    .map(([name, value]) => `${paint('dim', `${name}=`)}${String(value)}`)
    .join(' ');
  const data = inspect(event.data, { colors: process.stdout.isTTY && process.env.NO_COLOR === undefined, depth: 8, breakLength: 100, compact: 4 });
  return `${where} ${paint(['bold', 'cyan'], event.type)} ${attributes}\n${data.replace(/^/gm, '  ')}\n`;
}

export async function runSubscribe(argv: string[]): Promise<number> {
  const { values, positionals: topics } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...endpointOptions,
      'from-beginning': { type: 'boolean' },
      group: { type: 'string' },
      type: { type: 'string', multiple: true },
      'max-messages': { type: 'string' },
      ...schemasOption,
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(subscribeUsage);
    return 0;
  }
  if (topics.length === 0) throw new ShoalError('SHOAL_CONFIG_INVALID', 'name at least one topic to subscribe to');
  const maxMessages = integerOption(values['max-messages'], '--max-messages', { min: 1 });
  const endpoints = resolveEndpoints(values);
  const catalog = schemaCatalogOption(values);
  const types = values.type === undefined ? undefined : new Set(values.type);
  const throwaway = values.group === undefined;
  const groupId = values.group ?? `shoal-cli-${randomUUID()}`;
  const kafka = cliKafka(endpoints.brokers);
  const forTerminal = process.stdout.isTTY;

  let printed = 0;
  let finish: (reason: string) => void = () => undefined;
  const finished = new Promise<string>((resolveFinished) => (finish = resolveFinished));
  const subscriber = new Subscriber({
    kafka,
    groupId,
    topics,
    fromBeginning: values['from-beginning'] === true,
    codec: new EventCodec({ registry: new RegistryClient({ url: endpoints.registry }), catalog }),
    onError: (error, context) => {
      const reason = isShoalError(error) ? `${error.code}: ${error.message}` : String(error);
      process.stderr.write(`${paint('red', 'skipped', process.stderr)} ${context.topic}/${context.partition}@${context.offset}: ${reason}\n`);
    },
    logger: { error: (_details, message) => process.stderr.write(`${message}\n`) },
  });
  subscriber.onAny((event, context) => {
    if (types !== undefined && !types.has(event.type)) return;
    if (maxMessages !== undefined && printed >= maxMessages) return;
    printed += 1;
    process.stdout.write(
      forTerminal
        ? forPeople(event, context)
        : `${JSON.stringify({ topic: context.topic, partition: context.partition, offset: context.offset, key: context.key, event }, jsonReplacer)}\n`,
    );
    if (maxMessages !== undefined && printed >= maxMessages) finish('max-messages');
  });

  const onSignal = (signal: NodeJS.Signals) => finish(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await subscriber.run();
    if (forTerminal) process.stderr.write(paint('dim', `subscribed to ${topics.join(', ')} as group ${groupId}; Ctrl-C stops\n`, process.stderr));
    await Promise.race([finished, subscriber.whenStopped()]);
  } catch (error) {
    throw brokerUnavailable(error, endpoints.brokers);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await subscriber.stop();
    if (throwaway) await deleteGroup(kafka, groupId);
  }
  return 0;
}

/** The throwaway group leaves no trace; failing to delete it is not worth failing the command for. */
async function deleteGroup(kafka: ReturnType<typeof cliKafka>, groupId: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch {
    // The group expires with its offsets anyway.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
