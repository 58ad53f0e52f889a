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
import { noisyRate, sayable, TOO_FEW } from './rate-interval.ts';
import type { Interval } from './rate-interval.ts';

/** One arm's counts summed over released rounds, and the release noise's variance on each of them. */
export interface ArmCounts {
  impressions: number;
  clicks: number;
  conversions: number;
  noiseVariance: number;
}

/** A released round as the comparison reads it: every listed count, and the noise each got. */
export interface ReleasedCounts {
  totals: readonly { creativeId: string; impressions: number; clicks: number; conversions: number }[];
  noise: { countStd: number };
}

export interface ArmComparison {
  vitrine: Interval | null;
  holdout: Interval | null;
  /** Vitrine's rate minus the holdout's, with its anytime-valid 95% interval; null while either rate is too uncertain to state (rateText's TOO_FEW). */
  difference: Sequence | null;
}

/** The two arms' counts over the released rounds that listed the holdout (rounds before it are left out of both). */
export function holdoutArms(rounds: readonly ReleasedCounts[]): { vitrine: ArmCounts; holdout: ArmCounts; rounds: number } {
  const vitrine: ArmCounts = { impressions: 0, clicks: 0, conversions: 0, noiseVariance: 0 };
  const holdout: ArmCounts = { impressions: 0, clicks: 0, conversions: 0, noiseVariance: 0 };
  let counted = 0;
  for (const r of rounds) {
    if (!r.totals.some((t) => t.creativeId === HOLDOUT_CREATIVE)) continue;
    counted++;
    const variance = r.noise.countStd ** 2;
    for (const t of r.totals) {
      const arm = t.creativeId === HOLDOUT_CREATIVE ? holdout : vitrine;
      arm.impressions += t.impressions;
      arm.clicks += t.clicks;
      arm.conversions += t.conversions;
      arm.noiseVariance += variance;
    }
  }
  return { vitrine, holdout, rounds: counted };
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
