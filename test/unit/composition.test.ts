import { describe, expect, it } from 'vitest';
import type { Template } from '../../protocol/wire.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { composeVariants, rankItems } from '../../widget/engine/composition.ts';
import { emptyProfile } from '../../protocol/profile.ts';
import { applyEvent } from '../../protocol/profile-updates.ts';
import type { CarouselItem } from '../../protocol/wire.ts';

const template: Template = { id: 't', layout: 'banner', headline: ['A', 'B', 'C'], body: ['x', 'y'], cta: ['Go'] };

describe('text variant composition', () => {
  it('reduces each text slot to the chosen variant and logs its exact probability', () => {
    const c = composeVariants(template, seededRandom(1));
    expect(c.propensity).toBeCloseTo(1 / 6, 12);
    expect(c.template.headline).toEqual([template.headline[c.variant[0]!]]);
    expect(c.template.body).toEqual([template.body![c.variant[1]!]]);
    expect(c.template.cta).toEqual(['Go']);
    expect(c.template.layout).toBe('banner');
  });

  it('shows every combination about equally often, as its logged probability says', () => {
    const random = seededRandom(2);
    const seen = new Map<string, number>();
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const key = composeVariants(template, random).variant.join(',');
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect(seen.size).toBe(6);
    // Each share within 4 standard errors of 1/6 (se = sqrt(p(1-p)/n) ~ 0.0015).
    for (const count of seen.values()) expect(Math.abs(count / n - 1 / 6)).toBeLessThan(4 * 0.0015);
  });

  it('treats a template without a body as one empty variant', () => {
    const c = composeVariants({ ...template, body: undefined } as unknown as Template, seededRandom(3));
    expect(c.template.body).toEqual(['']);
    expect(c.propensity).toBeCloseTo(1 / 3, 12);
  });

  it('picks badge variants too, when the template has them', () => {
    const c = composeVariants({ ...template, badge: ['Hot', 'New'] }, seededRandom(4));
    expect(c.variant).toHaveLength(4);
    expect(c.template.badge).toHaveLength(1);
    expect(c.propensity).toBeCloseTo(1 / 12, 12);
  });
});

describe('carousel product ranking', () => {
  const item = (id: string, category: string, brand: string, price: number, popularity: number): CarouselItem => ({
    id,
    name: id,
    brand,
    category,
    price,
    listPrice: null,
    imageUrl: `/i/${id}.svg`,
    url: `/p/${id}`,
    popularity,
  });
  const items = [
    item('bag-1', 'bags', 'Kestrel', 120, 0.9),
    item('bag-2', 'bags', 'Northwind', 90, 0.2),
    item('hat-1', 'hats', 'Northwind', 25, 0.95),
    item('hat-2', 'hats', 'Kestrel', 30, 0.1),
    item('watch-1', 'watches', 'Ultramar', 250, 0.5),
    item('watch-2', 'watches', 'Northwind', 210, 0.4),
  ];

  it('without a profile, follows popularity (the prior), at most four', () => {
    expect(rankItems(items, emptyProfile(0)).map((i) => i.id)).toEqual(['hat-1', 'bag-1', 'watch-1', 'watch-2']);
  });

  it("puts the shopper's categories and brands first", () => {
    const p = emptyProfile(0);
    for (let i = 0; i < 4; i++) applyEvent(p, { type: 'product_view', at: i, category: 'watches', brand: 'Northwind', price: 220 });
    const ranked = rankItems(items, p).map((i) => i.id);
    expect(ranked[0]).toBe('watch-2'); // category, brand and price band
    expect(ranked.slice(0, 2).sort()).toEqual(['watch-1', 'watch-2']);
    expect(ranked.indexOf('hat-1')).toBeLessThan(ranked.indexOf('hat-2') === -1 ? 99 : ranked.indexOf('hat-2'));
  });
});
