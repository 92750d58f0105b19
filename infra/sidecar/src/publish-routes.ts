/**
 * `POST /v1/events`: the micrologic publishes. The body is one CloudEvent in structured JSON mode
 * (`application/cloudevents+json`, or plain `application/json`) or a batch of them
 * (`application/cloudevents-batch+json`, 1 to 10,000 events). Every event is checked first
 * (event-request.ts); one bad event refuses the whole request with a 400 naming each wrong attribute or data
 * field, and nothing of it is stored. Then the batch is written to the outbox in one transaction, and the
 * answer, 202, comes once it is committed:
 *
 *   one event   202 {"id": "…", "topic": "loyalty.points"}
 *   a batch     202 {"events": [{"id": "…", "topic": "…"}, …]}   in the order sent
 *
 * An event with an `id` the sidecar already accepted is not stored again, and answered as the first time
 * (`"duplicate": true`), so a micrologic that lost an answer sends the same request again safely. The ids it
 * was given are kept in `sidecar_published` (id, topic, accepted_at); an event without one gets a UUIDv7.
 */
import type { FastifyPluginAsync } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import type { SchemaCatalog } from '@shoal/contract';
import { sendProblem } from '@shoal/service';
import type { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { eventOf, type EffectsContext } from './effects.js';
import { checkEventRequest, describeProblems, type EventRequest, type RequestProblem } from './event-request.js';

export const STRUCTURED_TYPE = 'application/cloudevents+json';
export const BATCH_TYPE = 'application/cloudevents-batch+json';
export const MAX_BATCH_EVENTS = 10_000;
/** Room for a full batch of events of a few hundred bytes each. */
export const PUBLISH_BODY_LIMIT = 16 * 1024 * 1024;
const PROBLEMS_LISTED = 100;

export interface PublishRoutesOptions {
  database: SqliteServiceDatabase;
  catalog: SchemaCatalog;
  publishes: ReadonlySet<string>;
  effects: EffectsContext;
}

interface Accepted {
  id: string;
  topic: string;
  duplicate?: true;
}

export function publishRoutes(options: PublishRoutesOptions): FastifyPluginAsync {
  const { database, catalog, publishes, effects } = options;
  database.db.exec('CREATE TABLE IF NOT EXISTS sidecar_published (id TEXT PRIMARY KEY, topic TEXT NOT NULL, accepted_at INTEGER NOT NULL)');
  const findPublished = database.db.prepare<[string], string>('SELECT topic FROM sidecar_published WHERE id = ?').pluck();
  const rememberPublished = database.db.prepare<[string, string, number]>('INSERT INTO sidecar_published (id, topic, accepted_at) VALUES (?, ?, ?)');

  const publish = (requests: readonly EventRequest[]): Promise<Accepted[]> =>
    database.transact((tx) => {
      const accepted: Accepted[] = [];
      const now = effects.now().getTime();
      for (const request of requests) {
        const topic = catalog.event(request.type).topic;
        if (request.id !== undefined) {
          const earlier = findPublished.get(request.id);
          if (earlier !== undefined) {
            accepted.push({ id: request.id, topic: earlier, duplicate: true });
            continue;
          }
        }
        const event = eventOf({ ...request, id: request.id ?? uuidv7() }, effects);
        tx.emitUntyped(event);
        if (request.id !== undefined) rememberPublished.run(event.id, topic, now);
        accepted.push({ id: event.id, topic });
      }
      return accepted;
    });

  return async (app) => {
    app.addContentTypeParser([STRUCTURED_TYPE, BATCH_TYPE], { parseAs: 'string', bodyLimit: PUBLISH_BODY_LIMIT }, app.getDefaultJsonParser('error', 'error'));
    app.post('/v1/events', { bodyLimit: PUBLISH_BODY_LIMIT }, async (request, reply) => {
      const contentType = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const batch = contentType === BATCH_TYPE;
      const body = request.body;
      const problems: RequestProblem[] = [];
      const requests: EventRequest[] = [];
      if (batch) {
        if (!Array.isArray(body)) problems.push({ path: 'body', message: `a ${BATCH_TYPE} body is a JSON array of CloudEvents` });
        else if (body.length === 0) problems.push({ path: 'body', message: 'the batch is empty' });
        else if (body.length > MAX_BATCH_EVENTS) {
          return sendProblem(request, reply, {
            status: 413,
            code: 'SHOAL_REQUEST_INVALID',
            detail: `The batch holds ${body.length} events; at most ${MAX_BATCH_EVENTS} are taken per request`,
          });
        } else {
          body.forEach((event, index) => {
            const checked = checkEventRequest(event, `[${index}].`, publishes, catalog);
            if (checked.request === undefined) problems.push(...checked.problems);
            else requests.push(checked.request);
          });
        }
      } else {
        const checked = checkEventRequest(body, '', publishes, catalog);
        if (checked.request === undefined) problems.push(...checked.problems);
        else requests.push(checked.request);
      }
      if (problems.length > 0) {
        const code = problems.some((problem) => /^(\[\d+\]\.)?data\b/.test(problem.path)) ? 'SHOAL_EVENT_DATA_INVALID' : 'SHOAL_EVENT_INVALID';
        return sendProblem(request, reply, {
          status: 400,
          code,
          detail: `Nothing was published: ${describeProblems(problems)}`,
          errors: problems.slice(0, PROBLEMS_LISTED),
        });
      }
      const accepted = await publish(requests);
      void reply.code(202);
      return batch ? { events: accepted } : accepted[0];
    });
  };
}
