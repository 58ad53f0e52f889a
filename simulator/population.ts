/**
 * The simulated storefront: a catalog of `categories` x `products`, and a population of shoppers
 * whose latent preferences (categories, one brand, a price band) drift between rounds. The
 * ground truth of clicks and purchases is defined here and nowhere else; the engine never sees
 * it, only the behaviour it causes (product views, clicks, purchases).
 *
 * It is deliberately not the bootstrap model's synthetic generator (model-training/src/
 * synthetic-shoppers.ts): brand affinity and drift exist only here, so the served model starts
 * misspecified and has something to learn.
 */
import { MESSAGE_TYPES, PRICE_BANDS, priceBandOf } from '../protocol/catalog.ts';
import type { Creative, Product, Template } from '../protocol/wire.ts';
import type { Candidate } from '../protocol/wire.ts';
import { pick, pickWeighted } from '../model-training/src/seeded-random.ts';

const BRANDS = ['Northwind', 'Atelier Sol', 'Kestrel', 'Mono & Co', 'Fjordline', 'Ultramar'];
const BASE_PRICES = [25, 40, 60, 90, 120, 180, 260];

export interface Catalog {
  products: Product[];
  templates: Template[];
  creatives: Creative[];
  categories: string[];
}

export function makeCatalog(categories: number, productsPerCategory: number, random: () => number): Catalog {
  const names = Array.from({ length: categories }, (_, i) => `category-${i + 1}`);
  const products: Product[] = names.flatMap((category, ci) =>
    Array.from({ length: productsPerCategory }, (_, pi) => {
      const id = `${category}-p${pi + 1}`;
      const brand = BRANDS[(ci + pi) % BRANDS.length]!;
      const price = Math.round(BASE_PRICES[ci % BASE_PRICES.length]! * (0.6 + 0.8 * random())) - 0.01;
      return {
        id,
        name: `${brand} item ${pi + 1}`,
        category,
        brand,
        price,
        imageUrl: `/images/${id}.svg`,
        url: `/product/${id}`,
        inStock: true,
        popularity: Math.round(100 * random()) / 100,
      };
    }),
  );
  const templates: Template[] = [
    { id: 'card', layout: 'product_card', headline: ['{product.name}'], body: ['by {brand}'], cta: ['Shop now'] },
    { id: 'banner', layout: 'banner', headline: ['New in {category}'], body: [''], cta: ['Discover'] },
  ];
  const creatives: Creative[] = [
    ...products.map((p, i) => ({ id: `card-${p.id}`, templateId: 'card', productId: p.id, messageType: MESSAGE_TYPES[i % MESSAGE_TYPES.length]! })),
    ...names.map((c) => ({ id: `banner-${c}`, templateId: 'banner', productId: null, category: c, messageType: 'new' as const })),
  ];
  return { products, templates, creatives, categories: names };
}

export interface Shopper {
  id: number;
  /** Latent category weights (sum 1). */
  categories: Map<string, number>;
  brand: string;
  priceBand: number;
}

export function drawShopper(id: number, catalog: Catalog, random: () => number): Shopper {
  const categories = new Map<string, number>();
  const first = pick(catalog.categories, random);
  const second = pick(catalog.categories, random);
  categories.set(first, 0.75);
  categories.set(second, (categories.get(second) ?? 0) + 0.25);
  return { id, categories, brand: pick(BRANDS, random), priceBand: Math.floor(random() * PRICE_BANDS) };
}

/** Between rounds a shopper's taste moves: with probability `rate`, a new category takes a third of the weight. */
export function drift(shopper: Shopper, catalog: Catalog, rate: number, random: () => number): void {
  if (random() >= rate) return;
  for (const [c, w] of shopper.categories) shopper.categories.set(c, w * (2 / 3));
  const fresh = pick(catalog.categories, random);
  shopper.categories.set(fresh, (shopper.categories.get(fresh) ?? 0) + 1 / 3);
}

/** Ground truth: the probability this shopper clicks this creative. */
export function clickProbability(s: Shopper, c: Candidate): number {
  const affinity = s.categories.get(c.category) ?? 0;
  const brand = c.brand === s.brand ? 1 : 0;
  const price = priceBandOf(c.price) === s.priceBand ? 1 : 0;
  return Math.min(0.9, 0.005 + 0.16 * affinity * (1 + 0.5 * brand) + 0.02 * price + 0.01 * c.popularity);
}

/** Ground truth: the probability a click on this creative is followed by a purchase. */
export function purchaseProbability(s: Shopper, c: Candidate): number {
  return Math.min(0.9, 0.05 + 0.25 * (s.categories.get(c.category) ?? 0));
}

/**
 * A product the shopper looks at on a visit: mostly from the categories they like, and within a
 * category more often one of their brand or price band (weights 1, +2 for the brand, +1 for the
 * price band), so every latent taste shows in behaviour, as it does in a real store's logs.
 */
export function browse(s: Shopper, catalog: Catalog, random: () => number): Product {
  const liked = [...s.categories.entries()];
  const category =
    random() < 0.8
      ? liked[
          pickWeighted(
            liked.map(([, w]) => w),
            random,
          )
        ]![0]
      : pick(catalog.categories, random);
  const shelf = catalog.products.filter((p) => p.category === category);
  return shelf[
    pickWeighted(
      shelf.map((p) => 1 + (p.brand === s.brand ? 2 : 0) + (priceBandOf(p.price) === s.priceBand ? 1 : 0)),
      random,
    )
  ]!;
}
