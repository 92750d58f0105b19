/**
 * Client of a Confluent-compatible Schema Registry (REST API v1), Avro only.
 *
 * Registration and schemas by id go through @kafkajs/confluent-schema-registry, the chosen library: it
 * resolves Confluent references into one avsc Type (same hoisted avsc as ours, so its types work with our
 * resolvers). The calls it lacks are plain fetch:
 *
 *   library   POST /subjects/{s}/versions (register; it also reads and sets GET/PUT /config/{s})
 *             GET  /schemas/ids/{id} (+ GET /subjects/{ref}/versions/{v} per reference)
 *   fetch     POST /subjects/{s}                 lookup: id AND version of a schema under a subject, with its
 *                                                references (the library's getRegistryIdBySchema sends no
 *                                                references and answers no version)
 *             GET  /subjects, GET /subjects/{s}/versions, GET /subjects/{s}/versions/latest
 *             GET  /config, GET /config/{s}?defaultToGlobal=true, PUT /config, PUT /config/{s}
 *             POST /compatibility/subjects/{s}/versions?verbose=true
 *
 * Errors are ShoalErrors: an unreachable registry, a timeout or a 5xx is SHOAL_REGISTRY_UNAVAILABLE and
 * retriable (and retried here `retries` times with backoff); an unknown schema id is SHOAL_SCHEMA_UNKNOWN_ID;
 * 409 is SHOAL_SCHEMA_INCOMPATIBLE; 422 is SHOAL_SCHEMA_INVALID; any other refusal SHOAL_REGISTRY_REQUEST.
 * Nothing here caches: the codec holds the caches that make the steady state free of registry calls.
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Type } from 'avsc';
import { COMPATIBILITY_LEVELS, ShoalError, type CompatibilityLevel, type ShoalErrorCode } from '@shoal/core';
import { avroTypeOptions } from './catalog/index.js';


export interface SchemaReference {
  /** Full name of the referenced record, as the referencing schema uses it. */
  name: string;
  subject: string;
  version: number;
}

export interface RegistrySchema {
  /** Avro schema JSON text. */
  schema: string;
  references?: readonly SchemaReference[];
}

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
  references: SchemaReference[];
}

export interface CompatibilityVerdict {
  compatible: boolean;
  /** The registry's explanations (verbose mode), empty when compatible. */
  messages: string[];
}

/** One HTTP request this client sent, for metrics and for tests that count registry round trips. */
export interface RegistryRequest {
  method: string;
  path: string;
}

export interface RegistryClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8081. */
  url: string;
  /** Further attempts after a retriable failure (unreachable, timeout, 5xx). Default 3. */
  retries?: number;
  /** Delay before the first retry; doubles each time. Default 100 ms. */
  initialRetryDelayMs?: number;
  /** Per request. Default 10 s. */
  requestTimeoutMs?: number;
  /** Called for every HTTP request sent, retries included. */
  onRequest?: (request: RegistryRequest) => void;
}

export const registryClientDefaults = {
  retries: 3,
  initialRetryDelayMs: 100,
  requestTimeoutMs: 10_000,
} satisfies Partial<RegistryClientOptions>;

const REGISTRY_MEDIA_TYPE = 'application/vnd.schemaregistry.v1+json';
const CLIENT_ID = 'shoal';
const SOCKET_FAILURE = 'Error, status 400:';
// Confluent error codes this client tells apart; the rest are mapped by HTTP status.
const SUBJECT_NOT_FOUND = 40401;
const SCHEMA_NOT_FOUND = 40403;

interface HttpFailure {
  status: number;
  errorCode: number | undefined;
  message: string;
}

export class RegistryClient {
  readonly url: string;
  private readonly options: Required<Omit<RegistryClientOptions, 'onRequest'>> & Pick<RegistryClientOptions, 'onRequest'>;
  private readonly library: SchemaRegistry;

  constructor(options: RegistryClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.options = { ...registryClientDefaults, ...options, url: this.url };
    const { onRequest } = options;
    const timeout = this.options.requestTimeoutMs;
    // The same avsc options as the catalog, so writer types from the registry and reader types from the
    // catalog see values alike. Without `registry`: the library reuses its options for every schema it
    // parses, and a shared avsc registry would refuse the second definition of a referenced type.
    const { registry: _perParse, ...avroOptions } = avroTypeOptions();
    this.library = new SchemaRegistry(
      {
        host: this.url,
        clientId: CLIENT_ID,
        // One retry policy for every call, in `attempt` below; the library's would only cover 5xx.
        retry: { retries: 0 },
        middlewares: [
          () => ({
            request: (request) => {
              onRequest?.({ method: request.method().toUpperCase(), path: new URL(request.url()).pathname });
              return request.enhance({ timeout });
            },
          }),
        ],
      },
      { [SchemaType.AVRO]: avroOptions },
    );
  }

