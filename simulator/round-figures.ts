/**
 * A simulation's figures: each round's click rates of the engine and of every other policy on
 * the same decisions, and the run's summary (the last round against the frozen first model and
 * the oracle, the worst round below the frozen model, what it cost).
 */
import { PRIVACY_DELTA } from '../protocol/privacy.ts';
import type { Lift } from '../protocol/off-policy-estimate.ts';
import type { SimulationOptions } from './simulation-options.ts';
import type { Sums } from './shopper-visits.ts';

export interface RoundResult {
  round: number;
  decisions: number;
  /** Expected click rate of the engine's choices (ground truth), and of the other policies on the same situations. */
  ctr: number;
  /** The first model, never retrained, deciding in the very same situations (its policy's expected click rate). */
  frozenCtr: number;
  oracleCtr: number;
  randomCtr: number;
  popularityCtr: number;
  /** oracle - engine, per decision. */
  regret: number;
  /** Shares of the engine's choices in the shopper's favourite category, of their brand, in their price band: which tastes it has learned. */
  topCategoryShare: number;
  brandShare: number;
  priceBandShare: number;
  realizedCtr: number;
  conversionRate: number;
  /** Epsilon spent by the site so far (the ledger, delta 1e-6). */
  epsilon: number;
  model: string;
  /** What the trainer did after the round. */
  training: string;
  /**
   * What the merchant's dashboard shows for this round (its released off-policy sums): the
   * serving model's click rate against uniform random, each with its 95% interval; null when
   * the round was not released. Set beside `ctr` and `randomCtr`, the truth, it shows how far
   * the dashboard can be trusted.
   */
  dashboardLift: Lift | null;
}

export interface SimulationResult {
  options: Omit<SimulationOptions, 'log'>;
  noiseMultiplier: number;
  rounds: RoundResult[];
  summary: {
    world: string;
    ctr_vs_random: number;
    ctr_vs_oracle: number;
    ctr_vs_popularity: number;
    /** The served models' click rate over the frozen first model's, last round, same situations. */
    ctr_vs_frozen: number;
    /** The frozen model's share of the oracle, and how many points of it retraining added (last round). */
    frozen_vs_oracle: number;
    oracle_points_over_frozen: number;
    /** The worst round's points of oracle share below the frozen model (0 when none was below). */
    worst_points_below_frozen: number;
    epsilon: number;
    delta: number;
    noise_multiplier: number;
    head_clip: number;
    ope_clip: number;
    offset_clip: number;
    last_round_ctr: number;
  };
}

/** The run's summary: the last round against random, the frozen first model and the oracle, and every round's worst shortfall below the frozen model. */
export function summaryOf(
  results: readonly RoundResult[],
  o: SimulationOptions,
  noiseMultiplier: number,
  headClip: number,
  opeClip: number,
  offsetClip: number,
): SimulationResult['summary'] {
  const last = results.at(-1)!;
  const share = (r: RoundResult, x: number) => x / r.oracleCtr;
  return {
    world: o.world,
    ctr_vs_random: last.ctr / last.randomCtr,
    ctr_vs_frozen: last.ctr / last.frozenCtr,
    frozen_vs_oracle: share(last, last.frozenCtr),
    oracle_points_over_frozen: 100 * (share(last, last.ctr) - share(last, last.frozenCtr)),
    worst_points_below_frozen: Math.max(0, ...results.map((r) => 100 * (share(r, r.frozenCtr) - share(r, r.ctr)))),
    ctr_vs_oracle: last.ctr / last.oracleCtr,
    ctr_vs_popularity: last.ctr / last.popularityCtr,
    epsilon: last.epsilon,
    delta: PRIVACY_DELTA,
    noise_multiplier: noiseMultiplier,
    head_clip: headClip,
    ope_clip: opeClip,
    offset_clip: offsetClip,
    last_round_ctr: last.ctr,
  };
}

/** A round's figures: each policy's click rate on the same decisions, and what the round cost and served. */
export function roundResult(r: number, sums: Sums, epsilon: number, model: string, training: string, dashboardLift: Lift | null): RoundResult {
  const n = Math.max(1, sums.decisions);
  return {
    round: r + 1,
    decisions: sums.decisions,
    ctr: sums.ctr / n,
    frozenCtr: sums.frozen / n,
    oracleCtr: sums.oracle / n,
    randomCtr: sums.random / n,
    popularityCtr: sums.popularity / n,
    regret: (sums.oracle - sums.ctr) / n,
    topCategoryShare: sums.topCategory / n,
    brandShare: sums.brand / n,
    priceBandShare: sums.priceBand / n,
    realizedCtr: sums.clicks / n,
    conversionRate: sums.purchases / n,
    epsilon,
    model,
    training,
    dashboardLift,
  };
}
