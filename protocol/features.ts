/**
 * The feature specification: the one definition of how a shopper, a page and a creative become
 * numbers. The widget encodes with it for inference and the trainer for training; a model
 * artifact carries FEATURE_SPEC_HASH and the engine refuses a model trained on another spec.
 */
import { DEVICE_CLASSES, LAYOUTS, MESSAGE_TYPES, PAGE_TYPES, PRICE_BANDS, priceBandOf } from './catalog.ts';
import type { DeviceClass, Layout, MessageType, PageType } from './catalog.ts';
import { bucketOf, digest64 } from './hash.ts';
import { SEARCH_BUCKETS, storedScale } from './profile.ts';
import type { ShopperProfile } from './profile.ts';

const CATEGORY_BUCKETS = 32;
const BRAND_BUCKETS = 8;
const SLOT_BUCKETS = 4;

/** Everything that changes what a feature index means. Its digest is the spec version. */
const SPEC = {
  name: 'vitrine-features',
  revision: 4,
  categoryBuckets: CATEGORY_BUCKETS,
  brandBuckets: BRAND_BUCKETS,
  slotBuckets: SLOT_BUCKETS,
  searchBuckets: SEARCH_BUCKETS,
  priceBands: PRICE_BANDS,
  pageTypes: PAGE_TYPES,
  deviceClasses: DEVICE_CLASSES,
  layouts: LAYOUTS,
  messageTypes: MESSAGE_TYPES,
  shopper: [
    'categoryAffinity',
    'brandAffinity',
    'priceAffinity',
    'search',
    'activity',
    'recency',
    'cartItems',
    'cartValue',
    'purchases',
    'pageType',
    'pageCategory',
    'hourSin',
    'hourCos',
    'device',
  ],
  creative: ['category', 'brand', 'priceBand', 'layout', 'messageType', 'slot', 'popularity'],
  cross: ['categoryAffinity', 'brandAffinity', 'priceAffinity', 'pageCategory', 'categoryAffinity*brandAffinity'],
} as const;

export const FEATURE_SPEC_HASH = digest64(JSON.stringify(SPEC));

export const SHOPPER_DIM =
  CATEGORY_BUCKETS + BRAND_BUCKETS + PRICE_BANDS + SEARCH_BUCKETS + 5 + PAGE_TYPES.length + CATEGORY_BUCKETS + 2 + DEVICE_CLASSES.length;
export const CREATIVE_DIM = CATEGORY_BUCKETS + BRAND_BUCKETS + PRICE_BANDS + LAYOUTS.length + MESSAGE_TYPES.length + SLOT_BUCKETS + 1;

/**
 * Cross features: how much of the shopper's decayed affinity falls on this creative's category,
 * brand and price band, and whether the creative is in the category of the page being viewed.
 * The towers could learn these matches from data, but slowly and only with a lot of it; given
 * directly, the Bayesian last layer weighs them from the first round of feedback on.
 *
 * The last one is the product of the category and brand shares: a shopper's brand counts where
 * they shop (a taste for a brand's running shoes says little about its socks). Alone, the linear
 * last layer can only give brand one weight averaged over every category, most of which the
 * shopper does not care for, and so underrates it exactly where it decides between creatives.
 *
 * They are read from the profile by exact key, not from the hashed blocks of the shopper vector:
 * a store has far more brands than the 8 brand buckets, and two brands sharing a bucket would
 * look the same to the one feature that tells the shopper's brand from another.
 */
export const CROSS_DIM = SPEC.cross.length;

/**
 * Pseudo-events of no category or brand added under the category and brand shares. Without them
 * a shopper seen once has a share of 1 for the category and brand of that one product, which
 * overstates a sparse profile, and the last layer, fitted on the policy's own decisions, learned
 * to discount high brand shares altogether (the simulator's brand choices fell below random).
 * With two, one view gives 1/3 and ten views of one brand 10/12: the share grows with evidence.
 */
const SMOOTHING = 2;

/** The cross features of one shopper (profile, page) against each creative, row-major [n, CROSS_DIM]. */
export function crossRows(profile: ShopperProfile, page: PageContext, creatives: readonly CreativeAttributes[]): Float32Array {
  const out = new Float32Array(creatives.length * CROSS_DIM);
  // The profile's weights are all stored at one scale (profile.ts): shares need no decay factor.
  let categoryTotal = 0;
  for (const k in profile.categories) categoryTotal += profile.categories[k]!;
  let brandTotal = 0;
  for (const k in profile.brands) brandTotal += profile.brands[k]!;
  let priceTotal = 0;
  for (const w of profile.priceBands) priceTotal += w;
  // A fresh event's weight at the profile's latest event, in its stored scale (profile.ts).
  const unit = storedScale(profile, profile.lastEventAt ?? profile.epoch);
  creatives.forEach((c, i) => {
    const at = i * CROSS_DIM;
    const category = (profile.categories[c.category] ?? 0) / (categoryTotal + SMOOTHING * unit);
    const brand = (profile.brands[c.brand] ?? 0) / (brandTotal + SMOOTHING * unit);
    out[at] = category;
    out[at + 1] = brand;
    out[at + 2] = priceTotal > 0 ? profile.priceBands[priceBandOf(c.price)]! / priceTotal : 0;
    out[at + 3] = page.category !== null && page.category === c.category ? 1 : 0;
    out[at + 4] = category * brand;
  });
  return out;
}

