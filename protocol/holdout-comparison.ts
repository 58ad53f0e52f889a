/**
 * What Vitrine earns against the shop's own content: the holdout's shoppers (protocol/holdout.ts)
 * against everyone else, in clicks and conversions per impression, from released rounds. Each
 * arm's counts are sums of noised counts (every creative's count carries the release's noise, so
 * Vitrine's arm, a sum over the site's creatives, carries that many times the variance); each
 * rate's variance is the shoppers' chance plus that noise (delta method, as noisyRate's); the
 * difference's interval is anytime-valid (the normal-mixture confidence sequence of
 * promotion-gate.ts), because a merchant looks at it every round and may stop at any look.
 */
import { HOLDOUT_CREATIVE } from './holdout.ts';
import { confidenceSequence } from './promotion-gate.ts';
import type { Sequence } from './promotion-gate.ts';
import { noisyRate, sayable, TOO_FEW, Z95 } from './rate-interval.ts';
import type { Interval } from './rate-interval.ts';

/** One arm's counts summed over released rounds, and the release noise's variance on each of them. */
export interface ArmCounts {
  impressions: number;
  clicks: number;
  conversions: number;
  noiseVariance: number;
  /** Revenue in the site's currency (units times each round's valueUnit), and its noise's variance. */
  revenue: number;
  revenueNoiseVariance: number;
}

/** A released round as the comparison reads it: every listed count, and the noise each got. */
export interface ReleasedCounts {
  totals: readonly { creativeId: string; impressions: number; clicks: number; conversions: number; value?: number }[];
  noise: { countStd: number; multiplier: number };
  /** Currency per unit of `value` (absent in releases from before revenue: they count none). */
  valueUnit?: number;
}

export interface ArmComparison {
  vitrine: Interval | null;
  holdout: Interval | null;
  /** Vitrine's rate minus the holdout's, with its anytime-valid 95% interval; null while either rate is too uncertain to state (rateText's TOO_FEW). */
  difference: Sequence | null;
}

const emptyArm = (): ArmCounts => ({ impressions: 0, clicks: 0, conversions: 0, noiseVariance: 0, revenue: 0, revenueNoiseVariance: 0 });

/**
 * Adds each count `rounds` list to the arm `armOf` names for its creative (null: left out), with
 * the noise it got; returns the most one device can add to a round's revenue (its count bound,
 * countStd / z, in units, times the round's valueUnit), what revenue's sampling variance is bounded by.
 */
function sumArms(rounds: readonly ReleasedCounts[], armOf: (creativeId: string) => ArmCounts | null): number {
  let maxDeviceRevenue = 0;
  for (const r of rounds) {
    const variance = r.noise.countStd ** 2;
    const unit = r.valueUnit ?? 0;
    maxDeviceRevenue = Math.max(maxDeviceRevenue, (r.noise.countStd / r.noise.multiplier) * unit);
    for (const t of r.totals) {
      const a = armOf(t.creativeId);
      if (!a) continue;
      a.impressions += t.impressions;
      a.clicks += t.clicks;
      a.conversions += t.conversions;
      a.noiseVariance += variance;
      a.revenue += (t.value ?? 0) * unit;
      a.revenueNoiseVariance += variance * unit * unit;
    }
  }
  return maxDeviceRevenue;
}

/** The two arms' counts over the released rounds that listed the holdout (rounds before it are left out of both). */
export function holdoutArms(rounds: readonly ReleasedCounts[]): { vitrine: ArmCounts; holdout: ArmCounts; rounds: number; maxDeviceRevenue: number } {
  const vitrine = emptyArm();
  const holdout = emptyArm();
  const listed = rounds.filter((r) => r.totals.some((t) => t.creativeId === HOLDOUT_CREATIVE));
  const maxDeviceRevenue = sumArms(listed, (id) => (id === HOLDOUT_CREATIVE ? holdout : vitrine));
  return { vitrine, holdout, rounds: listed.length, maxDeviceRevenue };
}

/** A rate's variance as noisyRate reads it: the shoppers' chance and the noise on both counts. */
function rateVariance(rate: number, trials: number, noiseVariance: number): number {
  return (rate * (1 - rate)) / trials + (noiseVariance * (1 + rate * rate)) / (trials * trials);
}

/** Vitrine against the holdout in one outcome per impression: each arm's rate (95%) and their difference (anytime-valid 95%). */
export function compareArms(vitrine: ArmCounts, holdout: ArmCounts, outcome: 'clicks' | 'conversions'): ArmComparison {
  const v = noisyRate(vitrine[outcome], vitrine.impressions, vitrine.noiseVariance);
  const h = noisyRate(holdout[outcome], holdout.impressions, holdout.noiseVariance);
  // A difference of two rates is only as good as both: none while either is too uncertain to state.
  if (!sayable(v) || !sayable(h)) return { vitrine: v, holdout: h, difference: null };
  const variance = rateVariance(v.estimate, vitrine.impressions, vitrine.noiseVariance) + rateVariance(h.estimate, holdout.impressions, holdout.noiseVariance);
  return { vitrine: v, holdout: h, difference: confidenceSequence({ estimate: v.estimate - h.estimate, variance }) };
}

