/**
 * The promotion gate: is the candidate better than the serving model on the same decisions?
 *
 * It tests the paired difference Delta = V_candidate - V_serving of the two click-rate
 * estimates made from the same rounds (candidate: self-normalized IPS; serving: its on-policy
 * rate), with their covariance: both estimates ride on the same clicks, and ignoring that makes
 * the interval of the difference too wide or, worse, compares a bound with a point that has its
 * own noise (the old gate promoted an identical candidate about 8% of the time per look).
 *
 * And it is asked again after every round: a fixed 95% interval checked at every look fails far
 * more than 5% of the time over many looks. The interval here is a confidence sequence, valid at
 * every look at once: Robbins' normal-mixture boundary applied to the estimate in information
 * time (Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas, "Time-uniform central limit theory and
 * asymptotic confidence sequences", 2021/2024). In information time I = 1 / Var(Delta-hat), the
 * scaled error I (Delta-hat - Delta) behaves like a Brownian motion, and for every mixture
 * precision r, P(exists I: |W(I)| >= sqrt((I + r) log((I + r) / (r alpha^2)))) <= alpha.
 * Asymptotic, as the name says (the sums are large; a betting sequence would need each decision,
 * which never leaves the device), and it keeps the delta method's independence of decisions
 * (one device's decisions are not quite independent: PRIVACY.md's limits). Bounds are clipped
 * to [-1, 1]: a difference of two click rates.
 */
import { OPE_SUMS, PAIRED_SCALE, unscaledPairedSums } from './off-policy.ts';

export interface PairedDifference {
  estimate: number;
  variance: number;
  /** The part of `variance` that is release noise (the rest is the decisions' own sampling): what more budget could narrow. */
  noiseVariance: number;
  candidate: number;
  serving: number;
}

export interface Sequence {
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * The difference on the same decisions, from a candidate's paired sums (protocol/off-policy.ts:
 * [n, K sum r u, K sum u, K sum r u^2, K sum u^2] over the decisions it was scored on, u = w - 1)
 * and the serving model's entry ([n, sum r, n, sum r, n]: w = 1), each pooled over the same rounds
 * with independent release noise of the given variance per coordinate (as released, before the
 * scale is undone).
 *
 * The candidate's self-normalized estimate on its decisions is (sum r + sum r u) / (n + sum u),
 * so its difference from the serving rate V_s is Delta = (sum r u - V_s sum u) / (n + sum u): a
 * ratio of the paired sums alone, with V_s as a control variate (sum u has mean zero). Its
 * variance by the delta method over decisions is sum psi^2 / (n + sum u)^2, psi = u (r - V_s) -
 * Delta w, every term of which the five sums carry (r is 0 or 1). Release noise adds, to first
 * order, the paired coordinates' variance / K^2 times (1 + V_s^2) over the same square (V_s's own
 * noise multiplies sum u, which is near zero: second order). Null when the candidate's weights do
 * not stand clear of the noise.
 */
export function pairedDifference(
  candidate: readonly number[],
  serving: readonly number[],
  candidateNoise: number,
  servingNoise: number,
): PairedDifference | null {
  if (candidate.length !== OPE_SUMS || serving.length !== OPE_SUMS) throw new Error(`off-policy sums have ${OPE_SUMS} entries`);
  const [n, ru, u, ruu, uu] = unscaledPairedSums(candidate);
  // The serving rate as its own estimate reads it (sum r / sum w, w = 1: snipsFromSums).
  const [, as, bs] = serving as [number, number, number, number, number];
  const weights = n + u;
  if (!(bs > 3 * Math.sqrt(servingNoise)) || !(n > 3 * Math.sqrt(candidateNoise)) || !(weights > 3 * Math.sqrt(candidateNoise)) || !(bs > 0)) return null;
  const vs = Math.min(1, Math.max(0, as / bs));
  const estimate = (ru - vs * u) / weights;
  // sum psi^2 = sum u^2 (r - V_s)^2 - 2 Delta sum u w (r - V_s) + Delta^2 sum w^2, w = 1 + u.
  const uwr = ru - vs * u + (ruu - vs * uu);
  const ww = n + 2 * u + uu;
  const sampling = Math.max(0, ruu * (1 - 2 * vs) + vs * vs * uu - 2 * estimate * uwr + estimate * estimate * ww) / (weights * weights);
  const noise = ((candidateNoise / (PAIRED_SCALE * PAIRED_SCALE)) * (1 + vs * vs)) / (weights * weights);
  return { estimate, variance: sampling + noise, noiseVariance: noise, candidate: vs + estimate, serving: vs };
}

/**
 * The mixture precision r: the boundary is tightest where the information I is near r, and r is
 * fixed before any data (it must be, for the guarantee). Set where a small site decides: one
 * round of 2,000 shoppers' 4,000 decisions under release noise knows the difference to about one
 * point of click rate, I = 1e4. Measured (`test/unit/promotion-gate.test.ts`, 200 runs of 10
 * looks, a candidate 1.5 points better): r = 1e4 promotes it in 195 runs (at the 6th look on
 * average), the r = 1.6e5 chosen before (a sd of 0.25 points, more than ten small rounds hold)
 * in 19; an identical candidate 3 and 0 times. At a large site's I = 1e6 the price is a tenth
 * wider an interval (0.33 points of half-width against 0.30).
 */
export const MIXTURE_PRECISION = 1e4;

/** The anytime-valid interval for Delta at this look (alpha = 0.05 over all looks together). */
export function confidenceSequence(d: Pick<PairedDifference, 'estimate' | 'variance'>, alpha = 0.05, r = MIXTURE_PRECISION): Sequence {
  if (!(d.variance > 0)) return { estimate: d.estimate, lower: Math.max(-1, d.estimate), upper: Math.min(1, d.estimate) };
  const information = 1 / d.variance;
  const half = Math.sqrt((information + r) * Math.log((information + r) / (r * alpha * alpha))) / information;
  return { estimate: d.estimate, lower: Math.max(-1, d.estimate - half), upper: Math.min(1, d.estimate + half) };
}
