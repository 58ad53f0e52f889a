/**
 * Off-policy sums: what a device contributes so the trainer can estimate how a candidate model
 * would have done on the decisions the serving model made, without any decision leaving it.
 *
 * For each shown decision (chosen with propensity p by the serving policy, reward r = click) and
 * each model m under evaluation, with pi_m the probability m's policy gives the same creative in
 * the same situation, the importance weight is w = min(pi_m / p, WEIGHT_CAP). A device sends,
 * per model, the five sums [n, sum r w, sum w, sum r w^2, sum w^2]. Summed over devices (and
 * noised) they give the self-normalized IPS estimate sum r w / sum w and its delta-method
 * variance (model-training/src/off-policy-estimate.ts). The serving model is evaluated the same
 * way with w = 1 (its on-policy click rate), so both estimates come from the same decisions.
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
