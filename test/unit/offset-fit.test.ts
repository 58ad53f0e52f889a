/**
 * The offsets' fit (model-training/src/offset-fit.ts) on released rounds of a known truth: cells
 * whose clicks run at known multiples of what the base model expected, released with the noise a
 * round gets, are recovered within their posterior's spread; what the noise swamps is shrunk
 * towards no correction; a creative's offset is what it says beyond its cell.
 */
import { describe, expect, it } from 'vitest';
import { CREATIVE_CARRY, fitOffsets } from '../../model-training/src/offset-fit.ts';
import type { ReleasedOffsets } from '../../model-training/src/offset-fit.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { standardNormal } from '../../protocol/privacy.ts';

const TRUTH: Record<string, number> = { 'banner/new': 1.8, 'product_card/sale': 1.35, 'product_card/new': 0.65 };
const CREATIVES: Record<string, string> = {
  b1: 'banner/new',
  b2: 'banner/new',
  s1: 'product_card/sale',
  s2: 'product_card/sale',
  n1: 'product_card/new',
  n2: 'product_card/new',
};

/** `rounds` rounds: each creative 60 expected clicks a round, clicks Poisson-ish at its cell's multiple (creative `s2` twice its cell), noise sd `noise` on every sum. */
function released(rounds: number, noise: number, seed = 1): ReleasedOffsets[] {
  const random = seededRandom(seed);
  const poisson = (mean: number) => Math.max(0, mean + Math.sqrt(mean) * standardNormal(random));
  return Array.from({ length: rounds }, (_, r) => {
    const entries = new Map<string, { clicks: number; expected: number }>();
    for (const [id, cell] of Object.entries(CREATIVES)) {
      const expected = 60;
      const clicks = poisson(expected * TRUTH[cell]! * (id === 's2' ? 2 : 1));
      for (const key of [`creative:${id}`, `cell:${cell}`]) {
        const e = entries.get(key) ?? { clicks: 0, expected: 0 };
        e.clicks += clicks;
        e.expected += expected;
        entries.set(key, e);
      }
    }
    return {
      round: 100 + r,
      modelVersion: 'base',
      noiseStd: noise,
      entries: [...entries].map(([key, e]) => ({
        key,
        clicks: e.clicks + noise * standardNormal(random),
        expected: e.expected + noise * standardNormal(random),
      })),
    };
  });
}

const cellOf = new Map(Object.entries(CREATIVES));

describe('offsets fitted from released rounds', () => {
  it("recovers each cell's multiple beyond the global one, within its posterior's spread", () => {
    const fit = fitOffsets(released(10, 10), 'base', cellOf, { carry: 1 })!;
    // The global multiple moves every score alike: the cells' offsets are relative to it.
    const global = Math.log((2 * 60 * (1.8 + 1.35 + 0.65) + 60 * 1.35) / (6 * 60));
    // (about 0.05 of sampling and release noise here)
    expect(Math.abs(fit.globalLog - global)).toBeLessThan(0.15);
    for (const [cell, m] of Object.entries(TRUTH)) {
      const o = fit.offsets.cells[cell]!;
      const truth = Math.log(m * (cell === 'product_card/sale' ? 1.5 : 1)) - fit.globalLog;
      expect(Math.abs(o.mean - truth), cell).toBeLessThan(3 * o.sd + 0.05);
      expect(o.sd).toBeLessThan(0.2);
    }
    // What a merchant would read: banners (1.8) and sale cards (1.35, and s2 twice that: 2.0 on average) far above the other cards (0.65).
    const c = fit.offsets.cells;
    expect(c['banner/new']!.mean - c['product_card/new']!.mean).toBeGreaterThan(0.7);
    expect(c['product_card/sale']!.mean - c['product_card/new']!.mean).toBeGreaterThan(0.7);
    // A creative's offset is what it says beyond its cell: s2 clicks twice its cell's rate.
    expect(fit.offsets.creatives.s2!.mean).toBeGreaterThan(0.2);
    expect(Math.abs(fit.offsets.creatives.b1!.mean)).toBeLessThan(0.15);
  });

  it('shrinks what the noise swamps towards no correction, and says how unsure it is', () => {
    const quiet = fitOffsets(released(10, 10), 'base', cellOf, { carry: 1 })!;
    const loud = fitOffsets(released(1, 2000), 'base', cellOf, { carry: 1 })!;
    for (const cell of Object.keys(TRUTH)) {
      expect(Math.abs(loud.offsets.cells[cell]!.mean)).toBeLessThan(Math.abs(quiet.offsets.cells[cell]!.mean) + 0.05);
      expect(loud.offsets.cells[cell]!.sd).toBeGreaterThan(quiet.offsets.cells[cell]!.sd);
    }
  });

  it("a creative's rounds are discounted less than a cell's: fifteen noisy rounds pooled tell a creative's own appeal", () => {
    expect(CREATIVE_CARRY).toBeGreaterThan(0.7);
    // A small shop's figures: 20 expected clicks a creative a round, noise sd 10 on every sum (one round alone says little).
    const small = (seed: number) =>
      released(15, 10, seed).map((r) => ({
        ...r,
        entries: r.entries.map((e) => (e.key.startsWith('creative:') ? { ...e, clicks: e.clicks / 3, expected: e.expected / 3 } : e)),
      }));
    // What each creative clicks beyond its cell: s2 at 2/1.5 of its cell, s1 at 1/1.5, the others at 1.
    const beyond: Record<string, number> = { b1: 0, b2: 0, n1: 0, n2: 0, s1: Math.log(1 / 1.5), s2: Math.log(2 / 1.5) };
    let pooledError = 0;
    let forgetfulError = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const rounds = small(seed);
      const pooled = fitOffsets(rounds, 'base', cellOf, { carry: 0.7 })!;
      const forgetful = fitOffsets(rounds, 'base', cellOf, { carry: 0.7, creativeCarry: 0.7 })!;
      for (const [id, truth] of Object.entries(beyond)) {
        pooledError += (pooled.offsets.creatives[id]!.mean - truth) ** 2;
        forgetfulError += (forgetful.offsets.creatives[id]!.mean - truth) ** 2;
      }
      // The cells are fitted as before, with the carry asked for.
      for (const cell of Object.keys(TRUTH)) expect(pooled.offsets.cells[cell]!.mean).toBeCloseTo(forgetful.offsets.cells[cell]!.mean, 10);
    }
    // Pooled over about 15 rounds rather than 5.7, the creatives' offsets are nearer their truth.
    expect(pooledError).toBeLessThan(0.8 * forgetfulError);
  });

  it('reads only rounds of its base model, and a noised sum below zero as zero', () => {
    const rounds = released(2, 15);
    expect(fitOffsets(rounds, 'another', cellOf, { carry: 1 })).toBeNull();
    const negative: ReleasedOffsets = { ...rounds[0]!, entries: rounds[0]!.entries.map((e) => ({ ...e, clicks: -50, expected: -50 })) };
    const fit = fitOffsets([negative], 'base', cellOf, { carry: 1 })!;
    for (const o of Object.values(fit.offsets.cells)) expect(Number.isFinite(o.mean) && Number.isFinite(o.sd)).toBe(true);
  });
});
