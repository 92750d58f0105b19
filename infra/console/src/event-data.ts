/**
 * The decoded data of a seen event, on demand: the index keeps the record's bytes, and this decodes them with
 * the platform's codec (the registry's writer schema, resolved to the catalog's reader schema) as a service
 * would. A failure is the event's answer, not the page's: its reason is shown in place of the data.
 */
import { isShoalError } from '@shoal/core';
import { CLOUDEVENTS_SPEC_VERSION, type EventCodec } from '@shoal/contract';
import type { SeenEvent } from './event-index.js';

export type DecodedData = { data: unknown } | { error: { code: string; message: string } };

export async function decodeEventData(codec: EventCodec, event: SeenEvent): Promise<DecodedData> {
  if (event.value === null) return { data: null };
  const headers: Record<string, string> = { ce_specversion: CLOUDEVENTS_SPEC_VERSION, ce_id: event.id, ce_source: event.source, ce_type: event.type };
  if (event.contentType !== undefined) headers['content-type'] = event.contentType;
  try {
    const decoded = await codec.decode({ key: event.key ?? null, value: event.value, headers });
    return { data: decoded.data };
  } catch (error) {
    return { error: { code: isShoalError(error) ? error.code : 'SHOAL_EVENT_DECODE', message: (error as Error).message } };
  }
}

/** JSON of event data: bytes as base64 and longs as strings, as `shoal subscribe` prints them. */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, item: unknown) => {
      if (typeof item === 'bigint') return item.toString();
      if (item !== null && typeof item === 'object' && (item as { type?: unknown }).type === 'Buffer' && Array.isArray((item as { data?: unknown }).data)) {
        return Buffer.from((item as { data: number[] }).data).toString('base64');
      }
      return item;
    }),
  );
}
