/**
 * `options` without its undefined members, so that spreading it over defaults keeps the default where a
 * caller passed `undefined` (as `{ ...defaults, ...options }` alone would not).
 */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
