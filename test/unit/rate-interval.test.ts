/**
 * The dashboard's numbers are true under the noise: released counts of known truth, noised as the
 * edge noises them, give intervals that cover the truth at their level, and never an impossible
 * value; what the noise swamps is said to be too few shoppers, not shown as a figure.
 */
import { describe, expect, it } from 'vitest';
import { noisyRate, sayable } from '../../protocol/rate-interval.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { standardNormal } from '../../protocol/privacy.ts';

function binomial(n: number, p: number, random: () => number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (random() < p) k++;
  return k;
}

/** Share of `trials` noised releases of (true rate p, n impressions) whose interval holds p; and how many were shown at all. */
function coverage(n: number, p: number, noiseSd: number, rounds: number, trials: number, seed: number) {
  const random = seededRandom(seed);
  let held = 0;
  let shown = 0;
  for (let t = 0; t < trials; t++) {
    let clicks = 0;
    let impressions = 0;
    // Each round releases its own noised totals; the dashboard adds them up.
    for (let r = 0; r < rounds; r++) {
      const nr = Math.round(n / rounds);
      clicks += binomial(nr, p, random) + noiseSd * standardNormal(random);
      impressions += nr + noiseSd * standardNormal(random);
    }
    const iv = noisyRate(clicks, impressions, rounds * noiseSd * noiseSd);
    if (!iv) continue;
    shown++;
    expect(iv.lower).toBeGreaterThanOrEqual(0);
    expect(iv.upper).toBeLessThanOrEqual(1);
    expect(iv.lower).toBeLessThanOrEqual(iv.estimate);
    expect(iv.estimate).toBeLessThanOrEqual(iv.upper);
    if (iv.lower <= p && p <= iv.upper) held++;
  }
  return { coverage: held / Math.max(1, shown), shown };
}

describe('noise-aware click rates', () => {
  // Situations a shop meets: a busy creative, a small shop's creative at the site's noise, one the
  // noise dominates, a rate near zero; release noise sd 5 to 40 per count per round.
  const cases = [
    { n: 5000, p: 0.04, noiseSd: 5, rounds: 3 },
    { n: 800, p: 0.06, noiseSd: 20, rounds: 4 },
    { n: 400, p: 0.1, noiseSd: 40, rounds: 2 },
    { n: 3000, p: 0.005, noiseSd: 10, rounds: 5 },
  ];
  for (const [i, c] of cases.entries()) {
    it(`covers the true rate at about 95%: ${c.n} impressions at ${c.p}, noise sd ${c.noiseSd} over ${c.rounds} rounds`, () => {
      const { coverage: share, shown } = coverage(c.n, c.p, c.noiseSd, c.rounds, 1500, 100 + i);
      expect(shown).toBeGreaterThan(1400);
      expect(share).toBeGreaterThanOrEqual(0.93);
      expect(share).toBeLessThanOrEqual(0.995);
    });
  }

  it('the interval ignoring the noise would not cover: the noise term is what makes it hold', () => {
    // Same truth, intervals without the noise term (noise variance 0 passed): far below 95%.
    const random = seededRandom(7);
    let held = 0;
    for (let t = 0; t < 1000; t++) {
      const clicks = binomial(400, 0.1, random) + 40 * standardNormal(random);
      const impressions = 400 + 40 * standardNormal(random);
      const iv = noisyRate(clicks, impressions, 0)!;
      if (iv.lower <= 0.1 && 0.1 <= iv.upper) held++;
    }
    expect(held / 1000).toBeLessThan(0.8);
  });

  it('impossible releases become possible values: more clicks than impressions, negative clicks', () => {
    expect(noisyRate(401, 295, 25)!.estimate).toBe(1);
    expect(noisyRate(-12, 295, 25)!.estimate).toBe(0);
    expect(noisyRate(-12, 295, 25)!.lower).toBe(0);
    // Impressions that do not stand clear of the noise: no rate at all.
    expect(noisyRate(3, 40, 400)).toBeNull();
    expect(noisyRate(3, -35, 1)).toBeNull();
  });

  it('says "too few shoppers" where the interval swamps the estimate, and shows a readable one', () => {
    // The simulation's "random 7.32% (0.00% to 29.32%)" against a true 4.11%: not sayable.
    expect(sayable({ estimate: 0.0732, lower: 0, upper: 0.2932 })).toBe(false);
    expect(sayable(null)).toBe(false);
    expect(sayable(noisyRate(200, 5000, 75))).toBe(true);
    // Zero clicks of many impressions is a figure (0.00% to 0.1%), not noise.
    expect(sayable(noisyRate(0, 5000, 75))).toBe(true);
  });
});
