/**
 * The synchronous check of an event before it is stored for publishing later (an outbox row, an event-store
 * append): the same rules the codec applies when it encodes, run while the caller's transaction is still
 * open, so an event that could never be published fails the transaction instead of poisoning the outbox.
 */
import type { SchemaCatalog } from './catalog/index.js';
import type { CloudEvent } from './cloud-event.js';
import { dataInvalid } from './avro-data.js';
import { validateAttributes } from './event-validation.js';

/**
 * Throws SHOAL_EVENT_INVALID for a bad attribute, SHOAL_SCHEMA_UNKNOWN_TYPE for a type the catalog does not
 * know, SHOAL_EVENT_DATA_INVALID (with field paths) for data that does not match the type's schema.
 */
export function checkEvent(event: CloudEvent<unknown>, catalog: SchemaCatalog): void {
  validateAttributes(event, 'event');
  const definition = catalog.event(event.type);
  const type = catalog.avroType(definition.name);
  if (!type.isValid(event.data)) throw dataInvalid(event.type, type, event.data);
}
