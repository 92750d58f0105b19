export { ShoalError, isShoalError, SHOAL_ERROR_CODES } from './errors.js';
export type { ShoalErrorCode, ShoalErrorOptions } from './errors.js';
export { COMPATIBILITY_LEVELS, isCompatibilityLevel, AVRO_PRIMITIVES, namespaceOf, simpleNameOf } from './avro-contract.js';
export type { CompatibilityLevel } from './avro-contract.js';
export { backoffDelay, sleep } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { silentLogger } from './logger.js';
export type { ShoalLogger } from './logger.js';
export type { Decider } from './decider.js';
