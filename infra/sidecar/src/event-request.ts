/**
 * An event a micrologic asks the sidecar to publish, as it comes over HTTP: in the body of `POST /v1/events`
 * (a CloudEvent in structured JSON mode, or a batch of them) and in the `events` of a delivery's answer. The
 * one check both go through, naming the attribute or the data field that is wrong:
 *
 *   { "specversion": "1.0",                  optional; "1.0" when given
 *     "type": "shoal.loyalty.PointsAwarded", required; one of the config's `publishes`
 *     "subject": "o-1",                      required; the aggregate id and the Kafka key
 *     "data": { … },                         required; JSON matching the Avro schema of `type`
 *     "id": "…",                             optional; the same id again is accepted once (a safe retry)
 *     "datacontenttype": "application/json", optional; JSON is the only data format taken
 *     "correlationid": "…", "causationid": "…", "traceparent": "…" }   optional
 *
 * `source`, `time`, the Kafka key, Avro and the wire format are the sidecar's: a request that sets `source` or
 * `time`, or any other attribute, is refused rather than half obeyed.
 */
import { dataProblems, type SchemaCatalog } from '@shoal/contract';

export interface EventRequest {
  type: string;
  subject: string;
  data: unknown;
  id?: string;
  correlationid?: string;
  causationid?: string;
  traceparent?: string;
}

export interface RequestProblem {
  /** Where in the request body: `type`, `data.total.amount`, `[3].subject`. */
  path: string;
  message: string;
}

const ATTRIBUTES = new Set(['specversion', 'type', 'subject', 'data', 'id', 'datacontenttype', 'correlationid', 'causationid', 'traceparent']);
const OPTIONAL_STRINGS = ['id', 'correlationid', 'causationid', 'traceparent'] as const;
const MAX_ATTRIBUTE_LENGTH = 256;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Checks one requested event; `at` prefixes every problem's path (`events[2].` for the third of an answer). */
export function checkEventRequest(
  value: unknown,
  at: string,
  publishes: ReadonlySet<string>,
  catalog: SchemaCatalog,
): { request: EventRequest; problems: [] } | { request: undefined; problems: RequestProblem[] } {
  const problems: RequestProblem[] = [];
  const path = (name: string) => `${at}${name}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { request: undefined, problems: [{ path: at === '' ? 'body' : at.replace(/\.$/, ''), message: 'a CloudEvent (a JSON object) is expected' }] };
  }
  const event = value as Record<string, unknown>;
  for (const name of Object.keys(event)) {
    if (ATTRIBUTES.has(name)) continue;
    const why = name === 'source' || name === 'time' ? 'the sidecar sets it' : 'not an attribute the sidecar takes';
    problems.push({ path: path(name), message: `${why} (it takes ${[...ATTRIBUTES].join(', ')})` });
  }
  if (event.specversion !== undefined && event.specversion !== '1.0') problems.push({ path: path('specversion'), message: `must be "1.0", got ${show(event.specversion)}` });
  if (event.datacontenttype !== undefined && event.datacontenttype !== 'application/json') {
    problems.push({ path: path('datacontenttype'), message: `must be application/json, got ${show(event.datacontenttype)}` });
  }
  for (const name of ['type', 'subject'] as const) {
    const attribute = event[name];
    if (typeof attribute !== 'string' || attribute === '') problems.push({ path: path(name), message: `a non-empty string is required, got ${show(attribute)}` });
    else if (attribute.length > MAX_ATTRIBUTE_LENGTH) problems.push({ path: path(name), message: `longer than ${MAX_ATTRIBUTE_LENGTH} characters` });
  }
  for (const name of OPTIONAL_STRINGS) {
    const attribute = event[name];
    if (attribute === undefined) continue;
    if (typeof attribute !== 'string' || attribute === '') problems.push({ path: path(name), message: `a non-empty string is expected, got ${show(attribute)}` });
    else if (attribute.length > MAX_ATTRIBUTE_LENGTH) problems.push({ path: path(name), message: `longer than ${MAX_ATTRIBUTE_LENGTH} characters` });
  }
  if (typeof event.traceparent === 'string' && !TRACEPARENT.test(event.traceparent)) problems.push({ path: path('traceparent'), message: 'not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)' });
  const type = event.type;
  if (typeof type === 'string' && type !== '') {
    if (!publishes.has(type)) {
      problems.push({ path: path('type'), message: `${type} is not one of the types this sidecar publishes (${[...publishes].join(', ') || 'none'})` });
    } else if (!('data' in event)) {
      problems.push({ path: path('data'), message: `required: the data of ${type}` });
    } else {
      const avroType = catalog.avroType(catalog.event(type).name);
      // The plain check first: naming the wrong fields walks the data again, worth it only when one is wrong.
      if (!avroType.isValid(event.data)) {
        for (const problem of dataProblems(avroType, event.data)) problems.push({ path: `${at}${problem.path}`, message: `expected ${problem.expected}, got ${problem.got}` });
      }
    }
  }
  if (problems.length > 0) return { request: undefined, problems };
  const request: EventRequest = { type: type as string, subject: event.subject as string, data: event.data };
  for (const name of OPTIONAL_STRINGS) if (typeof event[name] === 'string') request[name] = event[name];
  return { request, problems: [] };
}

/** The problems as one line: `data.points: expected long, got "ten"; subject: …`. */
export function describeProblems(problems: readonly RequestProblem[], limit = 5): string {
  const shown = problems.slice(0, limit).map((problem) => `${problem.path}: ${problem.message}`);
  return problems.length > limit ? `${shown.join('; ')}; and ${problems.length - limit} more` : shown.join('; ');
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
