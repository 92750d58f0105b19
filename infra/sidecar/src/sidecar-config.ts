/**
 * The sidecar's configuration: one YAML or JSON file (JSON is YAML, so one parser reads both) that declares
 * what the micrologic does, plus the variables every Shoal service reads (KAFKA_BROKERS,
 * SCHEMA_REGISTRY_URL, SHOAL_DATA_DIR, HOST, LOG_LEVEL; PORT and SHOAL_SIDECAR_APP override the file's
 * `port` and `app`, which is how `shoal dev` and containers move them).
 *
 *   service: loyalty                    # CloudEvents source /shoal/loyalty, consumer group "loyalty"
 *   port: 3507                          # the sidecar's HTTP API for its micrologic
 *   app: http://127.0.0.1:3007          # where the micrologic listens
 *   health: /health                     # the micrologic's health path; ready when it answers 2xx
 *   subscriptions:
 *     - { topic: orders.order, types: [shoal.orders.OrderShipped], path: /events/order-shipped }
 *   publishes: [shoal.loyalty.PointsAwarded]
 *   timers:
 *     - { name: hourly-summary, every: 1h, path: /timers/hourly-summary }
 *   retries: { attempts: 5 }
 *   timeout: 10s                        # how long one delivery may take
 *   publishedRetention: 7d              # how long POST /v1/events remembers an event id (a retry within it is taken once)
 *
 * Everything is checked before anything starts, against the schema catalog too (a subscribed type must be an
 * event of its topic, a published type an event of the catalog), and every mistake is named in one
 * SHOAL_CONFIG_INVALID: `shoal sidecar` prints it on one line and exits 2.
 */
import { readFileSync } from 'node:fs';
import { ShoalError } from '@shoal/core';
import type { SchemaCatalog } from '@shoal/contract';
import { defineServiceConfig, stringSetting, type ConfigOf, type Setting } from '@shoal/service';
import { parse as parseYaml } from 'yaml';

export interface SidecarSubscription {
  topic: string;
  types: readonly string[];
  /** Where the sidecar delivers these events, under `app`. */
  path: string;
}

export interface SidecarTimer {
  name: string;
  everyMs: number;
  path: string;
}

export interface SidecarRetries {
  attempts: number;
  initialMs: number;
  maxMs: number;
}

/** What the file declares. */
export interface SidecarDeclaration {
  service: string;
  port: number;
  app: string;
  health: string;
  subscriptions: readonly SidecarSubscription[];
  publishes: readonly string[];
  timers: readonly SidecarTimer[];
  retries: SidecarRetries;
  timeoutMs: number;
  publishedRetentionMs: number;
}

/** The file and the environment, checked and frozen. */
export interface SidecarConfig extends SidecarDeclaration {
  /** The service host's configuration (its port is the sidecar's, its service name the micrologic's). */
  host: SidecarHostConfig;
  /** The file it was read from, for logs. */
  file: string;
}

export const sidecarDefaults = {
  health: '/health',
  retries: { attempts: 5, initialMs: 200, maxMs: 30_000 },
  timeoutMs: 10_000,
  /** As long as the inbox keeps a delivered event's id (@shoal/consumer's inboxRetentionMs). */
  publishedRetentionMs: 7 * 24 * 60 * 60 * 1000,
} satisfies Partial<SidecarDeclaration>;

/** The variable that overrides the file's `app`. */
export const APP_VARIABLE = 'SHOAL_SIDECAR_APP';

const NAME = /^[a-z][a-z0-9-]*$/;
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const DURATION = /^(\d+)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const TOP_KEYS = ['service', 'port', 'app', 'health', 'subscriptions', 'publishes', 'timers', 'retries', 'timeout', 'publishedRetention'];

/** Reads `file` and the environment; throws one SHOAL_CONFIG_INVALID naming every mistake. */
export function loadSidecarConfig(file: string, catalog: SchemaCatalog, env: Readonly<Record<string, string | undefined>>): SidecarConfig {
  const declaration = readSidecarDeclaration(file, catalog);
  return withEnvironment(declaration, sidecarConfigSpec(declaration).load(env), file);
}

