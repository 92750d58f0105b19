/**
 * The consumer runtime's tables in a service database: the inbox (inbox-table.ts) and the parked records
 * (parked-records.ts), created if missing in one transaction, in the adapter's dialect (@shoal/store's
 * createTables: on PostgreSQL under the schema lock, so instances starting together do not race).
 */
import { createTables, type ServiceDatabase } from '@shoal/store';
import { INBOX_TABLE } from './inbox-table.js';
import { PARKED_RECORDS_TABLE } from './parked-records.js';

export function createConsumerTables(database: ServiceDatabase): Promise<void> {
  return createTables(database, {
    sqlite: [...INBOX_TABLE.sqlite, ...PARKED_RECORDS_TABLE.sqlite],
    postgres: [...INBOX_TABLE.postgres, ...PARKED_RECORDS_TABLE.postgres],
  });
}
