/**
 * The message a customer receives for each customer-visible event, as a pure function of the event: no
 * clock, no lookup, so the same event always renders the same text and the templates are tested alone.
 *
 * Amounts are integer minor units (Money); they are shown with the currency's number of decimals as
 * Intl knows it (2 for EUR, 0 for JPY; 2 for a code Intl does not know) and the ISO code after the number,
 * which reads the same in every locale: `30.00 EUR`.
 */
import type { ShoalEvent } from '@shoal/contract';

/** The event types a customer hears about. */
export const NOTIFIED_TYPES = [
  'shoal.orders.OrderPlaced',
  'shoal.orders.OrderConfirmed',
  'shoal.orders.OrderCancelled',
  'shoal.orders.OrderShipped',
  'shoal.payments.PaymentRefunded',
] as const;

export type NotifiedType = (typeof NOTIFIED_TYPES)[number];
export type NotifiedEvent = ShoalEvent<NotifiedType>;

const cancellationReasons: Record<string, string> = {
  OUT_OF_STOCK: 'some items are out of stock',
  PAYMENT_DECLINED: 'the payment was declined',
  CUSTOMER_REQUEST: 'you asked us to cancel it',
};

export function render(event: NotifiedEvent): string {
  switch (event.type) {
    case 'shoal.orders.OrderPlaced': {
      const { orderId, lines, total } = event.data;
      const items = lines.reduce((sum, line) => sum + line.quantity, 0);
      return `Thank you for your order ${orderId}: ${items} ${items === 1 ? 'item' : 'items'}, ${formatMoney(total.amount, total.currency)}. We will confirm it shortly.`;
    }
    case 'shoal.orders.OrderConfirmed': {
      const { orderId, total } = event.data;
      return `Your order ${orderId} is confirmed: ${formatMoney(total.amount, total.currency)} will be charged, and we are preparing your parcel.`;
    }
    case 'shoal.orders.OrderCancelled': {
      const { orderId, reason, detail } = event.data;
      const why = cancellationReasons[reason] ?? reason.toLowerCase().replaceAll('_', ' ');
      return `Your order ${orderId} was cancelled: ${why} (${reason}). ${detail}`;
    }
    case 'shoal.orders.OrderShipped': {
      const { orderId, trackingNumber } = event.data;
      return `Your order ${orderId} is on its way. Tracking number: ${trackingNumber}.`;
    }
    case 'shoal.payments.PaymentRefunded': {
      const { orderId, amount } = event.data;
      return `We refunded ${formatMoney(amount.amount, amount.currency)} for your order ${orderId}.`;
    }
  }
}

/** `1500, 'EUR'` -> `15.00 EUR`; `1500, 'JPY'` -> `1500 JPY`; negative amounts keep their sign. */
export function formatMoney(minorUnits: number, currency: string): string {
  const decimals = currencyDecimals(currency);
  const sign = minorUnits < 0 ? '-' : '';
  const digits = String(Math.abs(minorUnits)).padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  return decimals === 0 ? `${sign}${whole} ${currency}` : `${sign}${whole}.${digits.slice(digits.length - decimals)} ${currency}`;
}

/** Building an Intl.NumberFormat costs more than rendering the rest of a message, so once per currency. */
const decimalsByCurrency = new Map<string, number>();

function currencyDecimals(currency: string): number {
  let decimals = decimalsByCurrency.get(currency);
  if (decimals === undefined) {
    try {
      decimals = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      decimals = 2;
    }
    if (decimalsByCurrency.size < 1000) decimalsByCurrency.set(currency, decimals);
  }
  return decimals;
}
