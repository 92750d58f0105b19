/**
 * The dead-letter admin routes of a service, a fastify plugin the service host mounts on every service: the
 * dead letters its subscriptions hold in its database, with the records parked behind them, and their
 * redrive and skip (@shoal/consumer's parking). `shoal dlq` and the console use them; the bodies are
 * @shoal/consumer's Dlq* types.
 *
 *   GET  /admin/dlq           {"service", "groups": [{"group", "deadLetters": [{key, topic, partition, offset,
 *                             eventId, type, reason: {code, message, kind, attempts}, failedAt, parked: [...]}]}]}
 *   POST /admin/dlq/redrive   {} (every key of every group) or {"key"} (optionally "group") ->
 *                             {"results": [{group, key, handled, stillParked, error?}]}
 *   POST /admin/dlq/skip      {"key"} (optionally "group") -> {"results": [{group, key, skipped, handled, stillParked, error?}]}
 *
 * Refusals are problem+json from the app's one error handler: 400 SHOAL_REQUEST_INVALID (a body that does not
 * validate), 404 SHOAL_DLQ_KEY_UNKNOWN (no group here holds the key back, or no such group), 503 on an outage
 * (the registry or the database; nothing changed).
 */
import type { FastifyPluginAsync } from 'fastify';
import { ShoalError } from '@shoal/core';
import type { DlqListBody, DlqRedriveBody, DlqRedriveRequest, DlqRedriveResult, DlqSkipBody, DlqSkipRequest, DlqSkipResult, Subscription } from '@shoal/consumer';
import { problemResponses } from './problem.js';

export interface DlqAdminOptions {
  service: string;
  subscriptions: () => readonly Subscription[];
}

const keySchema = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const groupSchema = { type: 'string', minLength: 1, maxLength: 255 } as const;
const nullableString = { type: ['string', 'null'] } as const;
const recordProperties = { topic: { type: 'string' }, partition: { type: 'integer' }, offset: { type: 'string' }, eventId: nullableString, type: nullableString } as const;
const failureSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;

const listSchema = {
  type: 'object',
  properties: {
    service: { type: 'string' },
    groups: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          group: { type: 'string' },
          deadLetters: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                key: { type: 'string' },
                ...recordProperties,
                reason: {
                  type: 'object',
                  properties: { code: { type: 'string' }, message: { type: 'string' }, kind: { type: 'string', enum: ['poison', 'exhausted'] }, attempts: { type: 'integer' } },
                },
                failedAt: { type: 'string' },
                parked: { type: 'array', items: { type: 'object', properties: { ...recordProperties, parkedAt: { type: 'string' } } } },
              },
            },
          },
        },
      },
    },
  },
} as const;

const resultProperties = { group: { type: 'string' }, key: { type: 'string' }, handled: { type: 'integer' }, stillParked: { type: 'integer' }, error: failureSchema } as const;
const redriveResponse = { type: 'object', properties: { results: { type: 'array', items: { type: 'object', properties: resultProperties } } } } as const;
const skipResponse = { type: 'object', properties: { results: { type: 'array', items: { type: 'object', properties: { ...resultProperties, skipped: nullableString } } } } } as const;

const redriveBody = { type: ['object', 'null'], additionalProperties: false, properties: { key: keySchema, group: groupSchema } } as const;
const skipBody = { type: 'object', additionalProperties: false, required: ['key'], properties: { key: keySchema, group: groupSchema } } as const;

export const dlqAdminRoutes: FastifyPluginAsync<DlqAdminOptions> = async (app, options) => {
  /** The subscriptions a request is about: every one, or the group it names. */
  const inScope = (group: string | undefined, key: string | undefined): Subscription[] => {
    const all = options.subscriptions();
    if (group === undefined) return [...all];
    const named = all.filter((subscription) => subscription.group === group);
    if (named.length === 0) {
      const known = all.map((subscription) => subscription.group).sort();
      throw new ShoalError('SHOAL_DLQ_KEY_UNKNOWN', `${options.service} has no consumer group '${group}' (${known.length === 0 ? 'it has none' : `groups: ${known.join(', ')}`})`, {
        details: { group, ...(key === undefined ? {} : { key }), known },
      });
    }
    return named;
  };
  const unknownKey = (key: string, subscriptions: readonly Subscription[]) =>
    new ShoalError('SHOAL_DLQ_KEY_UNKNOWN', `No dead letter of key '${key}' in ${subscriptions.length === 1 ? `group ${subscriptions[0]!.group}` : `any consumer group of ${options.service}`}`, {
      details: { key },
    });
  const problems = problemResponses(404);

  app.get('/admin/dlq', { schema: { response: { 200: listSchema, ...problems } } }, async (): Promise<DlqListBody> => ({
    service: options.service,
    groups: await Promise.all(options.subscriptions().map(async (subscription) => ({ group: subscription.group, deadLetters: await subscription.deadLetterList() }))),
  }));

  app.post<{ Body: DlqRedriveRequest | null | undefined }>('/admin/dlq/redrive', { schema: { body: redriveBody, response: { 200: redriveResponse, ...problems } } }, async (request): Promise<DlqRedriveBody> => {
    const { key, group } = request.body ?? {};
    const subscriptions = inScope(group, key);
    const results: DlqRedriveResult[] = [];
    for (const subscription of subscriptions) {
      for (const each of key === undefined ? await subscription.blockedKeys() : [key]) {
        const result = await subscription.redrive(each);
        if (result !== undefined) results.push(result);
      }
    }
    if (key !== undefined && results.length === 0) throw unknownKey(key, subscriptions);
    return { results };
  });

  app.post<{ Body: DlqSkipRequest }>('/admin/dlq/skip', { schema: { body: skipBody, response: { 200: skipResponse, ...problems } } }, async (request): Promise<DlqSkipBody> => {
    const { key, group } = request.body;
    const subscriptions = inScope(group, key);
    const results: DlqSkipResult[] = [];
    for (const subscription of subscriptions) {
      const result = await subscription.skip(key);
      if (result !== undefined) results.push(result);
    }
    if (results.length === 0) throw unknownKey(key, subscriptions);
    return { results };
  });
};
