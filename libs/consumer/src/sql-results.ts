/** Reading the results of the inbox's and the parked records' statements, on either adapter (passed to afterValue). */

/** A statement changed exactly one row (an insert that was not a conflict, a delete that found its row). */
export function isOne(changed: number): boolean {
  return changed === 1;
}

/** A query found a row. */
export function isFound(row: unknown): boolean {
  return row !== undefined;
}
