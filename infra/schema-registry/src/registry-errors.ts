import { ShoalError, type ShoalErrorCode } from '@shoal/core';

/**
 * Confluent Schema Registry's error table. Every failed request answers
 *
 *   HTTP <status>  { "error_code": <code>, "message": "<text>" }
 *
 * where a five-digit code starts with its HTTP status (40401 -> 404) and a three-digit code is the status
 * itself (409, 400, 415...). Clients switch on `error_code` (confluent-kafka's SchemaRegistryError, the
 * Java RestClientException), so the codes and the message texts follow Confluent's own.
 *
 * Domain code throws ShoalError with `details.errorCode`; only the HTTP layer turns that into a status.
 */
export const RegistryErrorCode = {
  SubjectNotFound: 40401,
  VersionNotFound: 40402,
  SchemaNotFound: 40403,
  SubjectSoftDeleted: 40404,
  SubjectNotSoftDeleted: 40405,
  VersionSoftDeleted: 40406,
  VersionNotSoftDeleted: 40407,
  SubjectCompatibilityNotConfigured: 40408,
  SubjectModeNotConfigured: 40409,
  IncompatibleSchema: 409,
  InvalidSchema: 42201,
  InvalidVersion: 42202,
  InvalidCompatibilityLevel: 42203,
  InvalidMode: 42204,
  OperationNotPermitted: 42205,
  ReferenceExists: 42206,
  StoreError: 50001,
} as const;

export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

/** The HTTP status that carries an error code. */
export function httpStatusOf(errorCode: number): number {
  return errorCode >= 10_000 ? Math.floor(errorCode / 100) : errorCode;
}

/** The Confluent error code a ShoalError carries, if it is one the registry raised. */
export function errorCodeOf(error: unknown): number | undefined {
  if (!(error instanceof ShoalError)) return undefined;
  const code = error.details?.errorCode;
  return typeof code === 'number' ? code : undefined;
}

function registryError(errorCode: RegistryErrorCode, message: string, code: ShoalErrorCode = 'SHOAL_REGISTRY_REQUEST'): ShoalError {
  return new ShoalError(code, message, { details: { errorCode } });
}

/** The registry's failures, one factory per Confluent error, with Confluent's message texts. */
export const registryErrors = {
  subjectNotFound: (subject: string) => registryError(RegistryErrorCode.SubjectNotFound, `Subject '${subject}' not found.`),
  versionNotFound: (version: number) => registryError(RegistryErrorCode.VersionNotFound, `Version ${version} not found.`),
  schemaNotFound: (id?: number | string) =>
    registryError(RegistryErrorCode.SchemaNotFound, id === undefined ? 'Schema not found' : `Schema ${id} not found`, 'SHOAL_SCHEMA_UNKNOWN_ID'),
  subjectSoftDeleted: (subject: string) =>
    registryError(RegistryErrorCode.SubjectSoftDeleted, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`),
  subjectNotSoftDeleted: (subject: string) =>
    registryError(RegistryErrorCode.SubjectNotSoftDeleted, `Subject '${subject}' was not deleted first before being permanently deleted`),
  versionSoftDeleted: (subject: string, version: number) =>
    registryError(RegistryErrorCode.VersionSoftDeleted, `Subject '${subject}' Version ${version} was soft deleted.Set permanent=true to delete permanently`),
  versionNotSoftDeleted: (subject: string, version: number) =>
    registryError(RegistryErrorCode.VersionNotSoftDeleted, `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`),
  compatibilityNotConfigured: (subject: string) =>
    registryError(RegistryErrorCode.SubjectCompatibilityNotConfigured, `Subject '${subject}' does not have subject-level compatibility configured`),
  modeNotConfigured: (subject: string) => registryError(RegistryErrorCode.SubjectModeNotConfigured, `Subject '${subject}' does not have subject-level mode configured`),
  incompatibleSchema: (subject: string, messages: readonly string[]) =>
    registryError(
      RegistryErrorCode.IncompatibleSchema,
      `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${messages.join(', ')}]`,
      'SHOAL_SCHEMA_INCOMPATIBLE',
    ),
  invalidSchema: (details: string) => registryError(RegistryErrorCode.InvalidSchema, `Invalid schema of type AVRO, details: ${details}`, 'SHOAL_SCHEMA_INVALID'),
  invalidSchemaType: (schemaType: string) => registryError(RegistryErrorCode.InvalidSchema, `Invalid schema type ${schemaType}`, 'SHOAL_SCHEMA_UNKNOWN_TYPE'),
  invalidRequest: (message: string) => registryError(RegistryErrorCode.InvalidSchema, message, 'SHOAL_SCHEMA_INVALID'),
  invalidVersion: (version: string) =>
    registryError(
      RegistryErrorCode.InvalidVersion,
      `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    ),
  invalidCompatibilityLevel: () =>
    registryError(
      RegistryErrorCode.InvalidCompatibilityLevel,
      'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
    ),
  invalidMode: () => registryError(RegistryErrorCode.InvalidMode, 'Invalid mode. Valid values are READWRITE, READONLY and IMPORT.'),
  operationNotPermitted: (message: string) => registryError(RegistryErrorCode.OperationNotPermitted, message),
  referenceExists: (subject: string, version: number) =>
    registryError(RegistryErrorCode.ReferenceExists, `One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=${subject},version=${version}}.`),
};
