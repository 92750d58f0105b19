/**
 * The one error type of Shoal. Codes are stable strings that callers may switch on; `retriable` is the
 * only input of retry decisions anywhere in the platform, so that no caller guesses from a message or a class.
 */
export const SHOAL_ERROR_CODES = [
  'SHOAL_CONFIG_INVALID',
  'SHOAL_PORT_IN_USE',
  'SHOAL_BROKER_PROTOCOL',
  'SHOAL_BROKER_CORRUPT_BATCH',
  'SHOAL_BROKER_STORAGE',
  'SHOAL_BROKER_UNAVAILABLE',
  'SHOAL_TOPIC_NOT_FOUND',
  'SHOAL_REGISTRY_STORAGE',
  'SHOAL_REGISTRY_UNAVAILABLE',
  'SHOAL_REGISTRY_REQUEST',
  'SHOAL_SCHEMA_INVALID',
  'SHOAL_SCHEMA_INCOMPATIBLE',
  'SHOAL_SCHEMA_UNKNOWN_ID',
  'SHOAL_SCHEMA_UNKNOWN_TYPE',
  'SHOAL_SCHEMA_NOT_REGISTERED',
  'SHOAL_EVENT_INVALID',
  'SHOAL_EVENT_DATA_INVALID',
  'SHOAL_EVENT_DECODE',
  'SHOAL_DATABASE',
  'SHOAL_CONCURRENCY_CONFLICT',
  'SHOAL_HANDLER_INVALID',
  'SHOAL_HANDLER_FAILED',
  'SHOAL_PROJECTION_NOT_FOUND',
  'SHOAL_PROJECTION_REBUILDING',
  'SHOAL_DLQ_KEY_UNKNOWN',
  'SHOAL_SERVICE_UNAVAILABLE',
  'SHOAL_REQUEST_INVALID',
  'SHOAL_NOT_FOUND',
  'SHOAL_COMMAND_REJECTED',
] as const;

export type ShoalErrorCode = (typeof SHOAL_ERROR_CODES)[number];

export interface ShoalErrorOptions {
  cause?: unknown;
  retriable?: boolean;
  details?: Record<string, unknown>;
}

export class ShoalError extends Error {
  readonly code: ShoalErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ShoalErrorCode, message: string, options: ShoalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ShoalError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details;
  }
}

export function isShoalError(error: unknown, code?: ShoalErrorCode): error is ShoalError {
  return error instanceof ShoalError && (code === undefined || error.code === code);
}
