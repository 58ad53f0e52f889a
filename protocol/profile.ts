/**
 * The shopper profile: what the device knows about its shopper, as decayed aggregates.
 * It lives only in the device's IndexedDB; the feature encoder reads it, nothing sends it.
 *
 * Decay without scanning: every weight is stored scaled by 2^((t - epoch) / halfLife) at the
 * time it was added, so adding an event touches only the keys it names (O(1)), and reading at
 * time `now` multiplies by 2^(-(now - epoch) / halfLife). The epoch is moved forward (rebased)
 * before the scale can overflow.
 */
import { PRICE_BANDS } from './catalog.ts';

export const SEARCH_BUCKETS = 8;
export const PROFILE_VERSION = 1;

export interface ShopperProfile {
  v: typeof PROFILE_VERSION;
  /** Time origin of the stored scale (ms since epoch). */
  epoch: number;
  halfLifeHours: number;
  categories: Record<string, number>;
  brands: Record<string, number>;
  priceBands: number[];
  searchBuckets: number[];
  /** Decayed count of all events (frequency). */
  activity: number;
  /** Events ever folded in, undecayed: what lets tests (and tabs) check nothing was lost or doubled. */
  totalEvents: number;
  lastEventAt: number | null;
  /** What is in the cart: count, value, and (for the products in it: never advertised to this shopper) their catalog ids, at most MAX_CART_PRODUCTS; absent in profiles stored before. */
  cart: { items: number; value: number; products?: string[] };
  purchases: number;
}

export const MAX_CART_PRODUCTS = 50;

export function emptyProfile(now: number, halfLifeHours = 72): ShopperProfile {
  return {
    v: PROFILE_VERSION,
    epoch: now,
    halfLifeHours,
    categories: {},
    brands: {},
    priceBands: new Array<number>(PRICE_BANDS).fill(0),
    searchBuckets: new Array<number>(SEARCH_BUCKETS).fill(0),
    activity: 0,
    totalEvents: 0,
    lastEventAt: null,
    cart: { items: 0, value: 0, products: [] },
    purchases: 0,
  };
}

/** 2^((t - epoch)/halfLife): the factor a weight added at time t is stored with. */
export function storedScale(profile: ShopperProfile, t: number): number {
  return 2 ** ((t - profile.epoch) / (profile.halfLifeHours * 3_600_000));
}

function finiteNonNegative(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

function weightMap(m: unknown): boolean {
  return !!m && typeof m === 'object' && !Array.isArray(m) && Object.values(m).every(finiteNonNegative);
}

/**
 * Whether a stored profile can be trusted. A profile that fails this (a bug, a partial write,
 * a hand-edited database) is rebuilt from the stored events rather than fed to the model.
 */
export function isValidProfile(p: unknown): p is ShopperProfile {
  if (!p || typeof p !== 'object') return false;
  const q = p as Record<string, unknown>;
  return (
    q.v === PROFILE_VERSION &&
    typeof q.epoch === 'number' &&
    Number.isFinite(q.epoch) &&
    finiteNonNegative(q.halfLifeHours) &&
    (q.halfLifeHours as number) > 0 &&
    weightMap(q.categories) &&
    weightMap(q.brands) &&
    Array.isArray(q.priceBands) &&
    q.priceBands.length === PRICE_BANDS &&
    q.priceBands.every(finiteNonNegative) &&
    Array.isArray(q.searchBuckets) &&
    q.searchBuckets.length === SEARCH_BUCKETS &&
    q.searchBuckets.every(finiteNonNegative) &&
    finiteNonNegative(q.activity) &&
    finiteNonNegative(q.totalEvents) &&
    (q.lastEventAt === null || (typeof q.lastEventAt === 'number' && Number.isFinite(q.lastEventAt))) &&
    !!q.cart &&
    finiteNonNegative((q.cart as Record<string, unknown>).items) &&
    finiteNonNegative((q.cart as Record<string, unknown>).value) &&
    (((q.cart as Record<string, unknown>).products ?? []) as unknown[]).every((id) => typeof id === 'string') &&
    finiteNonNegative(q.purchases)
  );
}
