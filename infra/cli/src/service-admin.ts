/**
 * A running service's admin routes as the CLI reaches them (`shoal replay`, `shoal dlq`): where the service
 * is (`--url`, else the default port `shoal dev` gives it, from services/<name>/package.json), and requests
 * whose every failure is one ShoalError naming the service and its URL, with the service's problem+json
 * code passed on.
 */
import { SHOAL_ERROR_CODES, ShoalError, type ShoalErrorCode } from '@shoal/core';
import { discoverServices } from './dev/service-discovery.js';

/** The services' default ports as `shoal dev` starts them, for the usage text; a broken package.json must not break `--help`. */
export function defaultPortsUsage(): string {
  try {
    return `Default ports: ${discoverServices()
      .map((service) => `${service.name} ${service.port}`)
      .join(', ')}.`;
  } catch (error) {
    return `Default ports: unknown (${(error as Error).message}).`;
  }
}

/** `--url`, else where `shoal dev` runs the service by default (services/<name>/package.json). */
export function serviceUrl(service: string, url: string | undefined): string {
  const services = url === undefined ? discoverServices() : [];
  const port = services.find((candidate) => candidate.name === service)?.port;
  const base = (url ?? (port === undefined ? undefined : `http://127.0.0.1:${port}`))?.replace(/\/+$/, '');
  if (base === undefined) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `'${service}' is not a service with a default port (${services.map((candidate) => candidate.name).join(', ')}): give its address with --url`);
  }
  if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) throw new ShoalError('SHOAL_CONFIG_INVALID', `--url expects an http(s) URL, got '${base}'`);
  return base;
}

interface Problem {
  detail?: string;
  code?: string;
}

/** The service's admin routes over HTTP; every failure is one ShoalError naming the service and its URL. */
export class ServiceAdmin {
  constructor(
    readonly service: string,
    readonly url: string,
  ) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `cannot reach ${this.service} at ${this.url} (${reason}): is it running? give its address with --url`, {
        cause: error,
        retriable: true,
      });
    }
    const text = await response.text();
    const json = parseJson(text);
    if (response.ok && json !== undefined) return json as T;
    const problem = (json ?? {}) as Problem;
    if (problem.code === undefined || problem.detail === undefined) {
      throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `${this.url}${path} did not answer as a Shoal service (HTTP ${response.status}): is ${this.url} the address of ${this.service}?`);
    }
    throw new ShoalError(knownCode(problem.code), `${this.service}: ${problem.detail}`, { details: { status: response.status, code: problem.code } });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The code of a service's problem as this CLI reports it. A refusal of the request body is not the user's
 * usage error (exit 2 is for this command's own arguments), the service's registry or broker out of reach is
 * not the CLI's (whose hint to start one would mislead), and a code this build does not know is not one to
 * pass on: all are reported as the service's failure, the service's own code kept in the details.
 */
function knownCode(code: string): ShoalErrorCode {
  const known = (SHOAL_ERROR_CODES as readonly string[]).includes(code) && !SERVICE_SIDE_CODES.has(code);
  return known ? (code as ShoalErrorCode) : 'SHOAL_SERVICE_UNAVAILABLE';
}

const SERVICE_SIDE_CODES: ReadonlySet<string> = new Set(['SHOAL_CONFIG_INVALID', 'SHOAL_REGISTRY_UNAVAILABLE', 'SHOAL_BROKER_UNAVAILABLE']);
