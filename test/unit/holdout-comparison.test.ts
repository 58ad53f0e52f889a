/**
 * The headline's statistics against known truth: noised releases drawn from shoppers whose click
 * rates are known (4% with Vitrine, 3% on the shop's own content), looked at after every round as
 * a merchant would; the anytime-valid interval must cover the true difference at every look of at
 * least 95% of the runs, and it must come to exclude zero once the shoppers are enough.
 */
import { describe, expect, it } from 'vitest';
import { HOLDOUT_CREATIVE } from '../../protocol/holdout.ts';
import { compareArms, compareRevenue, holdoutArms, revenueDifferenceText, servedRevenue } from '../../protocol/holdout-comparison.ts';
import { valueUnits } from '../../protocol/outcome-counts.ts';
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
    noise: { countStd, multiplier: 5 },
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
    const before: ReleasedCounts = { totals: withHoldout.totals.filter((t) => t.creativeId !== HOLDOUT_CREATIVE), noise: { countStd: 10, multiplier: 5 } };
    expect(holdoutArms([before, withHoldout])).toEqual(holdoutArms([withHoldout]));
  });

  /**
   * Revenue: orders of 20 to 120 (mean 70) in the site's currency, counted on the device in
   * units of 20 (rounded at random, as devices do), each creative's units noised with sd 60
   * (z 5 x countClip 12, so one device adds at most 12 units, 240). Truth: 0.4% of impressions
   * convert with Vitrine, 0.3% on the shop's own content: 0.28 and 0.21 per impression.
   */
  function revenueRound(r: ReturnType<typeof seeded>, impressions: number): ReleasedCounts {
    const unit = 20;
    const noised = (x: number) => Math.round(x + 60 * r.normal());
    const held = Math.round(impressions * 0.05);
    const perCreative = Math.round((impressions - held) / 3);
    const row = (creativeId: string, n: number, p: number) => {
      const conversions = binomial(n, p, r);
      let units = 0;
      for (let i = 0; i < conversions; i++) units += valueUnits(20 + 100 * r.uniform(), unit, r.uniform);
      return { creativeId, impressions: noised(n), clicks: noised(binomial(n, 10 * p, r)), conversions: noised(conversions), value: noised(units) };
    };
    return {
      totals: [...['c1', 'c2', 'c3'].map((id) => row(id, perCreative, 0.004)), row(HOLDOUT_CREATIVE, held, 0.003)],
      noise: { countStd: 60, multiplier: 5 },
      valueUnit: unit,
    };
  }

  it('revenue per impression: the anytime-valid interval covers the true difference at every look in at least 95% of 200 runs', () => {
    const truth = 0.004 * 70 - 0.003 * 70;
    let missed = 0;
    let stated = 0;
    for (let run = 0; run < 200; run++) {
      const r = seeded(1000 + run);
      const released: ReleasedCounts[] = [];
      let ever = false;
      for (let look = 0; look < 12; look++) {
        released.push(revenueRound(r, 200_000));
        const arms = holdoutArms(released);
        expect(arms.maxDeviceRevenue).toBe(240);
        const c = compareRevenue(arms.vitrine, arms.holdout, arms.maxDeviceRevenue);
        for (const arm of [c.vitrine, c.holdout]) if (arm) expect(arm.lower).toBeGreaterThanOrEqual(0); // never an impossible value
        if (c.difference) {
          stated++;
          if (c.difference.lower > truth || c.difference.upper < truth) ever = true;
        }
      }
      if (ever) missed++;
    }
    expect(missed / 200).toBeLessThanOrEqual(0.05);
    expect(stated).toBeGreaterThan(200); // it does speak, not only stay silent
  });

  it("revenue: too few shoppers at a small shop's first round, a difference in the currency once there are enough", () => {
    const r = seeded(11);
    const small = holdoutArms([revenueRound(r, 2_000)]);
    const first = compareRevenue(small.vitrine, small.holdout, small.maxDeviceRevenue);
    expect(first.difference).toBeNull();
    expect(revenueDifferenceText(first, (x) => `$${x.toFixed(2)}`)).toBe('too few shoppers yet to say');
    const many = Array.from({ length: 30 }, () => revenueRound(r, 1_000_000));
    const arms = holdoutArms(many);
    const c = compareRevenue(arms.vitrine, arms.holdout, arms.maxDeviceRevenue);
    expect(c.difference!.lower).toBeGreaterThan(0);
    expect(c.difference!.lower).toBeLessThan(0.07);
    expect(c.difference!.upper).toBeGreaterThan(0.07);
    // What the creatives earned over these rounds, the holdout's own content left out: 0.28 an impression.
    const served = servedRevenue(many)!;
    expect(served.lower).toBeLessThan(0.28);
    expect(served.upper).toBeGreaterThan(0.28);
    expect(servedRevenue([revenueRound(r, 2_000)])).toBeNull();
    expect(revenueDifferenceText(c, (x) => `$${x.toFixed(2)}`)).toMatch(
      /^Vitrine earns more: \+\$\d+\.\d\d per 1,000 impressions \(\+\$\d+\.\d\d to \+\$\d+\.\d\d\)$/,
    );
  });
});
