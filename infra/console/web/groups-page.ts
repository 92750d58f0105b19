/**
 * Consumer groups: each group's state, members and lag per partition (the console's kafkajs admin), then each
 * service's dead letters and the records parked behind them (its GET /admin/dlq), with a redrive and a skip
 * button per key that ask the console's server, which asks the service.
 */
import { getJson, postJson, problemText } from './api.js';
import { el, table } from './dom.js';
import { poll } from './map-page.js';

interface Group {
  group: string;
  state: string;
  lag: number;
  members: Array<{ clientId: string; host: string; topics: string[]; assignment: Array<{ topic: string; partitions: number[] }> }>;
  partitions: Array<{ topic: string; partition: number; committed: string | null; end: string; lag: number }>;
}

interface DeadLetter {
  key: string;
  topic: string;
  partition: number;
  offset: string;
  eventId: string;
  type: string;
  reason: { code: string; message: string; kind: string; attempts: number };
  failedAt: string;
  parked: Array<{ topic: string; partition: number; offset: string; eventId: string; type: string; parkedAt: string }>;
}

type ServiceDlq = { service: string; groups: Array<{ group: string; deadLetters: DeadLetter[] }> } | { service: string; problem: string };

export function groupsPage(root: HTMLElement): () => void {
  const groups = el('div', { id: 'groups' });
  const dlq = el('div', { id: 'dlq' });
  const outcome = el('p', { id: 'dlq-outcome' });
  root.replaceChildren(el('h2', {}, 'Consumer groups'), groups, el('h2', {}, 'Dead letters and parked events'), outcome, dlq);
  const act = async (service: string, action: 'redrive' | 'skip', key: string, group: string) => {
    outcome.textContent = `${action} ${key} on ${service}…`;
    const answer = await postJson<{ results?: Array<Record<string, unknown>> }>(`/api/services/${encodeURIComponent(service)}/dlq/${action}`, { key, group });
    outcome.textContent = answer.status === 200 ? `${action} ${key}: ${JSON.stringify(answer.body.results)}` : `${action} ${key} refused: ${problemText(answer)}`;
    outcome.className = answer.status === 200 ? '' : 'problem';
    await refresh();
  };
  const refresh = async () => {
    const [groupAnswer, dlqAnswer] = await Promise.all([getJson<{ groups: Group[] }>('/api/groups'), getJson<{ services: ServiceDlq[] }>('/api/dlq')]);
    groups.replaceChildren(...(groupAnswer.status === 200 ? groupAnswer.body.groups.map(groupSection) : [el('p', { class: 'problem' }, problemText(groupAnswer))]));
    dlq.replaceChildren(...dlqAnswer.body.services.map((service) => dlqSection(service, act)));
  };
  return poll(refresh, 2000);
}

function groupSection(group: Group): HTMLElement {
  return el(
    'section',
    { 'data-group': group.group },
    el('h3', {}, `${group.group} `, el('span', { class: 'muted' }, `${group.state}, ${group.members.length} member${group.members.length === 1 ? '' : 's'}, lag ${group.lag}`)),
    table(
      ['member', 'host', 'assigned'],
      group.members.map((member) => [member.clientId, member.host, member.assignment.map((assigned) => `${assigned.topic} [${assigned.partitions.join(', ')}]`).join('; ')]),
    ),
    table(
      ['topic', 'partition', 'committed', 'end', 'lag'],
      group.partitions.map((partition) => [partition.topic, partition.partition, partition.committed ?? '–', partition.end, partition.lag]),
      [1, 2, 3, 4],
    ),
  );
}

function dlqSection(service: ServiceDlq, act: (service: string, action: 'redrive' | 'skip', key: string, group: string) => Promise<void>): HTMLElement {
  if ('problem' in service) return el('section', { 'data-dlq-service': service.service }, el('h3', {}, service.service), el('p', { class: 'muted' }, service.problem));
  const rows = service.groups.flatMap((group) => group.deadLetters.map((letter) => ({ group: group.group, letter })));
  const button = (label: string, action: 'redrive' | 'skip', key: string, group: string) => {
    const element = el('button', { 'data-action': action, 'data-key': key }, label);
    element.addEventListener('click', () => void act(service.service, action, key, group));
    return element;
  };
  return el(
    'section',
    { 'data-dlq-service': service.service },
    el('h3', {}, service.service),
    rows.length === 0
      ? el('p', { class: 'muted' }, 'No dead letter.')
      : table(
          ['group', 'key', 'dead letter', 'reason', 'failed at', 'parked behind it', ''],
          rows.map(({ group, letter }) => [
            group,
            letter.key,
            `${letter.type} ${letter.topic}/${letter.partition}@${letter.offset}`,
            `${letter.reason.kind} after ${letter.reason.attempts}: ${letter.reason.code} ${letter.reason.message}`,
            letter.failedAt,
            letter.parked.length === 0 ? 'none' : letter.parked.map((parked) => `${parked.type} @${parked.offset}`).join(', '),
            el('span', {}, button('Redrive', 'redrive', letter.key, group), ' ', button('Skip', 'skip', letter.key, group)),
          ]),
        ),
  );
}
