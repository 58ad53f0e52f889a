/**
 * Conversions: a purchase that follows a click on a creative within the attribution window
 * (default 7 days, a site setting) converts that decision. Last click wins, as in most ad
 * measurement: one purchase converts at most one decision, the most recent click before it, and
 * a decision converts at most once. Everything here stays in the device's decision log; only the
 * per-creative counts (conversions, and their order value in units: revenue) go into the round report.
 */
import type { DeviceDB } from './device-store.ts';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';
import { DEFAULT_ATTRIBUTION_DAYS } from '../../protocol/wire.ts';

/**
 * Marks the decision a purchase at `at` converts, if any, with the order's value (in the site's
 * currency; none when the page gave none, or gave it in another currency); returns its id.
 */
export async function attributePurchase(db: DeviceDB, at: number, windowDays = DEFAULT_ATTRIBUTION_DAYS, orderValue?: number): Promise<string | null> {
  const tx = db.transaction('decisions', 'readwrite');
  // Decisions are made before their clicks, so a click inside the window belongs to a decision
  // made inside it too: walk the window's decisions, newest first.
  let cursor = await tx.store.index('byTime').openCursor(IDBKeyRange.bound(at - windowDays * 86_400_000, at), 'prev');
  let best: { id: string; clickedAt: number } | null = null;
  while (cursor) {
    const d = cursor.value;
    if (d.click && !d.conversion && d.clickedAt !== undefined && d.clickedAt <= at && (!best || d.clickedAt > best.clickedAt))
      best = { id: d.id, clickedAt: d.clickedAt };
    cursor = await cursor.continue();
  }
  if (best) {
    const d = (await tx.store.get(best.id))!;
    await tx.store.put({ ...d, conversion: true, ...(orderValue !== undefined && orderValue > 0 ? { orderValue } : {}) });
  }
  await tx.done;
  return best?.id ?? null;
}

/** A purchase's value as revenue in the site's currency: none without a value, or in another currency (no rates on the device). */
export function revenueOf(purchase: ShopperEvent, siteCurrency = 'USD'): number | undefined {
  if (purchase.value === undefined || !(purchase.value > 0)) return undefined;
  return purchase.currency === undefined || purchase.currency === siteCurrency ? purchase.value : undefined;
}

/** How far back a repeated order id is looked for: longer than any attribution window (90 days at most). */
const ORDER_MEMORY_DAYS = 90;

/**
 * Whether a purchase repeats an order already stored before it (the same order id, an earlier
 * time): a confirmation page reloaded, or an order both tracked and read from the data layer.
 * Such a purchase converts nothing: the order was attributed once, when it was first recorded.
 */
export async function repeatsOrder(db: DeviceDB, purchase: ShopperEvent): Promise<boolean> {
  if (purchase.orderId === undefined) return false;
  const range = IDBKeyRange.bound(purchase.at - ORDER_MEMORY_DAYS * 86_400_000, purchase.at, false, true);
  for (let cursor = await db.transaction('events').store.index('byTime').openCursor(range); cursor; cursor = await cursor.continue()) {
    if (cursor.value.type === 'purchase' && cursor.value.orderId === purchase.orderId) return true;
  }
  return false;
}