  /**
   * Registers `schema` under `subject` (idempotent: the same schema gets its existing id) and returns its
   * id. The library first checks that the subject's level is `compatibility` and sets it on a new subject.
   */
  async register(subject: string, schema: RegistrySchema, compatibility: CompatibilityLevel): Promise<number> {
    const level = compatibilityLevel(compatibility);
    // The library's COMPATIBILITY enum holds the same strings as CompatibilityLevel.
    const registered = await this.viaLibrary(`register a schema under subject "${subject}"`, () =>
      this.library.register({ type: SchemaType.AVRO, schema: schema.schema, references: [...(schema.references ?? [])] }, { subject, compatibility: level as COMPATIBILITY }),
    );
    return registered.id;
  }

  /** The writer schema with id `id` as an avsc Type, references resolved. SHOAL_SCHEMA_UNKNOWN_ID when the registry has none. */
  async schemaType(id: number): Promise<Type> {
    return (await this.viaLibrary(`fetch schema ${id}`, () => this.library.getSchema(id))) as unknown as Type;
  }

  /** The version of `subject` that holds `schema`, or undefined when the subject does not have it. */
  async lookup(subject: string, schema: RegistrySchema): Promise<SubjectVersion | undefined> {
    const answer = await this.request('POST', `/subjects/${encodeURIComponent(subject)}`, schemaBody(schema), [SUBJECT_NOT_FOUND, SCHEMA_NOT_FOUND]);
    return answer === undefined ? undefined : subjectVersion(answer);
  }

  async subjects(): Promise<string[]> {
    return (await this.request('GET', '/subjects')) as string[];
  }

  /** Version numbers of `subject`, oldest first; empty for an unknown subject. */
  async versions(subject: string): Promise<number[]> {
    return ((await this.request('GET', `/subjects/${encodeURIComponent(subject)}/versions`, undefined, [SUBJECT_NOT_FOUND])) as number[] | undefined) ?? [];
  }

