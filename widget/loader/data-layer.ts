/**
 * The page's `dataLayer` (Google Tag Manager's and gtag.js's queue), followed as it grows: what
 * consent-managers.ts reads Consent Mode from and data-layer-orders.ts reads orders from. The
 * layer is created when the page has none yet (gtag and GTM push onto an existing one), and each
 * later push still runs the page's own push first; what a follower does with the entries never
 * throws into the page.
 */

/** The page's data layer; `onPush(items)` is called after every later push, with what was pushed. */
export function followDataLayer(onPush: (items: unknown[]) => void): readonly unknown[] {
  const w = window as unknown as { dataLayer?: unknown[] };
  w.dataLayer ??= [];
  const layer = w.dataLayer;
  const push = layer.push.bind(layer);
  layer.push = (...items: unknown[]) => {
    const n = push(...items);
    try {
      onPush(items);
    } catch {
      // a page's odd dataLayer entry is never our exception to throw
    }
    return n;
  };
  return layer;
}
