import type { FastifyInstance } from 'fastify';
import type { Registry } from '../registry.js';
import { parseCompatibilityUpdate, parseModeUpdate, queryFlag } from '../request-bodies.js';
import type { ScopedSetting } from '../scoped-setting.js';

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

interface SettingRoutes<T extends string> {
  path: string;
  setting: ScopedSetting<T>;
  parse(body: unknown): T;
  /** Sets it globally (`subject` undefined) or for a subject. */
  set(subject: string | undefined, value: T, flags: Flags): void;
  /** The member that carries the value in GET and DELETE answers, and in PUT answers (Confluent names them differently for /config). */
  readMember: string;
  writeMember: string;
}

function settingRoutes<T extends string>(app: FastifyInstance, routes: SettingRoutes<T>): void {
  const { path, setting, readMember, writeMember } = routes;
  app.get(path, async () => ({ [readMember]: setting.global() }));
  app.put<{ Querystring: Flags }>(path, async (request) => {
    const value = routes.parse(request.body);
    routes.set(undefined, value, request.query);
    return { [writeMember]: value };
  });
  app.delete(path, async () => ({ [readMember]: setting.resetGlobal() }));

  app.get<{ Params: SubjectParams; Querystring: Flags }>(`${path}/:subject`, async (request) => ({
    [readMember]: setting.ofSubject(request.params.subject, queryFlag(request.query.defaultToGlobal)),
  }));
  app.put<{ Params: SubjectParams; Querystring: Flags }>(`${path}/:subject`, async (request) => {
    const value = routes.parse(request.body);
    routes.set(request.params.subject, value, request.query);
    return { [writeMember]: value };
  });
  app.delete<{ Params: SubjectParams }>(`${path}/:subject`, async (request) => ({ [readMember]: setting.deleteForSubject(request.params.subject) }));
}

export function configRoutes(app: FastifyInstance, registry: Registry): void {
  settingRoutes(app, {
    path: '/config',
    setting: registry.compatibility,
    parse: parseCompatibilityUpdate,
    set: (subject, level) => (subject === undefined ? registry.compatibility.setGlobal(level) : registry.compatibility.setForSubject(subject, level)),
    readMember: 'compatibilityLevel',
    writeMember: 'compatibility',
  });
  settingRoutes(app, {
    path: '/mode',
    setting: registry.mode,
    parse: parseModeUpdate,
    set: (subject, mode, flags) => registry.setMode(subject, mode, queryFlag(flags.force)),
    readMember: 'mode',
    writeMember: 'mode',
  });
}
