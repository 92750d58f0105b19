/** A service's real composition started in the test's process, and the ways a test drives and observes it. */
import { onTestFinished } from 'vitest';
import { tempDir, connected } from '@shoal/testing';
import { Publisher } from '@shoal/transport';
import { startTestPlatform, type TestPlatform } from '@shoal/contract/testing';
import type { ConfigOf, ServiceConfig, ServiceConfigSpec, Setting } from '../config.js';
import { ServiceHost } from '../service-host.js';


export interface TestServiceOptions {
  /** Default: a new platform for this test. */
  platform?: TestPlatform;
  /** SHOAL_DATA_DIR. Default: a temp dir of this test (pass one to restart a service on the same files). */
  dataDir?: string;
  /** Further variables (the service's own settings). */
  env?: Record<string, string>;
  /** Wait for /health/ready before returning. Default true. */
  ready?: boolean;
}

export interface TestService<C extends ServiceConfig> {
  host: ServiceHost<C>;
  platform: TestPlatform;
  dataDir: string;
  /** Every route the service's composition registered (seen by fastify's onRoute), HEAD routes left out. */
  routes: ServiceRoute[];
}

export interface ServiceRoute {
  method: string;
  /** As registered, with its `:params`. */
  url: string;
}

export async function startTestService<S extends Record<string, Setting<unknown>>>(
  spec: ServiceConfigSpec<S>,
  build: (host: ServiceHost<ConfigOf<S>>) => void | Promise<void>,
  options: TestServiceOptions = {},
): Promise<TestService<ConfigOf<S>>> {
  const platform = options.platform ?? (await startTestPlatform());
  const dataDir = options.dataDir ?? tempDir(`service-${spec.service}`);
  const config = spec.load({
    KAFKA_BROKERS: platform.bootstrap,
    SCHEMA_REGISTRY_URL: platform.registryUrl,
    SHOAL_DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: process.env.SHOAL_TEST_LOG_LEVEL ?? 'silent',
    ...options.env,
  });
  const host = new ServiceHost({ config, catalog: platform.catalog });
  onTestFinished(() => host.stop());
  const routes: ServiceRoute[] = [];
  host.app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  await build(host);
  await host.start();
  if (options.ready ?? true) await host.whenReady(30_000);
  return { host, platform, dataDir, routes };
}

export type ConsumedOutcome = 'handled' | 'duplicate' | 'skipped' | 'dead_lettered' | 'parked';

/**
 * What a service's subscription did with the records it received, as its `/metrics` reports it: the way a
 * test knows that an event which changes nothing (a redelivery, a no-op reaction) has been processed.
 */
export async function consumedEvents<C extends ServiceConfig>(host: ServiceHost<C>, group = host.config.service): Promise<Record<ConsumedOutcome, number>> {
  const text = (await host.app.inject({ method: 'GET', url: '/metrics' })).body;
  const count = (outcome: ConsumedOutcome) =>
    Number(new RegExp(`^shoal_events_consumed_total\\{group="${group}",outcome="${outcome}"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { handled: count('handled'), duplicate: count('duplicate'), skipped: count('skipped'), dead_lettered: count('dead_lettered'), parked: count('parked') };
}

/** A connected publisher on `platform`, disconnected when the test ends: how a test plays another service. */
export function publisherFor(platform: TestPlatform): Promise<Publisher> {
  return connected(new Publisher({ kafka: platform.kafka(), codec: platform.codec }));
}

/** What `call` returns. `body` is the parsed JSON, left untyped: tests assert its shape rather than trust one. */
export interface CallResult {
  status: number;
  contentType: string;
  body: any;
}

/** Sends `body` (as JSON, when given) to the service in-process and returns what it answered. */
export async function call<C extends ServiceConfig>(host: ServiceHost<C>, method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<CallResult> {
  const response = await host.app.inject({ method, url, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: response.statusCode, contentType: String(response.headers['content-type']), body: response.json() };
}
