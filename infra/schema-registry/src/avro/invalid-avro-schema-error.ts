import { ShoalError, type ShoalErrorOptions } from '@shoal/core';

/**
 * A schema text that is not valid JSON or not a valid Avro schema. The message is complete and meant for
 * the client that sent the schema (the registry answers it as error 42201), e.g.
 * `Invalid schema: unknown type 'shoal.common.Mony' at field 'total'`.
 */
export class InvalidAvroSchemaError extends ShoalError {
  constructor(message: string, options: Omit<ShoalErrorOptions, 'retriable'> = {}) {
    super('SHOAL_SCHEMA_INVALID', message, options);
    this.name = 'InvalidAvroSchemaError';
  }
}
