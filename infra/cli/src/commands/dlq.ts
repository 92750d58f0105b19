import { parseArgs } from 'node:util';
import { ShoalError } from '@shoal/core';
import type { DlqDeadLetter, DlqFailure, DlqListBody, DlqParkedRecord, DlqRedriveBody, DlqRedriveResult, DlqSkipBody, DlqSkipResult } from '@shoal/consumer';
import { paint } from '../output.js';
import { defaultPortsUsage, ServiceAdmin, serviceUrl } from '../service-admin.js';

/**
 * `shoal dlq list|redrive|skip <service>`: the dead letters a running service holds in its database and the
 * records parked behind them (@shoal/consumer's parking), over the service's admin routes
 * (libs/service/src/dlq-admin-routes.ts), whose bodies are typed by @shoal/consumer's Dlq* types.
 */
export const dlqUsage = `Usage: shoal dlq <list|redrive|skip> <service> [options]

The dead letters of a running service's consumer groups: a record that failed for good (poison, or its
retries ran out) is in the group's dead-letter topic and held in the service's database, and the later
records of its key are parked behind it, in order, while other keys flow.

  list <service>                 every dead letter, one a line, with the records parked behind it indented
  redrive <service> [--key <k>]  run the handler again on the dead letter (of every key without --key), then
                                 on the parked records in order, each once; what fails again stays parked
  skip <service> --key <k>       drop the key's dead letter (it stays in the dead-letter topic) and release
                                 the parked records in order through the handler

Options:
  --key <key>      the key (the Kafka key, e.g. an order id)
  --group <group>  only this consumer group of the service (default: every group that holds the key)
  --json           print the admin route's JSON body as it is
  --url <url>      the service's base URL (default http://127.0.0.1:<its default port>)
  -h, --help       show this help

${defaultPortsUsage()}
Exit codes: 0 done, 1 a record failed again and stays parked, or the service refused (an unknown key) or
cannot be reached, 2 a usage error.
`;

const ACTIONS = ['list', 'redrive', 'skip'] as const;
type Action = (typeof ACTIONS)[number];

export async function runDlq(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: 'string' },
      group: { type: 'string' },
      json: { type: 'boolean' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(dlqUsage);
    return 0;
  }
  const [action, service, ...extra] = positionals;
  if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', action === undefined ? 'name what to do: list, redrive or skip' : `unknown action '${action}' (list, redrive, skip)`);
  }
  if (service === undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', `name the service whose dead letters to ${action === 'list' ? 'list' : action}`);
  if (extra.length > 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `unexpected argument '${extra[0]}'`);
  for (const flag of ['key', 'group'] as const) {
    if (values[flag] === '') throw new ShoalError('SHOAL_CONFIG_INVALID', `--${flag} is empty`);
  }
  if (action === 'list' && (values.key !== undefined || values.group !== undefined)) throw new ShoalError('SHOAL_CONFIG_INVALID', 'list takes no --key or --group: it lists every dead letter');
  if (action === 'skip' && values.key === undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', 'skip needs the --key whose dead letter to drop');
  const admin = new ServiceAdmin(service, serviceUrl(service, values.url));
  const scope = { ...(values.key === undefined ? {} : { key: values.key }), ...(values.group === undefined ? {} : { group: values.group }) };
  switch (action as Action) {
    case 'list': {
      const body = await admin.request<DlqListBody>('GET', '/admin/dlq');
      process.stdout.write(values.json ? `${JSON.stringify(body, null, 2)}\n` : listText(body));
      return 0;
    }
    case 'redrive': {
      const body = await admin.request<DlqRedriveBody>('POST', '/admin/dlq/redrive', scope);
      process.stdout.write(values.json ? `${JSON.stringify(body, null, 2)}\n` : body.results.length === 0 ? `no dead letters to redrive in ${service}\n` : body.results.map(redriveLine).join(''));
      return body.results.some((result) => result.error !== undefined) ? 1 : 0;
    }
    case 'skip': {
      const body = await admin.request<DlqSkipBody>('POST', '/admin/dlq/skip', scope);
      process.stdout.write(values.json ? `${JSON.stringify(body, null, 2)}\n` : body.results.map(skipLine).join(''));
      return body.results.some((result) => result.error !== undefined) ? 1 : 0;
    }
  }
}

/** `orders.order[3]@1207`: where a record was read. */
function where(record: Pick<DlqParkedRecord, 'topic' | 'partition' | 'offset'>): string {
  return `${record.topic}[${record.partition}]@${record.offset}`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** One dead letter a line, the records parked behind it indented under it. */
export function listText(body: DlqListBody): string {
  const lines: string[] = [];
  for (const { group, deadLetters } of body.groups) for (const letter of deadLetters) lines.push(deadLetterLine(group, letter), ...letter.parked.map(parkedLine));
  if (lines.length === 0) return `no dead letters in ${body.service}\n`;
  return `${lines.join('\n')}\n`;
}

function deadLetterLine(group: string, letter: DlqDeadLetter): string {
  const { reason } = letter;
  return [
    `${paint('bold', `${group} ${letter.key}`)}:`,
    where(letter),
    letter.type ?? '(no type)',
    letter.eventId ?? '(no id)',
    `failed ${letter.failedAt}`,
    `${paint('red', reason.code)} (${reason.kind}, ${plural(reason.attempts, 'attempt')}): ${reason.message};`,
    `${plural(letter.parked.length, 'record')} parked`,
  ].join(' ');
}

function parkedLine(record: DlqParkedRecord): string {
  return `  parked ${where(record)} ${record.type ?? '(no type)'} ${record.eventId ?? '(no id)'} at ${record.parkedAt}`;
}

function failedAgain(error: DlqFailure | undefined, stillParked: number): string {
  if (error === undefined) return '';
  return `; then a record failed again: ${paint('red', error.code)}: ${error.message}; it is the dead letter now, ${plural(stillParked, 'record')} parked behind it`;
}

export function redriveLine(result: DlqRedriveResult): string {
  return `redrove ${result.group} ${result.key}: ${plural(result.handled, 'record')} handled${failedAgain(result.error, result.stillParked)}\n`;
}

export function skipLine(result: DlqSkipResult): string {
  return `skipped ${result.group} ${result.key}: dropped ${result.skipped ?? 'its dead letter'} (it stays in the dead-letter topic), ${plural(result.handled, 'record')} released${failedAgain(result.error, result.stillParked)}\n`;
}
