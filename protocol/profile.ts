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
  lastEventAt: number | null;
  cart: { items: number; value: number };
  purchases: number;
}

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
    lastEventAt: null,
    cart: { items: 0, value: 0 },
    purchases: 0,
  };
}

/** 2^((t - epoch)/halfLife): the factor a weight added at time t is stored with. */
export function storedScale(profile: ShopperProfile, t: number): number {
  return Math.pow(2, (t - profile.epoch) / (profile.halfLifeHours * 3_600_000));
}
