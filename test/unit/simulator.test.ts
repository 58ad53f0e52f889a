import { describe, expect, it } from 'vitest';
import { epsilonSpent } from '../../protocol/privacy.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { ctrChart } from '../../simulator/chart.ts';
import { clickProbability, drawShopper, drift, makeCatalog } from '../../simulator/population.ts';
import { DEFAULT_SIMULATION, invalidOptions, noiseForEpsilon } from '../../simulator/simulation.ts';
import type { RoundResult } from '../../simulator/simulation.ts';

describe('simulator configuration', () => {
  it('refuses nonsense with a clear message', () => {
    expect(invalidOptions(DEFAULT_SIMULATION)).toBeNull();
    expect(invalidOptions({ ...DEFAULT_SIMULATION, shoppers: -5 })).toMatch(/--shoppers must be a whole number/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, rounds: 0 })).toMatch(/--rounds/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, shoppers: 100, minCohort: 500 })).toMatch(/above the population/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, epsilon: -1 })).toMatch(/--epsilon/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, categories: 2.5 })).toMatch(/--categories/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, epsilon: null })).toBeNull();
    expect(invalidOptions({ ...DEFAULT_SIMULATION, headClip: 0 })).toMatch(/--head-clip/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, headClip: 300 })).toBeNull();
    expect(invalidOptions({ ...DEFAULT_SIMULATION, carry: 0 })).toMatch(/--carry/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, carry: 1.5 })).toMatch(/--carry/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, towerRate: -1 })).toMatch(/--tower-rate/);
    // The edge's own schema decides: a bound or a noise level it would refuse is refused up front.
    expect(invalidOptions({ ...DEFAULT_SIMULATION, headClip: 200_000 })).toMatch(/--head-clip 200000 is not a headClip the edge accepts/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, epsilon: 0.1, rounds: 100 })).toMatch(/noise multiplier .* needs is not a noiseMultiplier the edge accepts.*fewer rounds/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, epsilon: 0.5, rounds: 10 })).toBeNull();
  });

  it('calibrates the noise so the whole run spends the epsilon asked for', () => {
    for (const [epsilon, rounds] of [[1, 10], [8, 10], [4, 3]] as const) {
      const z = noiseForEpsilon(epsilon, rounds);
      expect(epsilonSpent(new Array(rounds * 4).fill(z), 1e-6).epsilon).toBeCloseTo(epsilon, 3);
    }
    expect(noiseForEpsilon(1, 10)).toBeGreaterThan(noiseForEpsilon(8, 10));
  });
});

describe('simulated population', () => {
  it('clicks follow the latent tastes: a liked category is clicked far more, and drift moves the tastes', () => {
    const random = seededRandom(9);
    const catalog = makeCatalog(6, 5, random);
    expect(catalog.products).toHaveLength(30);
    expect(catalog.creatives).toHaveLength(36);
    const shopper = drawShopper(0, catalog, random);
    const [favourite] = [...shopper.categories.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const other = catalog.categories.find((c) => !shopper.categories.has(c))!;
    const candidate = (category: string) => ({ id: 'x', templateId: 't', layout: 'product_card' as const, messageType: 'new' as const, category, brand: 'none', price: 1e6, productName: 'x', listPrice: null, imageUrl: null, url: '/x', popularity: 0, items: [] });
    expect(clickProbability(shopper, candidate(favourite))).toBeGreaterThan(5 * clickProbability(shopper, candidate(other)));
    const before = JSON.stringify([...shopper.categories]);
    for (let i = 0; i < 20; i++) drift(shopper, catalog, 1, random);
    expect(JSON.stringify([...shopper.categories])).not.toBe(before);
    expect([...shopper.categories.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it('draws the chart: one line per policy, one point per round', () => {
    const rounds: RoundResult[] = [1, 2, 3].map((round) => ({ round, decisions: 10, ctr: 0.05 * round, oracleCtr: 0.2, randomCtr: 0.03, popularityCtr: 0.04, regret: 0.2 - 0.05 * round, topCategoryShare: 0.5, brandShare: 0.2, priceBandShare: 0.3, realizedCtr: 0.05, conversionRate: 0.01, epsilon: round, model: 'm', training: 't' }));
    const svg = ctrChart(rounds, 'A <test>');
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg.match(/<circle/g)).toHaveLength(12);
    expect(svg).toContain('A &lt;test&gt;');
  });
});
