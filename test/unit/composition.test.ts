import { describe, expect, it } from 'vitest';
import type { Template } from '../../protocol/wire.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { composeVariants } from '../../widget/engine/composition.ts';

const template: Template = { id: 't', layout: 'banner', headline: ['A', 'B', 'C'], body: ['x', 'y'], cta: ['Go'] };

describe('text variant composition', () => {
  it('reduces each text slot to the chosen variant and logs its exact probability', () => {
    const c = composeVariants(template, seededRandom(1));
    expect(c.propensity).toBeCloseTo(1 / 6, 12);
    expect(c.template.headline).toEqual([template.headline[c.variant[0]]]);
    expect(c.template.body).toEqual([template.body![c.variant[1]]]);
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
});
