/**
 * Folding one event into the shopper profile, in O(1): only the keys the event names are
 * touched (see protocol/profile.ts for how decay works without rescaling every key).
 */
import { priceBandOf } from './catalog.ts';
import { bucketOf } from './hash.ts';
import { MAX_CART_PRODUCTS, SEARCH_BUCKETS, storedScale } from './profile.ts';
import type { ShopperProfile } from './profile.ts';
import { EVENT_WEIGHT } from './shopper-events.ts';
import type { ShopperEvent } from './shopper-events.ts';

/** Scale factors above this are folded back into the values before they can overflow. */
const REBASE_ABOVE = 2 ** 60;

function rebase(profile: ShopperProfile, now: number): void {
  const factor = 1 / storedScale(profile, now);
  const shrink = (m: Record<string, number>) => {
    for (const k in m) {
      m[k] = m[k]! * factor;
      if (m[k]! < 1e-6) delete m[k];
    }
  };
  shrink(profile.categories);
  shrink(profile.brands);
  profile.priceBands = profile.priceBands.map((x) => x * factor);
  profile.searchBuckets = profile.searchBuckets.map((x) => x * factor);
  profile.activity *= factor;
  profile.epoch = now;
}

/** Applies `event` to `profile` in place and returns it. */
export function applyEvent(profile: ShopperProfile, event: ShopperEvent): ShopperProfile {
  const t = Math.max(event.at, profile.lastEventAt ?? -Infinity);
  let scale = storedScale(profile, t);
  if (scale > REBASE_ABOVE) {
    rebase(profile, t);
    scale = 1;
  }
  const w = EVENT_WEIGHT[event.type] * scale;
  if (w > 0) {
    if (event.category) profile.categories[event.category] = (profile.categories[event.category] ?? 0) + w;
    if (event.brand) profile.brands[event.brand] = (profile.brands[event.brand] ?? 0) + w;
    if (event.price !== undefined) profile.priceBands[priceBandOf(event.price)]! += w;
  }
  if (event.type === 'search' && event.query) {
    for (const term of event.query.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 10)) {
      profile.searchBuckets[bucketOf(term, SEARCH_BUCKETS)]! += scale;
    }
  }
  profile.activity += scale;
  profile.totalEvents += 1;
  profile.lastEventAt = t;
  const qty = event.quantity ?? 1;
  if (event.type === 'add_to_cart') {
    profile.cart.items += qty;
    profile.cart.value += (event.price ?? 0) * qty;
    if (event.productId)
      profile.cart.products = [...(profile.cart.products ?? []).filter((id) => id !== event.productId), event.productId].slice(-MAX_CART_PRODUCTS);
  } else if (event.type === 'remove_from_cart') {
    profile.cart.items = Math.max(0, profile.cart.items - qty);
    profile.cart.value = Math.max(0, profile.cart.value - (event.price ?? 0) * qty);
    if (event.productId) profile.cart.products = (profile.cart.products ?? []).filter((id) => id !== event.productId);
  } else if (event.type === 'purchase') {
    profile.purchases += 1;
    profile.cart = { items: 0, value: 0, products: [] };
  }
  return profile;
}