export interface PageContext {
  pageType: PageType;
  /** Category of the product or category page being shown, if any. */
  category: string | null;
  /** Local hour of day, 0-23. */
  hour: number;
  device: DeviceClass;
  /** The identifiers of the product this page shows (not a feature: the engine leaves that product out of the page's creatives). */
  productIds?: string[];
}

/** The attributes of a candidate creative the model sees. */
export interface CreativeAttributes {
  category: string;
  brand: string;
  price: number;
  layout: Layout;
  messageType: MessageType;
  /** Relative popularity in [0, 1] (share of the most popular product's sales or views). */
  popularity: number;
}

/** Writes `weights` (keyed by string) into hashed buckets at `offset`, normalized to sum 1. */
function writeHashedShares(out: Float32Array, offset: number, buckets: number, weights: Record<string, number>): void {
  let total = 0;
  for (const key in weights) total += weights[key]!;
  if (total <= 0) return;
  for (const key in weights) out[offset + bucketOf(key, buckets)]! += weights[key]! / total;
}

function writeShares(out: Float32Array, offset: number, values: readonly number[]): void {
  let total = 0;
  for (const v of values) total += v;
  if (total <= 0) return;
  values.forEach((v, i) => (out[offset + i] = v / total));
}

/** Shopper and page features, read from the profile at time `now`. */
export function encodeShopper(profile: ShopperProfile, page: PageContext, now: number): Float32Array {
  const out = new Float32Array(SHOPPER_DIM);
  let at = 0;
  writeHashedShares(out, at, CATEGORY_BUCKETS, profile.categories);
  at += CATEGORY_BUCKETS;
  writeHashedShares(out, at, BRAND_BUCKETS, profile.brands);
  at += BRAND_BUCKETS;
  writeShares(out, at, profile.priceBands);
  at += PRICE_BANDS;
  writeShares(out, at, profile.searchBuckets);
  at += SEARCH_BUCKETS;
  const activityNow = profile.activity / storedScale(profile, now);
  out[at++] = Math.min(1, Math.log1p(activityNow) / 4);
  const hoursSince = profile.lastEventAt === null ? Infinity : Math.max(0, now - profile.lastEventAt) / 3_600_000;
  out[at++] = Math.exp(-hoursSince / 24);
  out[at++] = Math.min(1, Math.log1p(profile.cart.items) / 3);
  out[at++] = Math.min(1, Math.log1p(profile.cart.value) / 7);
  out[at++] = Math.min(1, Math.log1p(profile.purchases) / 2);
  out[at + Math.max(0, PAGE_TYPES.indexOf(page.pageType))] = 1;
  at += PAGE_TYPES.length;
  if (page.category) out[at + bucketOf(page.category, CATEGORY_BUCKETS)] = 1;
  at += CATEGORY_BUCKETS;
  out[at++] = Math.sin((2 * Math.PI * page.hour) / 24);
  out[at++] = Math.cos((2 * Math.PI * page.hour) / 24);
  out[at + Math.max(0, DEVICE_CLASSES.indexOf(page.device))] = 1;
  return out;
}

/** Creative features for one candidate shown in `slot`. */
export function encodeCreative(creative: CreativeAttributes, slot: string): Float32Array {
  const out = new Float32Array(CREATIVE_DIM);
  let at = 0;
  out[at + bucketOf(creative.category, CATEGORY_BUCKETS)] = 1;
  at += CATEGORY_BUCKETS;
  out[at + bucketOf(creative.brand, BRAND_BUCKETS)] = 1;
  at += BRAND_BUCKETS;
  out[at + priceBandOf(creative.price)] = 1;
  at += PRICE_BANDS;
  out[at + Math.max(0, LAYOUTS.indexOf(creative.layout))] = 1;
  at += LAYOUTS.length;
  out[at + Math.max(0, MESSAGE_TYPES.indexOf(creative.messageType))] = 1;
  at += MESSAGE_TYPES.length;
  out[at + bucketOf(slot, SLOT_BUCKETS)] = 1;
  at += SLOT_BUCKETS;
  out[at] = Math.min(1, Math.max(0, creative.popularity));
  return out;
}