const points = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)} points`;

/** The difference as a merchant reads it (the dashboard's headline), or TOO_FEW while there is none. */
export function differenceText(c: ArmComparison): string {
  const d = c.difference;
  if (!d) return TOO_FEW;
  const range = `${points(d.lower)} to ${points(d.upper)}`;
  if (d.lower > 0) return `Vitrine earns more: ${points(d.estimate)} (${range})`;
  if (d.upper < 0) return `your own content earns more: ${points(d.estimate)} (${range})`;
  return `no difference shown yet: ${points(d.estimate)} (${range})`;
}

/**
 * Revenue per impression of one arm, with its variance: the noise's (delta method, as for a rate)
 * and the shoppers' chance, bounded without knowing how order values spread: an impression adds
 * between 0 and `max` (what one device can add in a round), so its variance is at most mean x max.
 * Null while the impressions do not stand 3 noise deviations clear of zero.
 */
function revenuePerImpression(a: ArmCounts, max: number): { estimate: number; variance: number } | null {
  const n = Math.max(0, a.impressions);
  if (n < 1 || n <= 3 * Math.sqrt(Math.max(0, a.noiseVariance))) return null;
  const estimate = Math.max(0, a.revenue) / n;
  const variance = (estimate * max) / n + (a.revenueNoiseVariance + estimate * estimate * a.noiseVariance) / (n * n);
  return { estimate, variance };
}

/** A revenue per impression's 95% interval (never below zero), or null while it is wider than twice itself: nothing to say yet. */
function revenueInterval(r: { estimate: number; variance: number } | null): Interval | null {
  if (!r) return null;
  const half = Z95 * Math.sqrt(r.variance);
  const i = { estimate: r.estimate, lower: Math.max(0, r.estimate - half), upper: r.estimate + half };
  return i.upper - i.lower <= 2 * i.estimate ? i : null;
}

/**
 * Revenue per impression of the creatives a set of released rounds showed (the holdout's own
 * content left out): what a model earned over the rounds it served.
 */
export function servedRevenue(rounds: readonly ReleasedCounts[]): Interval | null {
  const served = emptyArm();
  const maxDeviceRevenue = sumArms(rounds, (id) => (id === HOLDOUT_CREATIVE ? null : served));
  return revenueInterval(revenuePerImpression(served, maxDeviceRevenue));
}

export interface RevenueComparison {
  /** Revenue per impression of each arm with its 95% interval, in the site's currency (null: too uncertain to state). */
  vitrine: Interval | null;
  holdout: Interval | null;
  /** Vitrine's minus the holdout's, with its anytime-valid 95% interval. */
  difference: Sequence | null;
}

/**
 * Vitrine against the holdout in revenue per impression. The anytime-valid interval is made in
 * units of the most one device can add (so the difference lies in [-1, 1], as a rate's does, and
 * the mixture's precision fits it) and given back in the currency.
 */
export function compareRevenue(vitrine: ArmCounts, holdout: ArmCounts, maxDeviceRevenue: number): RevenueComparison {
  const v = revenuePerImpression(vitrine, maxDeviceRevenue);
  const h = revenuePerImpression(holdout, maxDeviceRevenue);
  const result: RevenueComparison = { vitrine: revenueInterval(v), holdout: revenueInterval(h), difference: null };
  if (!v || !h || !result.vitrine || !result.holdout || !(maxDeviceRevenue > 0)) return result;
  const m = maxDeviceRevenue;
  const d = confidenceSequence({ estimate: (v.estimate - h.estimate) / m, variance: (v.variance + h.variance) / (m * m) });
  result.difference = { estimate: d.estimate * m, lower: d.lower * m, upper: d.upper * m };
  return result;
}

/** A revenue per impression as a merchant reads it, per 1,000 impressions (as ad revenue is read), with its interval, or TOO_FEW. */
export function perMilleText(i: Interval | null, money: (amount: number) => string): string {
  return i ? `${money(1000 * i.estimate)} (${money(1000 * i.lower)} to ${money(1000 * i.upper)})` : TOO_FEW;
}

/** The revenue difference per 1,000 impressions as a merchant reads it, `money` formatting an amount, or TOO_FEW. */
export function revenueDifferenceText(c: RevenueComparison, money: (amount: number) => string): string {
  const d = c.difference;
  if (!d) return TOO_FEW;
  const signed = (x: number) => `${x >= 0 ? '+' : '−'}${money(Math.abs(1000 * x))}`;
  const range = `${signed(d.lower)} to ${signed(d.upper)}`;
  if (d.lower > 0) return `Vitrine earns more: ${signed(d.estimate)} per 1,000 impressions (${range})`;
  if (d.upper < 0) return `your own content earns more: ${signed(d.estimate)} per 1,000 impressions (${range})`;
  return `no difference shown yet: ${signed(d.estimate)} per 1,000 impressions (${range})`;
}
