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
 * was given are kept in `sidecar_published` (id, topic, accepted_at) for `publishedRetention` (default 7 days,
 * like the inbox): the same id sent again later than that is taken as a new event. An event without an id
 * gets a UUIDv7 and is not remembered. The id is claimed with an insert that does nothing when the row is
 * there, so two instances of the sidecar on one PostgreSQL database given the same id at once store it once.
 */
import type { FastifyPluginAsync } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import type { SchemaCatalog } from '@shoal/contract';
import { sendProblem } from '@shoal/service';
import { afterValue, type ServiceDatabase } from '@shoal/store';
import { eventOf, type EffectsContext } from './effects.js';
import { inOrder } from './in-order.js';
import { checkEventRequest, describeProblems, type EventRequest, type RequestProblem } from './event-request.js';

export const STRUCTURED_TYPE = 'application/cloudevents+json';
export const BATCH_TYPE = 'application/cloudevents-batch+json';
export const MAX_BATCH_EVENTS = 10_000;
/** Room for a full batch of events of a few hundred bytes each. */
export const PUBLISH_BODY_LIMIT = 16 * 1024 * 1024;
const PROBLEMS_LISTED = 100;
const CLAIM_ID = 'INSERT INTO sidecar_published (id, topic, accepted_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING';
const TOPIC_OF_ID = 'SELECT topic FROM sidecar_published WHERE id = ?';
const PRUNE_CHUNK = 'DELETE FROM sidecar_published WHERE id IN (SELECT id FROM sidecar_published WHERE accepted_at < ? ORDER BY accepted_at LIMIT ?)';

/**
 * Forgets the ids POST /v1/events accepted before `before` (ms since the epoch), `chunk` rows per
 * transaction with the event loop let in between, as the inbox is pruned; how many went.
 */
export async function prunePublishedIds(database: ServiceDatabase, before: number, chunk = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await database.transact((tx) => tx.sql.run(PRUNE_CHUNK, [before, chunk]));
    total += deleted;
    if (deleted < chunk) return total;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export interface PublishRoutesOptions {
  database: ServiceDatabase;
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

  const publish = (requests: readonly EventRequest[]): Promise<Accepted[]> =>
    database.transact((tx) => {
      const accepted: Accepted[] = [];
      const now = effects.now().getTime();
      const done = inOrder(requests, (request) => {
        const topic = catalog.event(request.type).topic;
        const emit = (id: string) => {
          tx.emitUntyped(eventOf({ ...request, id }, effects));
          accepted.push({ id, topic });
        };
        if (request.id === undefined) return emit(uuidv7());
        const id = request.id;
        return afterValue(tx.sql.run(CLAIM_ID, [id, topic, now]), (claimed) => {
          if (claimed === 1) return emit(id);
          return afterValue(tx.sql.get<{ topic: string }>(TOPIC_OF_ID, [id]), (earlier) => void accepted.push({ id, topic: earlier!.topic, duplicate: true }));
        });
      });
      return afterValue(done, () => accepted);
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
