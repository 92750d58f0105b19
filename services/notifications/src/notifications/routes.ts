/**
 * Notifications' HTTP API: what a customer (or everyone, about one order) was told, in event time.
 *
 *   GET /notifications?customerId=&orderId=&limit=   200 {"items": [...]}; 400 without customerId nor orderId
 */
import type { FastifyPluginAsync } from 'fastify';
import { ShoalError } from '@shoal/core';
import { idSchema, listLimitSchema, problemResponses } from '@shoal/service';
import type { ServiceDatabase } from '@shoal/store';
import { NotificationStore, type Notification } from './notification-store.js';


const notificationSchema = {
  type: 'object',
  required: ['notificationId', 'customerId', 'orderId', 'channel', 'template', 'message', 'notifiedAt', 'eventId'],
  properties: {
    notificationId: { type: 'string' },
    customerId: { type: 'string' },
    orderId: { type: 'string' },
    channel: { type: 'string' },
    template: { type: 'string' },
    message: { type: 'string' },
    notifiedAt: { type: 'string', format: 'date-time' },
    eventId: { type: 'string' },
  },
} as const;

const querySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    customerId: idSchema,
    orderId: idSchema,
    limit: listLimitSchema,
  },
} as const;

function notificationView(notification: Notification) {
  return {
    notificationId: notification.notificationId,
    customerId: notification.customerId,
    orderId: notification.orderId,
    channel: notification.channel,
    template: notification.template,
    message: notification.message,
    notifiedAt: new Date(notification.notifiedAt).toISOString(),
    eventId: notification.eventId,
  };
}

export function notificationRoutes(database: ServiceDatabase): FastifyPluginAsync {
  const store = new NotificationStore(database.sql);
  return async (app) => {
    app.get<{ Querystring: { customerId?: string; orderId?: string; limit: number } }>(
      '/notifications',
      {
        schema: {
          querystring: querySchema,
          response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: notificationSchema } } }, ...problemResponses() },
        },
      },
      async (request) => {
        const { customerId, orderId, limit } = request.query;
        // Checked here rather than with a schema `anyOf`, whose refusal lists three errors for one mistake.
        if (customerId === undefined && orderId === undefined) throw new ShoalError('SHOAL_REQUEST_INVALID', 'Give customerId, orderId or both: listing every notification is not offered');
        return { items: (await store.list({ ...(customerId === undefined ? {} : { customerId }), ...(orderId === undefined ? {} : { orderId }), limit })).map(notificationView) };
      },
    );
  };
}
