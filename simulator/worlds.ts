/**
 * Worlds: what shoppers really respond to, one kind of taste per world. The engine, the trainer
 * and the first model's training (model-training/src/synthetic-shoppers.ts: category affinity
 * dominant, price band weak) never read this file; only the simulator's ground truth does. A
 * learning claim is a difference against the frozen first model in a world it was not built for.
 *
 * Every world keeps the shoppers of population.ts (categories, a brand, a price band, drifting)
 * and the same browsing, and changes what makes them click. Traits a world adds (a segment) come
 * from the shopper's id, not from the run's random stream, so each world sees the same shoppers
 * making the same visits, and `today` is exactly the population the simulator always had.
 */
import { priceBandOf } from '../protocol/catalog.ts';
import type { Candidate } from '../protocol/wire.ts';
import { clickProbability, purchaseProbability } from './population.ts';
import type { Shopper } from './population.ts';

/** What a world may look at besides the shopper and the creative. */
export interface Moment {
  /** 0-based round of the run. */
  round: number;
  rounds: number;
  /** The shopper's last purchase, if any: category and round. */
  lastPurchase: { category: string; round: number } | null;
}

export interface World {
  name: string;
  /** One line for the README and the CLI's help. */
  describe: string;
  click(s: Shopper, c: Candidate, m: Moment): number;
  purchase(s: Shopper, c: Candidate, m: Moment): number;
}

/** A stable split of shoppers into two halves by id (no draw from the run's random stream). */
const half = (id: number) => (Math.imul(id + 1, 0x9e3779b1) >>> 31) as 0 | 1;
const clamp = (p: number) => Math.min(0.9, Math.max(0.001, p));

const today: World = {
  name: 'today',
  describe:
    "the simulator's population: category affinity dominant, the shopper's brand +50% within it, the price band a little (the first model's own assumptions, nearly)",
  click: (s, c) => clickProbability(s, c),
  purchase: (s, c) => purchaseProbability(s, c),
};

const priceSegments: World = {
  name: 'price-segments',
  describe:
    'half the shoppers hunt bargains (the two lowest price bands and sale prices double their clicks), half buy premium (the two highest bands do); category matters half as much',
  click: (s, c) => {
    const band = priceBandOf(c.price);
    const bargain = half(s.id) === 0;
    const likes = bargain ? band <= 1 || (c.listPrice != null && c.listPrice > c.price) : band >= 3;
    const affinity = s.categories.get(c.category) ?? 0;
    return clamp((0.005 + 0.08 * affinity * (c.brand === s.brand ? 1.5 : 1) + 0.01 * c.popularity) * (likes ? 2.5 : 0.6));
  },
  purchase: (s, c) => purchaseProbability(s, c),
};

const purchaseFatigue: World = {
  name: 'purchase-fatigue',
  describe:
    'after a purchase in a category, ads of that category annoy for the next two rounds (a fifth of the clicks); the shopper looks at their other categories instead',
  click: (s, c, m) => {
    const base = clickProbability(s, c);
    const tired = m.lastPurchase !== null && m.lastPurchase.category === c.category && m.round - m.lastPurchase.round <= 2;
    return clamp(tired ? base * 0.2 : base);
  },
  // Purchases are more likely than today's, so that fatigue is common enough to matter.
  purchase: (s, c) => Math.min(0.9, 2 * purchaseProbability(s, c)),
};

const TRENDING = 'Ultramar';
const trendingBrand: World = {
  name: 'trending-brand',
  describe: `from the middle of the run on, one brand (${TRENDING}) becomes fashionable: its creatives get +8 points of click rate from everyone, whatever their tastes`,
  click: (s, c, m) => clamp(clickProbability(s, c) + (c.brand === TRENDING && m.round >= Math.floor(m.rounds / 2) ? 0.08 : 0)),
  purchase: (s, c) => purchaseProbability(s, c),
};

const creativeFormat: World = {
  name: 'creative-format',
  describe:
    "a creative-level taste: half the shoppers browse (category banners triple their clicks), half decide (product cards with a 'sale' or 'bestseller' message double theirs); nothing in the first model says so",
  click: (s, c) => {
    const base = clickProbability(s, c);
    const browser = half(s.id) === 0;
    const banner = c.layout === 'banner';
    const pitch = c.messageType === 'sale' || c.messageType === 'bestseller';
    const factor = browser ? (banner ? 3 : 0.7) : !banner && pitch ? 2 : 0.6;
    return clamp(base * factor);
  },
  purchase: (s, c) => purchaseProbability(s, c),
};

/** A creative's hidden appeal, from its id alone (a stable hash, no draw from the run's stream): a log-normal factor of sd 0.7, within 0.25x-4x. */
function appeal(creativeId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < creativeId.length; i++) h = Math.imul(h ^ creativeId.charCodeAt(i), 0x01000193);
  // Two uniforms from the hash, then Box-Muller.
  const u = ((h >>> 0) % 1_000_003) / 1_000_003 + 1e-7;
  const v = (Math.imul(h, 0x9e3779b1) >>> 0) / 2 ** 32;
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.min(4, Math.max(0.25, Math.exp(0.7 * z)));
}

const creativeAppeal: World = {
  name: 'creative-appeal',
  describe:
    'a creative-level taste: every creative has an appeal of its own (a picture that works, a line that does not): its clicks are multiplied by a factor from 0.25x to 4x that no catalog attribute says',
  click: (s, c) => clamp(clickProbability(s, c) * appeal(c.id)),
  purchase: (s, c) => purchaseProbability(s, c),
};

export const WORLDS: Readonly<Record<string, World>> = Object.fromEntries(
  [today, priceSegments, purchaseFatigue, trendingBrand, creativeFormat, creativeAppeal].map((w) => [w.name, w]),
);
