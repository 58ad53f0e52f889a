/**
 * Synthetic shoppers for a catalog, for training a site's first model before any real feedback
 * exists: each shopper has latent category and price preferences, browses according to them
 * (which builds a real profile through the widget's own profile code), and is shown uniformly
 * random candidates whose click probability follows a known ground truth.
 */
import { priceBandOf, PRICE_BANDS, PAGE_TYPES, DEVICE_CLASSES } from '../../protocol/catalog.ts';
import { crossRows, encodeCreative, encodeShopper, CREATIVE_DIM, CROSS_DIM, SHOPPER_DIM } from '../../protocol/features.ts';
import type { PageContext } from '../../protocol/features.ts';
import { emptyProfile } from '../../protocol/profile.ts';
import { applyEvent } from '../../protocol/profile-updates.ts';
import type { Candidate } from '../../protocol/wire.ts';
import { pick, pickWeighted, seededRandom } from './seeded-random.ts';

export interface LatentShopper {
  categoryPreference: Map<string, number>;
  priceBand: number;
}

export interface LoggedExamples {
  n: number;
  shoppers: Float32Array; // [n, SHOPPER_DIM]
  creatives: Float32Array; // [n, CREATIVE_DIM]
  cross: Float32Array; // [n, CROSS_DIM]
  clicks: Float32Array; // [n]
  /** The ground-truth click probability of each example (for evaluating a fit). */
  truth: Float32Array;
}

const HOUR = 3_600_000;

/** Ground truth: clicks follow category preference strongly, price fit and popularity weakly. */
export function clickProbability(shopper: LatentShopper, c: Candidate): number {
  const affinity = shopper.categoryPreference.get(c.category) ?? 0;
  const priceFit = priceBandOf(c.price) === shopper.priceBand ? 1 : 0;
  return Math.min(0.95, 0.01 + 0.2 * affinity + 0.02 * priceFit + 0.01 * c.popularity);
}

export function drawShopper(categories: readonly string[], random: () => number): LatentShopper {
  const first = pick(categories, random);
  const second = pick(categories, random);
  const preference = new Map<string, number>();
  preference.set(first, 0.7);
  preference.set(second, (preference.get(second) ?? 0) + 0.3);
  return { categoryPreference: preference, priceBand: Math.floor(random() * PRICE_BANDS) };
}

/** `n` logged impressions under a uniform random policy. */
export function generateLoggedExamples(candidates: readonly Candidate[], n: number, seed: number): LoggedExamples {
  const random = seededRandom(seed);
  const categories = [...new Set(candidates.map((c) => c.category))];
  const products = candidates.filter((c) => c.layout === 'product_card');
  const out: LoggedExamples = {
    n,
    shoppers: new Float32Array(n * SHOPPER_DIM),
    creatives: new Float32Array(n * CREATIVE_DIM),
    cross: new Float32Array(n * CROSS_DIM),
    clicks: new Float32Array(n),
    truth: new Float32Array(n),
  };
  const now = Date.UTC(2026, 0, 1);
  for (let i = 0; i < n; i++) {
    const shopper = drawShopper(categories, random);
    const profile = emptyProfile(now - 72 * HOUR);
    const views = Math.floor(random() * 10);
    let lastCategory: string | null = null;
    for (let e = 0; e < views; e++) {
      const weights = categories.map((c) => 0.05 + (shopper.categoryPreference.get(c) ?? 0));
      const category = categories[pickWeighted(weights, random)]!;
      const inCategory = products.filter((p) => p.category === category);
      const product = inCategory.length ? pick(inCategory, random) : null;
      applyEvent(profile, {
        type: random() < 0.1 ? 'add_to_cart' : 'product_view',
        at: now - (views - e) * HOUR * random() * 10,
        category,
        brand: product?.brand,
        price: product?.price,
      });
      lastCategory = category;
    }
    const pageType = pick(PAGE_TYPES, random);
    const page: PageContext = {
      pageType,
      category: pageType === 'product' || pageType === 'category' ? lastCategory : null,
      hour: Math.floor(random() * 24),
      device: pick(DEVICE_CLASSES, random),
    };
    const candidate = pick(candidates, random);
    const slot = random() < 0.7 ? 'hero' : 'recommendation';
    out.shoppers.set(encodeShopper(profile, page, now), i * SHOPPER_DIM);
    out.creatives.set(encodeCreative(candidate, slot), i * CREATIVE_DIM);
    out.cross.set(crossRows(profile, page, [candidate]), i * CROSS_DIM);
    const p = clickProbability(shopper, candidate);
    out.truth[i] = p;
    out.clicks[i] = random() < p ? 1 : 0;
  }
  return out;
}
