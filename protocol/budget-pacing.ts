/**
 * A site's privacy budget paced over its period: the noise every round gets is the one at which
 * all the rounds of a period fit the budget, so learning never stops on day 13 of 30 (the
 * defaults before pacing: z = 5 spent a budget of 8 in 13 daily rounds). A merchant may set the
 * noise higher than the pace (a stricter site), never lower: a setting that would run the budget
 * out before the period ends is refused with the date it would (edge-worker/src/admin-routes.ts).
 *
 * The budget holds over any window of `budgetPeriodDays` (edge-worker/src/privacy-ledger.ts):
 * rounds are charged by their real start time, so no setting can move a spend out of the window
 * it was made in.
 */
import { composedMu, gdpEpsilon, gdpMuFor } from './gaussian-dp.ts';
import { mechanismMultipliers, PRIVACY_DELTA } from './privacy.ts';
import { roundMechanisms, SMALL_SHOP_PARTS } from './report-parts.ts';

export const DAY_MS = 86_400_000;

/**
 * What a released round of a new site is charged while a model serves: its counts, the parts a
 * small shop collects (offsets and off-policy sums: report-parts.ts) and the count vector. A
 * site collecting more is paced for its own (roundMechanisms of its parts).
 */
export const ROUND_MECHANISMS = roundMechanisms(SMALL_SHOP_PARTS);

/** The largest budget a site may set per period: past it an (epsilon, delta) figure protects nobody (PRIVACY.md). */
export const MAX_EPSILON_BUDGET = 20;
/** The least noise a site may set: below it one round alone spends more than the largest budget. */
export const MIN_NOISE_MULTIPLIER = 0.5;

export interface PacingSettings {
  epsilonBudget: number;
  budgetPeriodDays: number;
  roundSeconds: number;
  /** The merchant's own noise (at or above the pace), or absent: the pace itself. */
  noiseMultiplier?: number | undefined;
}

/** Rounds that start within one period (a period that is not a whole number of rounds holds the part-round too). */
export function roundsPerPeriod(roundSeconds: number, periodDays: number): number {
  return Math.ceil((periodDays * DAY_MS) / (roundSeconds * 1000));
}

/** Epsilon (at PRIVACY_DELTA) of `rounds` released rounds of `mechanisms` each at noise multiplier z. */
export function epsilonOfRounds(rounds: number, z: number, mechanisms = ROUND_MECHANISMS): number {
  if (rounds <= 0) return 0;
  return gdpEpsilon(composedMu(mechanismMultipliers(mechanisms, z)) * Math.sqrt(rounds), PRIVACY_DELTA);
}

/** The noise multiplier at which `rounds` rounds of `mechanisms` spend exactly `budget` (GDP: mu^2 adds up over mechanisms). */
export function pacedNoise(budget: number, rounds: number, mechanisms = ROUND_MECHANISMS): number {
  return Math.sqrt(rounds * mechanisms) / gdpMuFor(budget, PRIVACY_DELTA);
}

/** How many released rounds at noise z fit in `budget` (within a period). */
export function roundsWithin(budget: number, z: number, mechanisms = ROUND_MECHANISMS): number {
  const perRound = composedMu(mechanismMultipliers(mechanisms, z)) ** 2;
  return Math.floor((gdpMuFor(budget, PRIVACY_DELTA) ** 2 / perRound) * (1 + 1e-12));
}

export interface Pacing {
  /** The noise every round of the site gets. */
  noiseMultiplier: number;
  /** Whether it is the pace (no noise was set). */
  paced: boolean;
  roundsPerPeriod: number;
  /** What one released round costs, alone. */
  epsilonPerRound: number;
  /** Released rounds the budget holds in one period at this noise (at least roundsPerPeriod when the settings are valid). */
  roundsPerBudget: number;
}

/** The site's pace, for rounds of `mechanisms` each (the parts it collects: report-parts.ts roundMechanisms). */
export function pacingOf(s: PacingSettings, mechanisms = ROUND_MECHANISMS): Pacing {
  const rounds = roundsPerPeriod(s.roundSeconds, s.budgetPeriodDays);
  const paced = s.noiseMultiplier === undefined;
  const noiseMultiplier = paced ? pacedNoise(s.epsilonBudget, rounds, mechanisms) : s.noiseMultiplier!;
  return {
    noiseMultiplier,
    paced,
    roundsPerPeriod: rounds,
    epsilonPerRound: epsilonOfRounds(1, noiseMultiplier, mechanisms),
    roundsPerBudget: roundsWithin(s.epsilonBudget, noiseMultiplier, mechanisms),
  };
}

/**
 * Why settings would run the budget out before their period ends (a merchant's noise below the
 * pace), naming the day it would and the least noise that lasts; null when every round fits.
 */
export function budgetRunsOut(s: PacingSettings, now: number, mechanisms = ROUND_MECHANISMS): string | null {
  const pacing = pacingOf(s, mechanisms);
  if (pacing.roundsPerBudget >= pacing.roundsPerPeriod) return null;
  const day = new Date(now + pacing.roundsPerBudget * s.roundSeconds * 1000).toISOString().slice(0, 10);
  const least = pacedNoise(s.epsilonBudget, pacing.roundsPerPeriod, mechanisms);
  return (
    `at noiseMultiplier ${s.noiseMultiplier} a round costs epsilon ${pacing.epsilonPerRound.toFixed(2)}, so the budget of ${s.epsilonBudget} ` +
    `holds ${pacing.roundsPerBudget} of the ${pacing.roundsPerPeriod} rounds of a ${s.budgetPeriodDays}-day period and would run out on ${day}: ` +
    `set noiseMultiplier to at least ${Math.ceil(least * 1000) / 1000}, or leave it out to have the noise paced`
  );
}
