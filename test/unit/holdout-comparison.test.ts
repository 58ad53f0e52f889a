/**
 * The headline's statistics against known truth: noised releases drawn from shoppers whose click
 * rates are known (4% with Vitrine, 3% on the shop's own content), looked at after every round as
 * a merchant would; the anytime-valid interval must cover the true difference at every look of at
 * least 95% of the runs, and it must come to exclude zero once the shoppers are enough.
 */
import { describe, expect, it } from 'vitest';
import { HOLDOUT_CREATIVE } from '../../protocol/holdout.ts';
import { compareArms, holdoutArms } from '../../protocol/holdout-comparison.ts';
import type { ReleasedCounts } from '../../protocol/holdout-comparison.ts';

/** A seeded uniform (mulberry32) and a normal from it: the same runs on every machine. */
function seeded(seed: number) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

const binomial = (n: number, p: number, r: ReturnType<typeof seeded>) => Math.max(0, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * r.normal()));

/** One released round: 3 creatives share Vitrine's impressions, the holdout has 5% of them; every count noised with sd countStd. */
function round(r: ReturnType<typeof seeded>, impressions: number, rates: { vitrine: number; holdout: number }, countStd: number): ReleasedCounts {
  const noised = (x: number) => Math.round(x + countStd * r.normal());
  const held = Math.round(impressions * 0.05);
  const perCreative = Math.round((impressions - held) / 3);
  const row = (creativeId: string, n: number, p: number) => ({
    creativeId,
    impressions: noised(n),
    clicks: noised(binomial(n, p, r)),
    conversions: noised(binomial(n, p / 10, r)),
  });
  return {
    totals: [...['c1', 'c2', 'c3'].map((id) => row(id, perCreative, rates.vitrine)), row(HOLDOUT_CREATIVE, held, rates.holdout)],
    noise: { countStd },
  };
}

describe('Vitrine against the holdout', () => {
  it('covers the true difference at every one of 20 looks in at least 95% of 300 runs, noise included', () => {
    const truth = { vitrine: 0.04, holdout: 0.03 };
    let missed = 0;
    for (let run = 0; run < 300; run++) {
      const r = seeded(run + 1);
      const released: ReleasedCounts[] = [];
      let ever = false;
      for (let look = 0; look < 20; look++) {
        released.push(round(r, 20_000, truth, 60));
        const arms = holdoutArms(released);
        const d = compareArms(arms.vitrine, arms.holdout, 'clicks').difference;
        if (d && (d.lower > truth.vitrine - truth.holdout || d.upper < truth.vitrine - truth.holdout)) ever = true;
      }
      if (ever) missed++;
    }
    expect(missed / 300).toBeLessThanOrEqual(0.05);
  });

  it('says too few shoppers while the holdout is small against the noise, then finds the difference', () => {
    const r = seeded(7);
    const truth = { vitrine: 0.05, holdout: 0.03 };
    // A small shop's first round: the holdout's 50 impressions are within the noise of a count (sd 60).
    const first = holdoutArms([round(r, 1_000, truth, 60)]);
    expect(compareArms(first.vitrine, first.holdout, 'clicks')).toMatchObject({ holdout: null, difference: null });
    const released = Array.from({ length: 30 }, () => round(r, 40_000, truth, 60));
    const arms = holdoutArms(released);
    expect(arms.rounds).toBe(30);
    const clicks = compareArms(arms.vitrine, arms.holdout, 'clicks');
    expect(clicks.difference!.lower).toBeGreaterThan(0);
    expect(clicks.difference!.lower).toBeLessThan(0.02);
    expect(clicks.difference!.upper).toBeGreaterThan(0.02);
  });

  it('leaves out rounds released before the holdout was listed, from both arms', () => {
    const r = seeded(3);
    const withHoldout = round(r, 10_000, { vitrine: 0.04, holdout: 0.03 }, 10);
    const before: ReleasedCounts = { totals: withHoldout.totals.filter((t) => t.creativeId !== HOLDOUT_CREATIVE), noise: { countStd: 10 } };
    expect(holdoutArms([before, withHoldout])).toEqual(holdoutArms([withHoldout]));
  });
});
