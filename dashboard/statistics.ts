/** The dashboard's arithmetic: noise-aware rates of released counts, released off-policy sums, and cumulative privacy spend. */
import type { ReleasedOpe } from '../protocol/off-policy-estimate.ts';
import { epsilonSpent, mechanismMultipliers } from '../protocol/privacy.ts';
import type { PrivacyView, RoundsView } from './admin-api.ts';

/** The off-policy sums of the released rounds, oldest first, as the trainer's estimators read them. */
export function releasedOpe(rounds: RoundsView): ReleasedOpe[] {
  return rounds.rounds
    .flatMap((r) =>
      r.release?.ope ? [{ round: r.round, loggingModel: r.release.ope.modelVersion, models: r.release.ope.models, noiseStd: r.release.noise.opeStd }] : [],
    )
    .sort((a, b) => a.round - b.round);
}

/** A released count post-processed into what is possible (never below zero), as a whole number. */
export const whole = (x: number) => Math.round(Math.max(0, x)).toLocaleString('en');

/** The noise variance on each count summed over released rounds (each count got countStd^2 in each). */
export function countNoiseVariance(rounds: RoundsView['rounds']): number {
  return rounds.reduce((v, r) => v + (r.release ? r.release.noise.countStd ** 2 : 0), 0);
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
