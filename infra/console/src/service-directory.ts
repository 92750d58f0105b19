/**
 * The services the console asks over their admin routes (their own HTTP ports): `GET /admin/dlq`,
 * `GET /admin/projections`, `GET /admin/subscriptions`, and the redrive, skip and rebuild requests the pages'
 * buttons make. The console's server makes those calls, so a page talks to one origin only. A service's
 * answer (a problem+json refusal included) is passed on with its status; a service that cannot be reached is
 * a 503 SHOAL_SERVICE_UNAVAILABLE naming it.
 *
 * A service that runs as several instances on one database (`shoal dev --replicas`) is named once per
 * instance, `orders=http://a,orders=http://b`: every instance answers the same admin routes from the shared
 * database, so a request goes to the first and, when that one cannot be reached (killed, restarting), to the
 * next.
 */
import { ShoalError } from '@shoal/core';

export interface ConsoleService {
  name: string;
  /** The first instance's URL. */
  url: string;
  /** Every instance's URL, the first included. */
  urls: string[];
}

/** `name=url,name=url`; an empty text is no service. */
export function parseServiceList(text: string): ConsoleService[] {
  const services: ConsoleService[] = [];
  for (const entry of text.split(',').map((part) => part.trim()).filter((part) => part.length > 0)) {
    const equals = entry.indexOf('=');
    const name = entry.slice(0, equals).trim();
    const url = entry.slice(equals + 1).trim().replace(/\/+$/, '');
    if (equals <= 0 || !/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`expected name=url, got '${entry}'`);
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new Error(`${name}: expected an http(s) URL, got '${url}'`);
    const known = services.find((service) => service.name === name);
    if (known?.urls.includes(url) === true) throw new Error(`${name} is named twice with ${url}`);
    if (known === undefined) services.push({ name, url, urls: [url] });
    else known.urls.push(url);
  }
  return services;
}

export interface ServiceAnswer {
  status: number;
  contentType: string;
  body: string;
}

const REQUEST_TIMEOUT_MS = 5_000;

export class ServiceDirectory {
  readonly services: readonly ConsoleService[];

  constructor(services: readonly ConsoleService[]) {
    this.services = services;
  }

  has(name: string): boolean {
    return this.services.some((service) => service.name === name);
  }

  /** The service's answer to a request on its admin routes, whatever its status. */
  async request(name: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<ServiceAnswer> {
    const service = this.services.find((candidate) => candidate.name === name);
    if (service === undefined) {
      throw new ShoalError('SHOAL_NOT_FOUND', `No service named '${name}' is known to the console (known: ${this.services.map((known) => known.name).join(', ') || 'none'})`);
    }
    const failures: string[] = [];
    for (const url of service.urls) {
      let response: Response;
      try {
        response = await fetch(`${url}${path}`, {
          method,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        });
      } catch (error) {
        failures.push((error as Error).message);
        continue;
      }
      return { status: response.status, contentType: response.headers.get('content-type') ?? 'application/json', body: await response.text() };
    }
    const where = service.urls.map((url, index) => `${url}: ${failures[index]}`).join('; ');
    throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `${name} cannot be reached at ${service.urls.length === 1 ? service.url : 'any instance'} (${where})`, { retriable: true });
  }

  /** The JSON a GET answers with 200, or undefined with the reason when the service did not answer so. */
  async getJson<T>(name: string, path: string): Promise<{ value: T } | { problem: string; status?: number }> {
    try {
      const answer = await this.request(name, 'GET', path);
      if (answer.status !== 200) return { problem: `GET ${path} answered ${answer.status}${problemDetail(answer.body)}`, status: answer.status };
      return { value: JSON.parse(answer.body) as T };
    } catch (error) {
      return { problem: (error as Error).message };
    }
  }
}

function problemDetail(body: string): string {
  try {
    const problem = JSON.parse(body) as { code?: unknown; detail?: unknown };
    return typeof problem.code === 'string' ? `: ${problem.code}${typeof problem.detail === 'string' ? ` ${problem.detail}` : ''}` : '';
  } catch {
    return '';
  }
}