  /** The newest version of `subject`, or undefined when the subject has none. */
  async latestVersion(subject: string): Promise<SubjectVersion | undefined> {
    const answer = await this.request('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`, undefined, [SUBJECT_NOT_FOUND]);
    return answer === undefined ? undefined : subjectVersion(answer);
  }

  /** The level that governs `subject` (its own, else the global one), or the global level without a subject. */
  async compatibility(subject?: string): Promise<CompatibilityLevel> {
    const path = subject === undefined ? '/config' : `/config/${encodeURIComponent(subject)}?defaultToGlobal=true`;
    const answer = (await this.request('GET', path)) as { compatibilityLevel?: string };
    return compatibilityLevel(answer.compatibilityLevel ?? '');
  }

  /** Sets the global level, or `subject`'s own level. */
  async setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void> {
    const path = subject === undefined ? '/config' : `/config/${encodeURIComponent(subject)}`;
    await this.request('PUT', path, { compatibility: compatibilityLevel(level) });
  }

  /**
   * Whether `subject` would accept `schema`, against the versions its level looks at (all of them for a
   * transitive level). A subject without versions accepts any valid schema.
   */
  async checkCompatibility(subject: string, schema: RegistrySchema): Promise<CompatibilityVerdict> {
    const answer = (await this.request('POST', `/compatibility/subjects/${encodeURIComponent(subject)}/versions?verbose=true`, schemaBody(schema), [
      SUBJECT_NOT_FOUND,
    ])) as { is_compatible?: boolean; messages?: string[] } | undefined;
    if (answer === undefined) return { compatible: true, messages: [] };
    return { compatible: answer.is_compatible === true, messages: answer.is_compatible === true ? [] : (answer.messages ?? []) };
  }

  /**
   * One plain-fetch call with retries. Answers with a Confluent error code in `absentCodes` resolve to
   * undefined: "not there" is an answer, not a failure, for lookups.
   */
  private async request(method: string, path: string, body?: unknown, absentCodes: readonly number[] = []): Promise<unknown> {
    const operation = `${method} ${path}`;
    return this.attempt(async () => {
      this.options.onRequest?.({ method, path: path.split('?', 1)[0]! });
      let response: Response;
      try {
        response = await fetch(`${this.url}${path}`, {
          method,
          headers: { accept: REGISTRY_MEDIA_TYPE, ...(body === undefined ? {} : { 'content-type': REGISTRY_MEDIA_TYPE }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        });
      } catch (error) {
        throw this.unreachable(operation, error);
      }
      const text = await response.text().catch(() => '');
      const parsed = parseJson(text);
      if (response.ok) {
        if (parsed === undefined && text !== '') {
          throw new ShoalError('SHOAL_REGISTRY_REQUEST', `Schema registry at ${this.url} answered ${operation} with something other than JSON: ${text.slice(0, 200)}`);
        }
        return parsed;
      }
      const failure = httpFailure(response.status, parsed, text);
      if (failure.errorCode !== undefined && absentCodes.includes(failure.errorCode)) return undefined;
      throw this.failed(operation, failure);
    });
  }

  /** A library call, its errors turned into ShoalErrors, with the same retries as `request`. */
  private viaLibrary<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return this.attempt(async () => {
      try {
        return await call();
      } catch (error) {
        throw this.libraryError(operation, error);
      }
    });
  }

  private async attempt<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof ShoalError) || !error.retriable || attempt >= this.options.retries) throw error;
        const delay = this.options.initialRetryDelayMs * 2 ** attempt;
        await new Promise((resolve) => setTimeout(resolve, delay * (0.8 + Math.random() * 0.4)));
      }
    }
  }

  private libraryError(operation: string, error: unknown): ShoalError {
    if (error instanceof ShoalError) return error;
    const e = error as { name?: string; message?: string; status?: unknown; url?: unknown };
    const message = (e.message ?? String(error)).replace(`${CLIENT_ID} - `, '');
    if (typeof e.status === 'number') {
      // mappersmith reports a failure below HTTP (refused, reset, timeout) as status 400 with the socket
      // error as its text; a Confluent registry answers every real error with a JSON message instead.
      if (e.status === 400 && message.startsWith(SOCKET_FAILURE)) return this.unreachable(operation, error, message.slice(SOCKET_FAILURE.length).trim());
      // The library keeps the status but drops Confluent's error code; a 404 on /schemas/ids/ can only be 40403.
      const schemaById = typeof e.url === 'string' && e.url.includes('/schemas/ids/');
      if (e.status === 404 && schemaById) return this.failed(operation, { status: 404, errorCode: SCHEMA_NOT_FOUND, message }, error);
      return this.failed(operation, { status: e.status, errorCode: undefined, message }, error);
    }
    if (e.name === 'ConfluentSchemaRegistryArgumentError' || e.name === 'ConfluentSchemaRegistryInvalidSchemaError') {
      return new ShoalError('SHOAL_SCHEMA_INVALID', `Cannot ${operation}: ${message}`, { cause: error });
    }
    if (e.name === 'ConfluentSchemaRegistryCompatibilityError') {
      return new ShoalError('SHOAL_REGISTRY_REQUEST', `Cannot ${operation}: the subject's compatibility level differs from the one asked for (${message})`, {
        cause: error,
      });
    }
    return new ShoalError('SHOAL_REGISTRY_REQUEST', `Cannot ${operation}: ${message}`, { cause: error });
  }

  private unreachable(operation: string, error: unknown, reason = socketFailure(error)): ShoalError {
    return new ShoalError('SHOAL_REGISTRY_UNAVAILABLE', `Schema registry at ${this.url} is unreachable (${operation}): ${reason}`, {
      cause: error,
      retriable: true,
    });
  }

  private failed(operation: string, failure: HttpFailure, cause?: unknown): ShoalError {
    const { status, errorCode } = failure;
    const code: ShoalErrorCode =
      status >= 500
        ? 'SHOAL_REGISTRY_UNAVAILABLE'
        : errorCode === SCHEMA_NOT_FOUND
          ? 'SHOAL_SCHEMA_UNKNOWN_ID'
          : status === 409
            ? 'SHOAL_SCHEMA_INCOMPATIBLE'
            : status === 422
              ? 'SHOAL_SCHEMA_INVALID'
              : 'SHOAL_REGISTRY_REQUEST';
    const detail = errorCode === undefined ? `HTTP ${status}` : `HTTP ${status}, error ${errorCode}`;
    return new ShoalError(code, `Schema registry at ${this.url} refused to ${operation} (${detail}): ${failure.message}`, {
      cause,
      retriable: status >= 500,
      details: { status, ...(errorCode === undefined ? {} : { errorCode }) },
    });
  }
}

/** fetch's TypeError says "fetch failed"; the socket error is its cause. */
function socketFailure(error: unknown): string {
  const e = error as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(error);
}

function compatibilityLevel(level: string): CompatibilityLevel {
  const upper = level.toUpperCase();
  if (!(COMPATIBILITY_LEVELS as readonly string[]).includes(upper)) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `Unknown compatibility level "${level}": one of ${COMPATIBILITY_LEVELS.join(', ')}`);
  }
  return upper as CompatibilityLevel;
}

function schemaBody(schema: RegistrySchema): { schema: string; references?: SchemaReference[] } {
  return schema.references && schema.references.length > 0 ? { schema: schema.schema, references: [...schema.references] } : { schema: schema.schema };
}

function subjectVersion(answer: unknown): SubjectVersion {
  const body = answer as { subject: string; version: number; id: number; schema: string; references?: SchemaReference[] };
  return { subject: body.subject, version: body.version, id: body.id, schema: body.schema, references: body.references ?? [] };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function httpFailure(status: number, body: unknown, text: string): HttpFailure {
  const fields = (body ?? {}) as { error_code?: unknown; message?: unknown };
  return {
    status,
    errorCode: typeof fields.error_code === 'number' ? fields.error_code : undefined,
    message: typeof fields.message === 'string' ? fields.message : text.slice(0, 200) || `HTTP ${status}`,
  };
}
