import type { FastifyInstance } from 'fastify';
import type { Registry } from '../registry.js';
import { parseCompatibilityUpdate, parseModeUpdate, queryFlag } from '../request-bodies.js';

/**
 * Compatibility levels and modes, global and per subject:
 *
 *   GET    /config              {"compatibilityLevel": "BACKWARD"}
 *   PUT    /config              {"compatibility": "FULL"}  ->  {"compatibility": "FULL"}
 *   DELETE /config              back to the default; answers the level it replaced as {"compatibilityLevel"}
 *   GET    /config/{s}          the subject's own level; 40408 without one unless ?defaultToGlobal=true
 *   PUT    /config/{s}          as PUT /config
 *   DELETE /config/{s}          removes the subject's own level (40401 without one); answers it
 *
 *   GET    /mode                {"mode": "READWRITE"}
 *   PUT    /mode                {"mode": "READONLY"}  ->  {"mode": "READONLY"}   ?force (entering IMPORT with schemas)
 *   DELETE /mode                back to READWRITE; answers the mode it replaced
 *   GET    /mode/{s}            the subject's own mode; 40409 without one unless ?defaultToGlobal=true
 *   PUT    /mode/{s}, DELETE /mode/{s}   as above for one subject
 */
interface SubjectParams {
  subject: string;
}
interface Flags {
  defaultToGlobal?: string;
  force?: string;
}

export function configRoutes(app: FastifyInstance, registry: Registry): void {
  app.get('/config', async () => ({ compatibilityLevel: registry.globalCompatibility() }));
  app.put('/config', async (request) => {
    const compatibility = parseCompatibilityUpdate(request.body);
    registry.setGlobalCompatibility(compatibility);
    return { compatibility };
  });
  app.delete('/config', async () => ({ compatibilityLevel: registry.resetGlobalCompatibility() }));

  app.get<{ Params: SubjectParams; Querystring: Flags }>('/config/:subject', async (request) => ({
    compatibilityLevel: registry.subjectCompatibility(request.params.subject, queryFlag(request.query.defaultToGlobal)),
  }));
  app.put<{ Params: SubjectParams }>('/config/:subject', async (request) => {
    const compatibility = parseCompatibilityUpdate(request.body);
    registry.setSubjectCompatibility(request.params.subject, compatibility);
    return { compatibility };
  });
  app.delete<{ Params: SubjectParams }>('/config/:subject', async (request) => ({
    compatibilityLevel: registry.deleteSubjectCompatibility(request.params.subject),
  }));

  app.get('/mode', async () => ({ mode: registry.globalMode() }));
  app.put<{ Querystring: Flags }>('/mode', async (request) => {
    const mode = parseModeUpdate(request.body);
    registry.setMode(undefined, mode, queryFlag(request.query.force));
    return { mode };
  });
  app.delete('/mode', async () => ({ mode: registry.resetGlobalMode() }));

  app.get<{ Params: SubjectParams; Querystring: Flags }>('/mode/:subject', async (request) => ({
    mode: registry.subjectMode(request.params.subject, queryFlag(request.query.defaultToGlobal)),
  }));
  app.put<{ Params: SubjectParams; Querystring: Flags }>('/mode/:subject', async (request) => {
    const mode = parseModeUpdate(request.body);
    registry.setMode(request.params.subject, mode, queryFlag(request.query.force));
    return { mode };
  });
  app.delete<{ Params: SubjectParams }>('/mode/:subject', async (request) => ({ mode: registry.deleteSubjectMode(request.params.subject) }));
}