/** The declaration with what the environment overrides (`app`, `port`) and the host's configuration. */
export function withEnvironment(declaration: SidecarDeclaration, host: SidecarHostConfig, file: string): SidecarConfig {
  return Object.freeze({ ...declaration, app: host.app.replace(/\/+$/, ''), port: host.port, host, file });
}

/** Reads and checks `file` (YAML or JSON) against the catalog. */
export function readSidecarDeclaration(file: string, catalog: SchemaCatalog): SidecarDeclaration {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `Cannot read the sidecar configuration ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: false });
  } catch (error) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `${file} is neither YAML nor JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  return checkDeclaration(document, catalog, file);
}

/** The environment the sidecar of `declaration` reads: every service's variables, and SHOAL_SIDECAR_APP. */
export function sidecarConfigSpec(declaration: SidecarDeclaration) {
  return defineServiceConfig({
    service: declaration.service,
    defaultPort: declaration.port,
    settings: {
      app: stringSetting(APP_VARIABLE, { default: declaration.app, doc: "the micrologic's base URL (default: the config file's app)", check: urlProblem }),
    },
  });
}

export type SidecarHostConfig = ConfigOf<{ app: Setting<string> }>;

/** The file's document, checked against the catalog. */
export function checkDeclaration(document: unknown, catalog: SchemaCatalog, file: string): SidecarDeclaration {
  const problems: string[] = [];
  const doc = isObject(document) ? document : (problems.push('the file must hold a mapping (service, port, app, …)'), {});
  for (const key of Object.keys(doc)) if (!TOP_KEYS.includes(key)) problems.push(`${key}: unknown setting (known: ${TOP_KEYS.join(', ')})`);

  const service = doc.service;
  if (typeof service !== 'string' || !NAME.test(service)) problems.push(`service: a lower-case name (letters, digits, dashes) is required, got ${show(service)}`);
  const port = doc.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) problems.push(`port: a port number (0-65535) is required, got ${show(port)}`);
  const app = doc.app;
  const appProblem = typeof app === 'string' ? urlProblem(app) : 'required';
  if (appProblem !== undefined) problems.push(`app: ${appProblem}, got ${show(app)}`);
  const health = doc.health ?? sidecarDefaults.health;
  if (typeof health !== 'string' || !PATH.test(health)) problems.push(`health: a path starting with / is expected, got ${show(health)}`);

  const subscriptions: SidecarSubscription[] = [];
  const seenTypes = new Set<string>();
  listAt(doc, 'subscriptions', problems).forEach((entry, index) => {
    const at = `subscriptions[${index}]`;
    if (!isObject(entry)) return void problems.push(`${at}: a mapping with topic, types and path is expected, got ${show(entry)}`);
    for (const key of Object.keys(entry)) if (!['topic', 'types', 'path'].includes(key)) problems.push(`${at}.${key}: unknown setting (known: topic, types, path)`);
    const { topic, types, path } = entry;
    const known = typeof topic === 'string' ? catalog.topics.get(topic) : undefined;
    if (typeof topic !== 'string' || known === undefined) problems.push(`${at}.topic: ${show(topic)} is not a topic of schemas/manifest.json (topics: ${[...catalog.topics.keys()].join(', ')})`);
    if (typeof path !== 'string' || !PATH.test(path)) problems.push(`${at}.path: a path starting with / is expected, got ${show(path)}`);
    if (!Array.isArray(types) || types.length === 0) return void problems.push(`${at}.types: a non-empty list of event types is expected, got ${show(types)}`);
    types.forEach((type, typeIndex) => {
      if (typeof type !== 'string') return void problems.push(`${at}.types[${typeIndex}]: an event type is expected, got ${show(type)}`);
      if (known !== undefined && !known.events.includes(type)) problems.push(`${at}.types[${typeIndex}]: ${type} is not an event of ${known.name} (its events: ${known.events.join(', ')})`);
      if (seenTypes.has(type)) problems.push(`${at}.types[${typeIndex}]: ${type} is subscribed to twice`);
      seenTypes.add(type);
    });
    if (typeof topic === 'string' && typeof path === 'string') subscriptions.push({ topic, types: types.filter((t): t is string => typeof t === 'string'), path });
  });

  const publishes: string[] = [];
  listAt(doc, 'publishes', problems).forEach((type, index) => {
    if (typeof type !== 'string' || !catalog.events.has(type)) return void problems.push(`publishes[${index}]: ${show(type)} is not an event type of schemas/`);
    publishes.push(type);
  });

  const timers: SidecarTimer[] = [];
  listAt(doc, 'timers', problems).forEach((entry, index) => {
    const at = `timers[${index}]`;
    if (!isObject(entry)) return void problems.push(`${at}: a mapping with name, every and path is expected, got ${show(entry)}`);
    for (const key of Object.keys(entry)) if (!['name', 'every', 'path'].includes(key)) problems.push(`${at}.${key}: unknown setting (known: name, every, path)`);
    const { name, every, path } = entry;
    if (typeof name !== 'string' || !NAME.test(name)) problems.push(`${at}.name: a lower-case name is required, got ${show(name)}`);
    else if (timers.some((timer) => timer.name === name)) problems.push(`${at}.name: ${name} is declared twice`);
    const everyMs = durationMs(every);
    if (everyMs === undefined || everyMs < 10) problems.push(`${at}.every: a duration of at least 10ms is expected (500ms, 30s, 5m, 1h, 1d), got ${show(every)}`);
    if (typeof path !== 'string' || !PATH.test(path)) problems.push(`${at}.path: a path starting with / is expected, got ${show(path)}`);
    if (typeof name === 'string' && everyMs !== undefined && typeof path === 'string') timers.push({ name, everyMs, path });
  });

  const retries = { ...sidecarDefaults.retries };
  if (doc.retries !== undefined) {
    if (!isObject(doc.retries)) problems.push(`retries: a mapping such as { attempts: 5 } is expected, got ${show(doc.retries)}`);
    else {
      for (const [key, value] of Object.entries(doc.retries)) {
        if (key === 'attempts') {
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100) problems.push(`retries.attempts: an integer from 1 to 100 is expected, got ${show(value)}`);
          else retries.attempts = value;
        } else if (key === 'initial' || key === 'max') {
          const ms = durationMs(value);
          if (ms === undefined) problems.push(`retries.${key}: a duration is expected (200ms, 30s), got ${show(value)}`);
          else retries[key === 'initial' ? 'initialMs' : 'maxMs'] = ms;
        } else problems.push(`retries.${key}: unknown setting (known: attempts, initial, max)`);
      }
    }
  }
  const timeoutMs = doc.timeout === undefined ? sidecarDefaults.timeoutMs : durationMs(doc.timeout);
  if (timeoutMs === undefined || timeoutMs < 1) problems.push(`timeout: a duration is expected (10s, 500ms), got ${show(doc.timeout)}`);
  const publishedRetentionMs = doc.publishedRetention === undefined ? sidecarDefaults.publishedRetentionMs : durationMs(doc.publishedRetention);
  if (publishedRetentionMs === undefined || publishedRetentionMs < 60_000) {
    problems.push(`publishedRetention: a duration of at least 1m is expected (7d, 12h), got ${show(doc.publishedRetention)}`);
  }
  if (subscriptions.length === 0 && timers.length === 0 && publishes.length === 0 && problems.length === 0) {
    problems.push('the sidecar has nothing to do: declare subscriptions, publishes or timers');
  }
  if (problems.length > 0) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `Invalid sidecar configuration ${file}: ${problems.join('; ')}`, { details: { problems } });
  }
  return Object.freeze({
    service: service as string,
    port: port as number,
    app: (app as string).replace(/\/+$/, ''),
    health: health as string,
    subscriptions,
    publishes,
    timers,
    retries,
    timeoutMs: timeoutMs!,
    publishedRetentionMs: publishedRetentionMs!,
  });
}

/** `500ms`, `30s`, `5m`, `1h`, `1d`, or a number of milliseconds. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value.trim());
  return match === null ? undefined : Number(match[1]) * UNIT_MS[match[2]!]!;
}

function urlProblem(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'an http(s) URL is expected';
    if (url.search !== '' || url.hash !== '') return 'a base URL without query or fragment is expected';
    return undefined;
  } catch {
    return 'an http(s) URL is expected';
  }
}

function listAt(doc: Record<string, unknown>, key: string, problems: string[]): unknown[] {
  const value = doc[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push(`${key}: a list is expected, got ${show(value)}`);
    return [];
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
