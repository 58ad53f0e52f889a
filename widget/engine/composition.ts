/**
 * Composing a creative: the policy picks the creative (template x product); this picks one
 * variant of each text slot of its template, uniformly at random, so that every variant is
 * shown and its probability is known exactly, and ranks a carousel's products for the shopper.
 * The page receives the template reduced to the chosen variants; the decision log keeps which
 * ones and their probability, so outcomes can later be credited to variants without bias.
 */
import { priceBandOf } from '../../protocol/catalog.ts';
import type { ShopperProfile } from '../../protocol/profile.ts';
import type { CarouselItem, Template } from '../../protocol/wire.ts';

export interface Composition {
  /** The template with each text slot reduced to its chosen variant. */
  template: Template;
  /** Chosen variant index per text slot: [headline, body, cta, badge]. */
  variant: number[];
  /** Probability of this variant combination given the creative: 1 / (number of combinations). */
  propensity: number;
}

export function composeVariants(template: Template, random: () => number): Composition {
  const slots = [template.headline, template.body ?? [''], template.cta, template.badge ?? ['']];
  const variant = slots.map((options) => Math.min(options.length - 1, Math.floor(random() * options.length)));
  const [headline, body, cta, badge] = slots.map((options, i) => [options[variant[i]!]!]);
  return {
    template: { ...template, headline: headline!, body: body!, cta: cta!, ...(template.badge ? { badge: badge! } : {}) },
    variant,
    propensity: 1 / slots.reduce((n, options) => n * options.length, 1),
  };
}

/** How many products a carousel shows: 2 to 4. */
export const CAROUSEL_SIZE = 4;

/**
 * A carousel's products for this shopper: the profile's affinity for each product's category,
 * brand and price band (decayed weights, normalized to shares), with popularity as the prior that
 * decides among products the profile says nothing about. Deterministic given the profile, so the
 * composition's logged probability is the variant's alone.
 */
export function rankItems(items: readonly CarouselItem[], profile: ShopperProfile): CarouselItem[] {
  const share = (weights: Record<string, number>) => {
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    return (key: string) => (total > 0 ? (weights[key] ?? 0) / total : 0);
  };
  const category = share(profile.categories);
  const brand = share(profile.brands);
  const bandTotal = profile.priceBands.reduce((a, b) => a + b, 0);
  const band = (price: number) => (bandTotal > 0 ? profile.priceBands[priceBandOf(price)]! / bandTotal : 0);
  const score = (i: CarouselItem) => category(i.category) + brand(i.brand) + 0.5 * band(i.price) + 0.25 * i.popularity;
  return items
    .map((item) => ({ item, s: score(item) }))
    .sort((a, b) => b.s - a.s || a.item.id.localeCompare(b.item.id))
    .slice(0, CAROUSEL_SIZE)
    .map((x) => x.item);
}
