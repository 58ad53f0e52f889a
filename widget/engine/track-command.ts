/**
 * `vitrine('track', type, props)`: validation of what a merchant's code passes in. It runs in
 * the worker (the loader only forwards the call, which keeps it small); an invalid call is
 * dropped and its reason goes back to the loader, which writes the one console warning.
 */
import { EVENT_TYPES } from '../../protocol/shopper-events.ts';
import type { EventType, ShopperEvent } from '../../protocol/shopper-events.ts';

const MAX_PROPS_BYTES = 4096;

function optionalString(value: unknown, max = 200): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : undefined;
}

function optionalNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** A ShopperEvent, or the reason the call is dropped. */
export function parseTrackCall(type: unknown, props: unknown, at: number): ShopperEvent | string {
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    return `unknown event type ${JSON.stringify(type)}; use one of ${EVENT_TYPES.join(', ')}`;
  }
  if (props !== undefined && (props === null || typeof props !== 'object' || Array.isArray(props))) return 'props must be an object';
  const p = (props ?? {}) as Record<string, unknown>;
  let size = 0;
  try {
    size = JSON.stringify(p).length;
  } catch {
    return 'props must be plain JSON data';
  }
  if (size > MAX_PROPS_BYTES) return `props are ${size} bytes; the limit is ${MAX_PROPS_BYTES}`;
  return {
    type: type as EventType,
    at,
    productId: optionalString(p.productId ?? p.id, 64),
    category: optionalString(p.category, 64),
    brand: optionalString(p.brand, 64),
    price: optionalNumber(p.price),
    quantity: optionalNumber(p.quantity),
    value: optionalNumber(p.value),
    orderId: optionalString(p.orderId ?? p.transactionId ?? p.transaction_id, 64),
    currency: typeof p.currency === 'string' && /^[A-Za-z]{3}$/.test(p.currency) ? p.currency.toUpperCase() : undefined,
    query: optionalString(p.query),
  };
}

/** The page's calls in order: the events they make, and a warning for each call dropped. */
export function parseTrackCalls(calls: [type: unknown, props: unknown][], at: number): { events: ShopperEvent[]; dropped: string[] } {
  const events: ShopperEvent[] = [];
  const dropped: string[] = [];
  for (const [type, props] of calls) {
    const event = parseTrackCall(type, props, at);
    if (typeof event === 'string') dropped.push(`track call dropped: ${event}`);
    else events.push(event);
  }
  return { events, dropped };
}
