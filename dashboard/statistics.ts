/** The dashboard's arithmetic: click-rate intervals on noised counts, released off-policy sums, and cumulative privacy spend. */
import type { ReleasedOpe } from '../model-training/src/off-policy-estimate.ts';
import { epsilonSpent, mechanismMultipliers } from '../protocol/privacy.ts';
import type { PrivacyView, RoundsView } from './admin-api.ts';
import { Z95 } from '../model-training/src/off-policy-estimate.ts';

/** The off-policy sums of the released rounds, oldest first, as the trainer's estimators read them. */
export function releasedOpe(rounds: RoundsView): ReleasedOpe[] {
  return rounds.rounds
    .flatMap((r) =>
      r.release?.ope ? [{ round: r.round, loggingModel: r.release.ope.modelVersion, models: r.release.ope.models, noiseStd: r.release.noise.opeStd }] : [],
    )
    .sort((a, b) => a.round - b.round);
}

export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * Click rate with a 95% Wilson interval. Released counts are noised (they can be fractional, or
 * below zero for rare creatives): they are clamped at zero and used as they are; the interval
 * describes sampling, not the release noise, which the page states beside the table.
 */
export function ctrInterval(clicks: number, impressions: number): Interval | null {
  const n = Math.max(0, impressions);
  if (n < 1) return null;
  const p = Math.min(1, Math.max(0, clicks) / n);
  const z = Z95;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return { estimate: p, lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/** Epsilon spent by the rounds of the last period (the ledger's window) after each of them, in time order (the ledger composed step by step). */
export function cumulativeEpsilon(ledger: PrivacyView): { round: number; epsilon: number }[] {
  const mechanisms: number[] = [];
  const from = Date.parse(ledger.window.from);
  return ledger.rounds
    .filter((r) => r.start > from)
    .map((r) => {
      mechanisms.push(...mechanismMultipliers(r.mechanisms, r.noiseMultiplier));
      return { round: r.round, epsilon: epsilonSpent(mechanisms, ledger.delta).epsilon };
    });
}

export const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)}%`;
export const whole = (x: number) => Math.round(Math.max(0, x)).toLocaleString('en');
