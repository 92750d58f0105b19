export { ShoalError, isShoalError, SHOAL_ERROR_CODES } from './errors.js';
export type { ShoalErrorCode, ShoalErrorOptions } from './errors.js';
