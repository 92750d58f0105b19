/**
 * JSON schemas that every service's routes share, so an id, a currency or a page size is refused the same
 * way by each of them.
 */

/** An id in a path, query or body: whatever the client chose, within reason. */
export const idSchema = { type: 'string', minLength: 1, maxLength: 100 } as const;

/** An ISO 4217 currency code. */
export const currencySchema = { type: 'string', pattern: '^[A-Z]{3}$' } as const;

/** Most items a list route answers in one page. */
export const MAX_LIST_LIMIT = 1000;

/** `?limit=`: a page size, 100 unless asked. */
export const listLimitSchema = { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: 100 } as const;

/** The params schema of a route with one id in its path, e.g. `idParams('id')` for `/orders/:id`. */
export function idParams<const N extends string>(name: N) {
  return { type: 'object', required: [name], properties: { [name]: idSchema } as { [K in N]: typeof idSchema } } as const;
}
