import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { ctrChart } from '../../simulator/chart.ts';
import { clickProbability, drawShopper, drift, makeCatalog } from '../../simulator/population.ts';
import { DEFAULT_SIMULATION, invalidOptions } from '../../simulator/simulation.ts';
import { runNoise } from '../../simulator/simulation-options.ts';
import { epsilonOfRounds } from '../../protocol/budget-pacing.ts';
import type { RoundResult } from '../../simulator/simulation.ts';
import { WORLDS } from '../../simulator/worlds.ts';
import type { Moment } from '../../simulator/worlds.ts';

describe('simulator configuration', () => {
  it('refuses nonsense with a clear message', () => {
    expect(invalidOptions(DEFAULT_SIMULATION)).toBeNull();
    expect(invalidOptions({ ...DEFAULT_SIMULATION, shoppers: -5 })).toMatch(/--shoppers must be a whole number/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, rounds: 0 })).toMatch(/--rounds/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, shoppers: 100, minCohort: 500 })).toMatch(/above the population/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, epsilon: -1 })).toMatch(/--epsilon/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, categories: 2.5 })).toMatch(/--categories/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, epsilon: null })).toBeNull();
    expect(invalidOptions({ ...DEFAULT_SIMULATION, promote: 'sometimes' as 'gate' })).toMatch(/--promote is gate or always/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, headClip: 0 })).toMatch(/--head-clip/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, headClip: 300 })).toBeNull();
    expect(invalidOptions({ ...DEFAULT_SIMULATION, carry: 0 })).toMatch(/--carry/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, carry: 1.5 })).toMatch(/--carry/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, towerRate: -1 })).toMatch(/--tower-rate/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, world: 'atlantis' })).toMatch(/--world atlantis is not a world; the worlds are today, price-segments/);
    for (const world of Object.keys(WORLDS)) expect(invalidOptions({ ...DEFAULT_SIMULATION, world })).toBeNull();
    // The edge's own schema decides: a bound or a noise level it would refuse is refused up front.
    expect(invalidOptions({ ...DEFAULT_SIMULATION, headClip: 200_000 })).toMatch(/--head-clip 200000 is not a headClip the edge accepts/);
    // A run is at most one period of daily rounds (its rounds close within minutes: the ledger's window holds them all).
    expect(invalidOptions({ ...DEFAULT_SIMULATION, rounds: 31 })).toMatch(/--rounds must be a whole number from 1 to 30/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, epsilon: 25 })).toMatch(/--epsilon 25 .* is not a epsilonBudget the edge accepts/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, workers: 0 })).toMatch(/--workers/);
    expect(invalidOptions({ ...DEFAULT_SIMULATION, epsilon: 0.5, rounds: 10 })).toBeNull();
  });

  it('paces the noise as a site would: epsilon is per 30-day period of daily rounds, every one of them fits', () => {
    for (const epsilon of [1, 8, 20]) expect(epsilonOfRounds(30, runNoise({ epsilon }))).toBeCloseTo(epsilon, 6);
    expect(runNoise({ epsilon: null })).toBeCloseTo(runNoise({ epsilon: 20 }), 12);
    expect(runNoise({ epsilon: 1 })).toBeGreaterThan(runNoise({ epsilon: 8 }));
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
    const candidate = (category: string) => ({
      id: 'x',
      templateId: 't',
      layout: 'product_card' as const,
      messageType: 'new' as const,
      category,
      brand: 'none',
      price: 1e6,
      productName: 'x',
      listPrice: null,
      imageUrl: null,
      url: '/x',
      popularity: 0,
      items: [],
    });
    expect(clickProbability(shopper, candidate(favourite))).toBeGreaterThan(5 * clickProbability(shopper, candidate(other)));
    const before = JSON.stringify([...shopper.categories]);
    for (let i = 0; i < 20; i++) drift(shopper, catalog, 1, random);
    expect(JSON.stringify([...shopper.categories])).not.toBe(before);
    expect([...shopper.categories.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it('worlds: today is the population as it was; each other world changes one kind of taste, and only that', () => {
    const random = seededRandom(3);
    const catalog = makeCatalog(8, 6, random);
    const shoppers = Array.from({ length: 400 }, (_, i) => drawShopper(i, catalog, random));
    const candidates = catalog.creatives.map((cr) => {
      const p = catalog.products.find((x) => x.id === cr.productId);
      const category = p?.category ?? cr.category!;
      return {
        id: cr.id,
        templateId: cr.templateId,
        layout: cr.templateId === 'banner' ? ('banner' as const) : ('product_card' as const),
        messageType: cr.messageType,
        category,
        brand: p?.brand ?? '',
        price: p?.price ?? 0,
        productName: p?.name ?? '',
        listPrice: null,
        imageUrl: null,
        url: p?.url ?? '/',
        popularity: p?.popularity ?? 0.5,
        items: [],
      };
    });
    const at = (round: number, lastPurchase: Moment['lastPurchase'] = null): Moment => ({ round, rounds: 10, lastPurchase });
    const mean = (f: (s: (typeof shoppers)[number], c: (typeof candidates)[number]) => number, cs = candidates) =>
      shoppers.reduce((a, s) => a + cs.reduce((b, c) => b + f(s, c), 0) / cs.length, 0) / shoppers.length;
    for (const s of shoppers.slice(0, 20)) for (const c of candidates) expect(WORLDS.today!.click(s, c, at(3))).toBe(clickProbability(s, c));
    // trending-brand: the brand gains from mid-run on, for everyone.
    const ultramar = candidates.filter((c) => c.brand === 'Ultramar');
    expect(
      mean((s, c) => WORLDS['trending-brand']!.click(s, c, at(5)), ultramar) - mean((s, c) => WORLDS['trending-brand']!.click(s, c, at(4)), ultramar),
    ).toBeCloseTo(0.08, 2);
    // purchase-fatigue: a category just bought from is clicked a fifth as much, for two rounds.
    const s0 = shoppers[0]!;
    const c0 = candidates.find((c) => c.category === [...s0.categories.keys()][0])!;
    const fatigue = WORLDS['purchase-fatigue']!;
    expect(fatigue.click(s0, c0, at(4, { category: c0.category, round: 3 }))).toBeCloseTo(0.2 * clickProbability(s0, c0), 9);
    expect(fatigue.click(s0, c0, at(6, { category: c0.category, round: 3 }))).toBeCloseTo(clickProbability(s0, c0), 9);
    // creative-format: banners win for half the shoppers, pitched product cards for the other half.
    const format = WORLDS['creative-format']!;
    const banners = candidates.filter((c) => c.layout === 'banner');
    const cards = candidates.filter((c) => c.layout !== 'banner' && (c.messageType === 'sale' || c.messageType === 'bestseller'));
    const ratio = (s: (typeof shoppers)[number]) =>
      banners.reduce((a, c) => a + format.click(s, c, at(0)), 0) / banners.length / (cards.reduce((a, c) => a + format.click(s, c, at(0)), 0) / cards.length);
    const ratios = shoppers.map(ratio).sort((a, b) => a - b);
    expect(ratios[50]! * 3).toBeLessThan(ratios[350]!); // two kinds of shoppers, far apart
    // price-segments: what a shopper clicks depends on price band by segment, more than on category.
    const prices = WORLDS['price-segments']!;
    const cheap = candidates.filter((c) => c.price > 0 && c.price < 45);
    const dear = candidates.filter((c) => c.price >= 150);
    const lean = shoppers.map(
      (s) => cheap.reduce((a, c) => a + prices.click(s, c, at(0)), 0) / cheap.length - dear.reduce((a, c) => a + prices.click(s, c, at(0)), 0) / dear.length,
    );
    expect(lean.filter((x) => x > 0).length).toBeGreaterThan(100);
    expect(lean.filter((x) => x < 0).length).toBeGreaterThan(100);
  });

  it('draws the chart: one line per policy, one point per round', () => {
    const rounds: RoundResult[] = [1, 2, 3].map((round) => ({
      round,
      decisions: 10,
      ctr: 0.05 * round,
      frozenCtr: 0.05,
      oracleCtr: 0.2,
      randomCtr: 0.03,
      popularityCtr: 0.04,
      regret: 0.2 - 0.05 * round,
      topCategoryShare: 0.5,
      brandShare: 0.2,
      priceBandShare: 0.3,
      realizedCtr: 0.05,
      conversionRate: 0.01,
      epsilon: round,
      model: 'm',
      training: 't',
      dashboardLift: null,
    }));
    const svg = ctrChart(rounds, 'A <test>');
    expect(svg.match(/<polyline/g)).toHaveLength(5);
    expect(svg.match(/<circle/g)).toHaveLength(15);
    expect(svg).toContain('A &lt;test&gt;');
  });
});
