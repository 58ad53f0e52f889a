/**
 * Off-policy sums: what a device contributes so the trainer can estimate how a candidate model
 * would have done on the decisions the serving model made, without any decision leaving it.
 *
 * For each shown decision (chosen with propensity p by the serving policy, reward r = click) and
 * each model m under evaluation, with pi_m the probability m's policy gives the same creative in
 * the same situation, the importance weight is w = min(pi_m / p, WEIGHT_CAP). A device sends,
 * per model, the five sums [n, sum r w, sum w, sum r w^2, sum w^2]. Summed over devices (and
 * noised) they give the self-normalized IPS estimate sum r w / sum w and its delta-method
 * variance (protocol/off-policy-estimate.ts). The serving model is evaluated the same
 * way with w = 1 (its on-policy click rate), so both estimates come from the same decisions.
 *
 * A candidate's entry is paired with the serving model's (addToPairedSums): it carries the sums of
 * u = w - 1 instead of w, [n, K sum r u, K sum u, K sum r u^2, K sum u^2], scaled by K =
 * PAIRED_SCALE. What the gate needs is the difference of the two click rates on the same
 * decisions, and that is (sum r u - V sum u) / sum w: released apart, the two entries carried two
 * independent noises of the part's full size on it. A candidate close to the serving model has
 * small u, so its paired sums are small, and the scale K spends that room on precision: the whole
 * part is still clipped to one L2 bound (one mechanism, the same privacy), but the noise on the
 * difference is 1/K of a coordinate's (measured: the simulator's gate at 2,000 shoppers, docs/lab).
 *
 * Why cap the weight: with an exploration floor spread over ~60 candidates a propensity can be
 * 1e-4, and one such click would swamp a round. Capped weights bias the estimate down for
 * candidates that move much probability onto rarely shown creatives (clicks are >= 0), which
 * errs on the side of not promoting.
 */
export const OPE_SUMS = 5;

/**
 * The uniform random policy over a decision's eligible creatives, listed in a report's off-policy
 * sums as if it were a model (this pseudo version, which no model can have: versions are content
 * hashes). Its estimate is what the slot would click at without personalization: the baseline a
 * merchant weighs the serving model against. Never a candidate for promotion.
 */
export const UNIFORM_POLICY = '0000000000000000';

/**
 * The scale of a candidate's paired sums. The noise on the paired difference is 1/K of a
 * coordinate's; the price is K times the candidate's share of the part's norm, which for a
 * candidate near the serving model (|u| of a few tenths) stays below the serving and uniform
 * entries' (the simulator reports the part's norms with candidates under evaluation).
 */
export const PAIRED_SCALE = 4;
export const WEIGHT_CAP = 50;

export function importanceWeight(candidateProbability: number, propensity: number): number {
  if (!(propensity > 0) || !(candidateProbability >= 0)) return 0;
  return Math.min(candidateProbability / propensity, WEIGHT_CAP);
}

/** Adds one shown decision to a model's five sums. */
export function addToOpeSums(sums: Float64Array | number[], reward: number, weight: number): void {
  sums[0]! += 1;
  sums[1]! += reward * weight;
  sums[2]! += weight;
  sums[3]! += reward * weight * weight;
  sums[4]! += weight * weight;
}

/** Adds one shown decision to a candidate's paired sums (u = w - 1, scaled by PAIRED_SCALE; see above). */
export function addToPairedSums(sums: Float64Array | number[], reward: number, weight: number): void {
  const u = weight - 1;
  sums[0]! += 1;
  sums[1]! += PAIRED_SCALE * reward * u;
  sums[2]! += PAIRED_SCALE * u;
  sums[3]! += PAIRED_SCALE * reward * u * u;
  sums[4]! += PAIRED_SCALE * u * u;
}

/** A candidate's paired sums in its own units, [n, sum r u, sum u, sum r u^2, sum u^2] (the scale undone). */
export function unscaledPairedSums(paired: readonly number[]): [number, number, number, number, number] {
  return [paired[0]!, paired[1]! / PAIRED_SCALE, paired[2]! / PAIRED_SCALE, paired[3]! / PAIRED_SCALE, paired[4]! / PAIRED_SCALE];
}
