/**
 * The sidecar's calls to its micrologic: an event (or a timer) as a CloudEvent in HTTP binary content mode,
 * and what the answer means for the delivery.
 *
 *   POST <app><path>
 *   ce-specversion: 1.0            ce-id, ce-source, ce-type, ce-time, ce-subject, ce-correlationid,
 *   ce-causationid, ce-partitionkey (those the event has); traceparent when it has one
 *   content-type: application/json
 *   shoal-attempt: 1               1 on the first try, n + 1 after n retriable failures
 *   <the data, decoded with the reader schema, as JSON>
 *
 * The answer:
 *   200 {"events": [...], "state": [...]}  both optional (checked: answer.ts); 204 or an empty 200: nothing
 *   4xx but 408 and 429                    the event fails for good: poison (SHOAL_HANDLER_FAILED, not retriable)
 *   5xx, 408, 429, a timeout, a reset      retried with backoff (SHOAL_HANDLER_FAILED, retriable), then given up
 *   a refused connection                   the micrologic is down: an outage (SHOAL_MICROLOGIC_UNAVAILABLE),
 *                                          waited out without counting attempts, never given up on
 *
 * One keep-alive connection pool per sidecar (undici), so a delivery costs no TCP handshake. The request's
 * headers go to undici as a flat list (no object for it to walk and lower-case), and the answer is read whole
 * by undici with its size capped by the pool (`maxResponseSize`), not chunk by chunk.
 */
import { ShoalError } from '@shoal/core';
import type { CloudEvent } from '@shoal/contract';
import { Pool } from 'undici';

export interface MicrologicClientOptions {
  /** The micrologic's base URL. */
  app: string;
  timeoutMs: number;
  /** Connections kept open at most (deliveries of partitions in flight run at the same time). Default 32. */
  connections?: number;
}

/** What the micrologic answered, read but not yet checked. */
export interface MicrologicReply {
  status: number;
  /** The parsed JSON body; undefined when there was none. */
  body: unknown;
}

const ANSWER_LIMIT_BYTES = 16 * 1024 * 1024;
const OUTAGE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class MicrologicClient {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly options: MicrologicClientOptions) {
    const url = new URL(options.app);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 32,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
      maxResponseSize: ANSWER_LIMIT_BYTES,
    });
  }

  /** Delivers `event` to `path`; resolves with a 2xx reply, throws a classified ShoalError otherwise. */
  async deliver(path: string, event: CloudEvent<unknown>, attempt: number): Promise<MicrologicReply> {
    const target = `${this.basePath}${path}`;
    let response;
    try {
      response = await this.pool.request({
        method: 'POST',
        path: target,
        headers: requestHeaders(event, attempt),
        body: JSON.stringify(event.data ?? null),
      });
    } catch (error) {
      throw this.failure(error, `${event.type} ${event.id}`, target);
    }
    const { statusCode } = response;
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw this.failure(error, `${event.type} ${event.id}`, target);
    }
    if (statusCode >= 200 && statusCode < 300) {
      if (text.trim() === '' || statusCode === 204) return { status: statusCode, body: undefined };
      try {
        return { status: statusCode, body: JSON.parse(text) as unknown };
      } catch {
        throw new ShoalError('SHOAL_EVENT_INVALID', `The micrologic answered ${event.type} ${event.id} at ${target} with ${statusCode} and a body that is not JSON: ${excerpt(text)}`, {
          retriable: false,
        });
      }
    }
    const retriable = statusCode >= 500 || statusCode === 408 || statusCode === 429;
    const verdict = retriable ? 'retried' : 'it fails for good';
    throw new ShoalError('SHOAL_HANDLER_FAILED', `The micrologic answered ${event.type} ${event.id} at ${target} with ${statusCode} (${verdict})${text === '' ? '' : `: ${excerpt(text)}`}`, {
      retriable,
      details: { status: statusCode },
    });
  }

  /** Whether the micrologic answers `path` with a 2xx, and if not what it said. */
  async health(path: string): Promise<{ ok: boolean; detail: string }> {
    try {
      const response = await this.pool.request({ method: 'GET', path: `${this.basePath}${path}`, headersTimeout: 2000, bodyTimeout: 2000 });
      await response.body.dump();
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      return { ok, detail: `${this.options.app}${path} answered ${response.statusCode}` };
    } catch (error) {
      return { ok: false, detail: `${this.options.app}${path}: ${describe(error)}` };
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private failure(error: unknown, what: string, target: string): ShoalError {
    const code = errorCode(error);
    if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
      return new ShoalError('SHOAL_EVENT_INVALID', `The micrologic's answer to ${what} at ${target} is larger than ${ANSWER_LIMIT_BYTES} bytes (it fails for good)`, { cause: error, retriable: false });
    }
    if (code !== undefined && OUTAGE_CODES.has(code)) {
      return new ShoalError('SHOAL_MICROLOGIC_UNAVAILABLE', `The micrologic at ${this.options.app} is down (${code}): ${what} waits for it`, { cause: error, retriable: true });
    }
    const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    const reason = timedOut ? `did not answer within ${this.options.timeoutMs} ms` : `failed: ${describe(error)}`;
    return new ShoalError('SHOAL_HANDLER_FAILED', `The delivery of ${what} to ${this.options.app}${target} ${reason} (retried)`, { cause: error, retriable: true });
  }
}

/** The CloudEvent attributes as HTTP binary-mode headers (`ce-<name>`); traceparent as the W3C header. */
export function binaryHeaders(event: CloudEvent<unknown>): Record<string, string> {
  const headers: Record<string, string> = {};
  eachBinaryHeader(event, (name, value) => (headers[name] = value));
  return headers;
}

/** binaryHeaders with the content type and the attempt, as the flat [name, value, …] list undici takes as is. */
function requestHeaders(event: CloudEvent<unknown>, attempt: number): string[] {
  const headers = ['content-type', 'application/json', 'shoal-attempt', String(attempt)];
  eachBinaryHeader(event, (name, value) => headers.push(name, value));
  return headers;
}

function eachBinaryHeader(event: CloudEvent<unknown>, visit: (name: string, value: string) => void): void {
  for (const name in event) {
    const value = event[name as keyof CloudEvent<unknown>];
    if (name === 'data' || name === 'datacontenttype' || value === undefined || value === null) continue;
    visit(name === 'traceparent' ? name : `ce-${name}`, String(value));
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause === undefined ? undefined : errorCode(cause);
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = (error as Error | null)?.message ?? String(error);
  return code === undefined || message.includes(code) ? message : `${code}: ${message}`;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}
