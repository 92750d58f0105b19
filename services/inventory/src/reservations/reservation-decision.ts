/**
 * What inventory decides when an order arrives, as a pure function of the order's lines and the stock
 * levels: every line is reserved or none is. Quantities are summed per sku first, so an sku listed on two
 * lines needs both quantities at once; an sku the service has never heard of has nothing available.
 *
 * The decision only reads levels. Applying it (moving available to reserved) happens in the handler's
 * transaction, the one that also read the levels, so nothing can change them in between.
 */
import { ShoalError } from '@shoal/core';
import type { ReleasedLine, UnavailableLine } from '@shoal/contract';

/** A quantity of one sku: what a reservation holds and what a release gives back. */
export type SkuQuantity = ReleasedLine;

export type ReservationDecision =
  | { outcome: 'reserved'; quantities: SkuQuantity[] }
  | { outcome: 'failed'; quantities: SkuQuantity[]; unavailable: UnavailableLine[] };

/** Avro `int` bound of the quantities in inventory's events: larger sums are reported at this value. */
export const MAX_EVENT_QUANTITY = 2_147_483_647;

/**
 * The quantities per sku, in the order the skus first appear. A quantity below 1 breaks the OrderPlaced
 * contract; it is refused as poison (dead-lettered) rather than "reserved", which would add stock.
 */
export function quantitiesBySku(lines: readonly { sku: string; quantity: number }[]): SkuQuantity[] {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of lines) {
    if (!Number.isSafeInteger(quantity) || quantity < 1) {
      throw new ShoalError('SHOAL_EVENT_DATA_INVALID', `Order line of ${sku} asks for ${quantity} units; a line asks for at least 1`);
    }
    bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  }
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity }));
}

export function decideReservation(lines: readonly { sku: string; quantity: number }[], availableOf: (sku: string) => number): ReservationDecision {
  const quantities = quantitiesBySku(lines);
  const unavailable: UnavailableLine[] = [];
  for (const { sku, quantity } of quantities) {
    const available = availableOf(sku);
    if (quantity > available) {
      unavailable.push({ sku, requested: Math.min(quantity, MAX_EVENT_QUANTITY), available: Math.min(available, MAX_EVENT_QUANTITY) });
    }
  }
  return unavailable.length === 0 ? { outcome: 'reserved', quantities } : { outcome: 'failed', quantities, unavailable };
}

/** `SKU-1: 3 requested, 2 available; SKU-2: …`, for logs and the reservation's reason. */
export function describeUnavailable(unavailable: readonly UnavailableLine[]): string {
  return unavailable.map(({ sku, requested, available }) => `${sku}: ${requested} requested, ${available} available`).join('; ');
}
