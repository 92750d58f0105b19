/**
 * The console (docs/console.md): a web page of the choreography as it flows, composed on the service host
 * like a service, so it has the same configuration, logs, problem+json errors, health routes and shutdown.
 *
 *   traffic     TrafficReader: every topic from the beginning into the EventIndex (bounded), which the
 *               ReactionMap counts as it grows
 *   pages       GET /  (the map, a flow, consumer groups, projections), the page's script and style
 *               bundled at start from web/ (web-assets.ts)
 *   api         GET /api/status, /api/map (with drift), /api/flows?q=, /api/groups, /api/dlq,
 *               /api/projections; POST /api/services/:service/dlq/redrive | /dlq/skip,
 *               /api/services/:service/projections/:name/rebuild, passed on to the service's admin routes
 *
 * `buildConsole` composes it on a host and never listens (main.ts runs it with runService; tests with their
 * own host), like a service's `build`.
 */
import type { Admin } from 'kafkajs';
import { ShoalError } from '@shoal/core';
import type { ServiceHost } from '@shoal/service';
import type { ConsoleConfig } from './config.js';
import { consumerGroups, type GroupReport } from './consumer-groups.js';
import type { DlqListBody } from '@shoal/consumer';
import { findDrift, type ServiceSubscriptions } from './drift.js';
import { decodeEventData, jsonSafe } from './event-data.js';
import { EventIndex } from './event-index.js';
import { findFlow, flowNodeJson, type FlowNode } from './flow-tree.js';
import { ReactionMap } from './reaction-map.js';
import { parseServiceList, ServiceDirectory, type ServiceAnswer } from './service-directory.js';
import { topicReaders } from './topic-readers.js';
import { TrafficReader } from './traffic-reader.js';
import { webAssets } from './web-assets.js';

export { configSpec } from './config.js';

export interface ConsoleParts {
  index: EventIndex;
  map: ReactionMap;
  reader: TrafficReader;
  directory: ServiceDirectory;
}

const dlqBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { key: { type: 'string', minLength: 1, maxLength: 1000 }, group: { type: 'string', minLength: 1, maxLength: 255 } },
} as const;
const rebuildBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { from: { type: 'string', enum: ['beginning'] }, fromTimestamp: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'integer', minimum: 0 }] } },
} as const;
const serviceParams = { type: 'object', required: ['service'], properties: { service: { type: 'string', minLength: 1, maxLength: 100 } } } as const;
const projectionParams = {
  type: 'object',
  required: ['service', 'name'],
  properties: { service: { type: 'string', minLength: 1, maxLength: 100 }, name: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;
const flowQuery = { type: 'object', required: ['q'], properties: { q: { type: 'string', minLength: 1, maxLength: 1000 } } } as const;

export function buildConsole(host: ServiceHost<ConsoleConfig>): ConsoleParts {
  const index = new EventIndex({ maxEvents: host.config.maxEvents });
  const map = new ReactionMap(index);
  const reader = new TrafficReader({ kafka: host.kafka, index, logger: host.logger.child({ module: 'traffic' }) });
  const directory = new ServiceDirectory(parseServiceList(host.config.services));
  let admin: Admin | undefined;
  const adminClient = async (): Promise<Admin> => {
    if (admin === undefined) {
      const created = host.kafka.admin();
      await created.connect();
      admin = created;
    }
    return admin;
  };
  let started = false;
  host.addComponent({
    name: 'traffic',
    start: async () => {
      await reader.start();
      started = true;
    },
    stop: async () => {
      await reader.stop();
      await admin?.disconnect();
    },
    readiness: () => {
      const status = reader.status();
      if (!started) return { ok: false, detail: 'not started' };
      return { ok: true, detail: `${status.topics.length} topics, ${index.size} events${status.caughtUp ? '' : ', still reading the history'}` };
    },
  });

  const groups = async (): Promise<GroupReport[]> => consumerGroups(await adminClient()).then((all) => all.filter((group) => !group.group.startsWith('shoal-console-')));

  host.routes(async (app) => {
    const assets = await webAssets();
    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(assets.html));
    app.get('/assets/console.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(assets.script));
    app.get('/assets/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(assets.style));

    app.get('/api/status', async () => ({ index: index.stats(), traffic: reader.status(), services: directory.services }));

    app.get('/api/map', async () => {
      const seen = map.snapshot();
      const [declared, groupReports] = await Promise.all([declaredSubscriptions(directory), groups().catch(() => [])]);
      const names = directory.services.map((service) => service.name);
      const reads = topicReaders(host.catalog, groupReports, names, new Set(seen.services.map((service) => service.name)), seen.edges);
      // Every service the console knows is drawn, those that emitted nothing (yet) too.
      const services = [...seen.services, ...names.filter((name) => !seen.services.some((service) => service.name === name)).map((name) => ({ name, emits: [] }))];
      return {
        changes: `${map.changes}:${reads.length}:${services.length}`,
        services,
        edges: seen.edges,
        reads,
        drift: findDrift({ catalog: host.catalog, seen, declared, groups: groupReports }),
        index: index.stats(),
      };
    });

    app.get<{ Querystring: { q: string } }>('/api/flows', { schema: { querystring: flowQuery } }, async (request) => {
      const flow = findFlow(index, request.query.q.trim());
      if (flow === undefined) throw new ShoalError('SHOAL_NOT_FOUND', `No event seen has the id, correlation id or order id '${request.query.q}' (${index.size} events kept)`);
      const decode = async (node: FlowNode): Promise<unknown> => ({
        ...flowNodeJson(node),
        decoded: jsonSafe(await decodeEventData(host.codec, node.event)),
        children: await Promise.all(node.children.map(decode)),
      });
      return { ...flow, roots: await Promise.all(flow.roots.map(decode)) };
    });

    app.get('/api/groups', async () => ({ groups: await groups() }));

    app.get('/api/dlq', async () => ({
      services: await Promise.all(
        directory.services.map(async ({ name }) => {
          const answer = await directory.getJson<DlqListBody>(name, '/admin/dlq');
          return 'value' in answer ? { service: name, groups: answer.value.groups } : { service: name, problem: answer.problem, status: answer.status };
        }),
      ),
    }));

    app.get('/api/projections', async () => ({
      services: await Promise.all(
        directory.services.map(async ({ name }) => {
          const answer = await directory.getJson<{ projections: unknown[] }>(name, '/admin/projections');
          if ('value' in answer) return { service: name, projections: answer.value.projections };
          // A service without projections has no such routes: not a problem to show.
          return answer.status === 404 ? { service: name, projections: [] } : { service: name, problem: answer.problem };
        }),
      ),
    }));

    for (const action of ['redrive', 'skip'] as const) {
      app.post<{ Params: { service: string }; Body: { key?: string; group?: string } | null }>(
        `/api/services/:service/dlq/${action}`,
        { schema: { params: serviceParams, body: dlqBody } },
        async (request, reply) => passOn(reply, await directory.request(request.params.service, 'POST', `/admin/dlq/${action}`, request.body ?? {})),
      );
    }

    app.post<{ Params: { service: string; name: string }; Body: Record<string, unknown> | null }>(
      '/api/services/:service/projections/:name/rebuild',
      { schema: { params: projectionParams, body: rebuildBody } },
      async (request, reply) =>
        passOn(reply, await directory.request(request.params.service, 'POST', `/admin/projections/${encodeURIComponent(request.params.name)}/rebuild`, request.body ?? {})),
    );
  });

  return { index, map, reader, directory };
}

/** A service's answer as the console's, status and body as they came. */
function passOn(reply: import('fastify').FastifyReply, answer: ServiceAnswer): import('fastify').FastifyReply {
  return reply.code(answer.status).type(answer.contentType).serializer((body: unknown) => String(body)).send(answer.body);
}

async function declaredSubscriptions(directory: ServiceDirectory): Promise<ServiceSubscriptions[]> {
  const answers = await Promise.all(directory.services.map(({ name }) => directory.getJson<ServiceSubscriptions>(name, '/admin/subscriptions')));
  return answers.flatMap((answer) => ('value' in answer ? [answer.value] : []));
}
