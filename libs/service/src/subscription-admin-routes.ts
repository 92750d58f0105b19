/**
 * What a service declares it consumes, for tools that compare it with what flows (the console's drift):
 *
 *   GET /admin/subscriptions   {"service": "inventory",
 *                               "subscriptions": [{"group": "inventory", "dlqTopic": "inventory.dlq",
 *                                                  "topics": ["orders.order", ...], "types": ["shoal.orders.OrderPlaced", ...]}]}
 *
 * `topics` are the topics the subscription reads, `types` the event types it has handlers for (the others on
 * those topics are skipped), both as the service's code passed them to `host.subscribe`.
 */
import type { FastifyPluginAsync } from 'fastify';

export interface DeclaredSubscription {
  group: string;
  dlqTopic: string;
  topics: readonly string[];
  types: readonly string[];
}

export interface SubscriptionAdminOptions {
  service: string;
  subscriptions: () => readonly DeclaredSubscription[];
}

const listSchema = {
  type: 'object',
  properties: {
    service: { type: 'string' },
    subscriptions: {
      type: 'array',
      items: {
        type: 'object',
        properties: { group: { type: 'string' }, dlqTopic: { type: 'string' }, topics: { type: 'array', items: { type: 'string' } }, types: { type: 'array', items: { type: 'string' } } },
      },
    },
  },
} as const;

export const subscriptionAdminRoutes: FastifyPluginAsync<SubscriptionAdminOptions> = async (app, options) => {
  app.get('/admin/subscriptions', { schema: { response: { 200: listSchema } } }, async () => ({ service: options.service, subscriptions: options.subscriptions() }));
};
