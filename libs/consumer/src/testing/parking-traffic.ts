import type { ShoalEvent } from '@shoal/contract';
import { orderPlaced } from './consumer-testbed.js';

export interface ParkingTraffic {
  /** The key's events in order: the first is the one a test makes fail, the others are parked behind it. */
  keyed: ShoalEvent<'shoal.orders.OrderPlaced'>[];
  /** 200 events of 40 other orders (`ord-0` to `ord-39`, five each). */
  others: ShoalEvent<'shoal.orders.OrderPlaced'>[];
  /** What to publish, in order: the key's first event, then the others with the key's later events spread among them. */
  all: ShoalEvent<'shoal.orders.OrderPlaced'>[];
}

/**
 * The traffic of the parking tests: OrderPlaced events of `key` numbered 0 to `later` (the number travels as
 * placedAt), the first to fail, the rest spread among 200 events of other orders.
 */
export function parkingTraffic(key: string, later: number): ParkingTraffic {
  const keyed = Array.from({ length: later + 1 }, (_, n) => orderPlaced(key, n));
  const others = Array.from({ length: 200 }, (_, n) => orderPlaced(`ord-${n % 40}`, 1000 + n));
  const gap = Math.floor(others.length / later);
  const mixed = others.flatMap((event, n) => ((n + 1) % gap === 0 && (n + 1) / gap <= later ? [event, keyed[(n + 1) / gap]!] : [event]));
  return { keyed, others, all: [keyed[0]!, ...mixed] };
}
