/**
 * One flow: search by order id, correlation id or event id (the query is in the address, #/flow?q=...), and
 * its causation tree: each event under its cause with its service, type, time and hop latency, and its
 * decoded data. Polled every two seconds while shown, redrawn when the flow grew.
 */
import { getJson, problemText } from './api.js';
import { el, ms, type Child } from './dom.js';
import { poll } from './map-page.js';

interface FlowEvent {
  id: string;
  type: string;
  service: string;
  time: string;
  hopMs?: number;
  subject?: string;
  topic: string;
  partition: number;
  offset: string;
  correlationId?: string;
  decoded: { data: unknown } | { error: { code: string; message: string } };
  children: FlowEvent[];
}

interface FlowAnswer {
  query: string;
  match: string;
  correlationIds: string[];
  events: number;
  services: string[];
  spanMs: number;
  roots: FlowEvent[];
}

export function flowPage(root: HTMLElement, query: string | undefined): () => void {
  const input = el('input', { id: 'flow-query', name: 'q', placeholder: 'order id, correlation id or event id', value: query });
  const form = el('form', { class: 'search' }, input, ' ', el('button', { type: 'submit' }, 'Show the flow'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/flow?q=${encodeURIComponent(input.value.trim())}`;
  });
  const result = el('div', { id: 'flow' });
  root.replaceChildren(el('h2', {}, 'One flow'), form, result);
  if (query === undefined || query === '') {
    result.append(el('p', { class: 'muted' }, 'Give an order id (an event subject or Kafka key), a correlation id or an event id.'));
    return () => undefined;
  }
  let shown = -1;
  return poll(async () => {
    const answer = await getJson<FlowAnswer>(`/api/flows?q=${encodeURIComponent(query)}`);
    if (answer.status !== 200) {
      result.replaceChildren(el('p', { class: 'problem' }, problemText(answer)));
      shown = -1;
      return;
    }
    const flow = answer.body;
    if (flow.events === shown) return;
    shown = flow.events;
    result.replaceChildren(
      el('p', {}, `${flow.events} events across ${flow.services.join(', ')} in ${ms(flow.spanMs)} (matched the ${flow.match} id; correlation ${flow.correlationIds.join(', ') || 'none'})`),
      el('div', { class: 'tree' }, ...flow.roots.map(node)),
    );
  }, 2000);
}

function node(event: FlowEvent): HTMLElement {
  const data: Child = 'data' in event.decoded ? JSON.stringify(event.decoded.data, null, 2) : `cannot decode: ${event.decoded.error.code} ${event.decoded.error.message}`;
  return el(
    'details',
    { open: '', 'data-event-type': event.type, 'data-service': event.service, 'data-event-id': event.id },
    el(
      'summary',
      {},
      el('span', { class: 'service' }, event.service),
      ' ',
      event.type,
      ' ',
      el('span', { class: 'muted' }, event.time),
      ' ',
      el('span', { class: 'hop' }, event.hopMs === undefined ? '' : `+${ms(event.hopMs)}`),
    ),
    el('div', { class: 'muted' }, `${event.topic}/${event.partition}@${event.offset} · id ${event.id}`),
    el('pre', {}, data),
    ...event.children.map(node),
  );
}
