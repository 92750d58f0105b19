import { ShoalError } from '@shoal/core';

/** A problem in one file of a schemas folder; `file` is relative to the folder, e.g. `orders/OrderPlaced.avsc`. */
export function schemaInvalid(file: string, problem: string, cause?: unknown): ShoalError {
  return new ShoalError('SHOAL_SCHEMA_INVALID', `${file}: ${problem}`, { cause, details: { file } });
}
