/**
 * Orders from the page's data layer (`data-orders="datalayer"`): a shop that already reports its
 * purchases to Google Analytics 4 reports them to Vitrine with no code of its own. Read are GA4's
 * `purchase` event as Google Tag Manager's data layer carries it,
 * `{event: 'purchase', ecommerce: {transaction_id, value, currency, items}}`, and as gtag.js
 * pushes it, `gtag('event', 'purchase', {transaction_id, value, currency, items})` (an arguments
 * object in the layer): those already in the layer when the script starts, and those pushed
 * later. Each order is recorded once per page (by transaction id), as
 * `vitrine('track', 'purchase', {value, currency, productId})` would; it stays on the device.
 *
 * Opt-in, because a page that also calls `vitrine('track', 'purchase')` would count the order
 * twice. Nothing here throws into the page: an entry that is not an order is passed over.
 */
import { followDataLayer } from './data-layer.ts';

export interface DataLayerOrder {
  value?: number;
  currency?: string;
  productId?: string;
  transactionId?: string;
}

type Fields = Record<string, unknown>;
const isObject = (x: unknown): x is Fields => typeof x === 'object' && x !== null;

/** The order a data layer entry carries, or null when it is not a GA4 purchase. */
export function orderOf(entry: unknown): DataLayerOrder | null {
  let fields: Fields | null = null;
  if (isObject(entry) && entry.event === 'purchase' && isObject(entry.ecommerce)) fields = entry.ecommerce;
  // gtag('event', 'purchase', {...}) pushes its arguments object: array-like, not an array.
  else if (isObject(entry) && entry[0] === 'event' && entry[1] === 'purchase' && isObject(entry[2])) fields = entry[2];
  if (!fields) return null;
  const value = typeof fields.value === 'number' ? fields.value : typeof fields.value === 'string' ? Number(fields.value) : undefined;
  const first = Array.isArray(fields.items) && isObject(fields.items[0]) ? fields.items[0] : null;
  const id = first?.item_id ?? first?.id;
  return {
    value: value !== undefined && Number.isFinite(value) ? value : undefined,
    currency: typeof fields.currency === 'string' ? fields.currency : undefined,
    productId: typeof id === 'string' || typeof id === 'number' ? String(id) : undefined,
    transactionId: typeof fields.transaction_id === 'string' || typeof fields.transaction_id === 'number' ? String(fields.transaction_id) : undefined,
  };
}

/** Calls `record` for every purchase in the page's data layer, now and as it is pushed, once per transaction id. */
export function followDataLayerOrders(record: (order: DataLayerOrder) => void): void {
  const seen = new Set<string>();
  const take = (entry: unknown) => {
    try {
      const order = orderOf(entry);
      if (!order) return;
      if (order.transactionId !== undefined) {
        if (seen.has(order.transactionId)) return;
        seen.add(order.transactionId);
      }
      record(order);
    } catch {
      // a page's odd entry is never our exception to throw
    }
  };
  // Later pushes as they come, then what the layer held when the script started.
  const layer = followDataLayer((items) => items.forEach(take));
  for (const entry of [...layer]) take(entry);
}
