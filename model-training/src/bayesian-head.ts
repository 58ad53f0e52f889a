/**
 * The Bayesian last layer: a Gaussian posterior over theta for reward = phi . theta + noise.
 * Everything it needs is the sufficient statistics sum(phi phi^T) and sum(r phi), which is what
 * devices will report per round, so an update from aggregated reports is exact.
 *
 *   precision = prior_precision + S_pp / noise_var      mean = precision^-1 (prior_precision mean_0 + S_rp / noise_var)
 */
import { spdInverse } from '../../protocol/linalg.ts';

export interface HeadPosterior {
  dim: number;
  mean: Float64Array;
  covariance: Float64Array;
}

/** One direction the released statistics rise above the noise in: its eigenvalue and unit vector (round-statistics.ts `evidenceAboveNoise`). */
export interface Evidence {
  value: number;
  vector: Float64Array;
}

export interface SufficientStatistics {
  dim: number;
  /** sum of phi phi^T, row-major dim x dim. */
  phiPhi: Float64Array;
  /** sum of reward x phi. */
  rewardPhi: Float64Array;
  count: number;
}

export function emptyStatistics(dim: number): SufficientStatistics {
  return { dim, phiPhi: new Float64Array(dim * dim), rewardPhi: new Float64Array(dim), count: 0 };
}

/** Adds rows of phi ([n, dim] row-major) with their rewards to `stats`. */
export function accumulate(stats: SufficientStatistics, phi: ArrayLike<number>, rewards: ArrayLike<number>, n: number): void {
  const d = stats.dim;
  for (let r = 0; r < n; r++) {
    const row = r * d;
    const reward = rewards[r]!;
    for (let i = 0; i < d; i++) {
      const pi = phi[row + i]!;
      stats.rewardPhi[i]! += reward * pi;
      for (let j = 0; j < d; j++) stats.phiPhi[i * d + j]! += pi * phi[row + j]!;
    }
  }
  stats.count += n;
}

/** Posterior from a prior N(mean0, covariance0) and statistics observed with `noiseVariance`. */
export function posterior(prior: HeadPosterior, stats: SufficientStatistics, noiseVariance: number): HeadPosterior {
  const d = prior.dim;
  const priorPrecision = spdInverse(prior.covariance, d);
  const precision = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) precision[i] = priorPrecision[i]! + stats.phiPhi[i]! / noiseVariance;
  const rhs = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = stats.rewardPhi[i]! / noiseVariance;
    for (let j = 0; j < d; j++) s += priorPrecision[i * d + j]! * prior.mean[j]!;
    rhs[i] = s;
  }
  return fromPrecision(precision, rhs, d);
}

/**
 * The posterior when the statistics carry release noise: b = sum r phi arrives as
 * A theta + (reward noise, covariance noiseVariance x A) + (release noise, releaseStd^2 x I), so
 * b given theta is N(A theta, M) with M = noiseVariance A + releaseStd^2 I, and
 *
 *   precision = prior_precision + A M^-1 A      mean = precision^-1 (prior_precision mean_0 + A M^-1 b)
 *
 * With releaseStd = 0 this is posterior() exactly. Directions where the release noise outweighs
 * what the data say (sparse features, few devices) get almost no weight and stay at the prior:
 * before, the noise in b went into the mean undamped, and a fitted model could be worse than the
 * one it replaced. (A is taken as measured; its own noise is kept small by poolHeads' shift.)
 */
export function posteriorUnderReleaseNoise(prior: HeadPosterior, stats: SufficientStatistics, noiseVariance: number, releaseStd: number): HeadPosterior {
  if (releaseStd === 0) return posterior(prior, stats, noiseVariance);
  const d = prior.dim;
  const a = stats.phiPhi;
  const m = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) m[i] = noiseVariance * a[i]!;
  for (let i = 0; i < d; i++) m[i * d + i]! += releaseStd * releaseStd;
  const mInverse = spdInverse(m, d);
  // W = A M^-1 (A and M commute only approximately, so it is formed as it stands).
  const w = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let x = 0;
      for (let k = 0; k < d; k++) x += a[i * d + k]! * mInverse[k * d + j]!;
      w[i * d + j] = x;
    }
  const priorPrecision = spdInverse(prior.covariance, d);
  const precision = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let x = 0;
      for (let k = 0; k < d; k++) x += w[i * d + k]! * a[k * d + j]!;
      precision[i * d + j] = priorPrecision[i * d + j]! + x;
    }
  // Symmetrize away rounding: A M^-1 A is symmetric in exact arithmetic.
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) {
      const x = (precision[i * d + j]! + precision[j * d + i]!) / 2;
      precision[i * d + j] = x;
      precision[j * d + i] = x;
    }
  const rhs = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let x = 0;
    for (let k = 0; k < d; k++) x += w[i * d + k]! * stats.rewardPhi[k]! + priorPrecision[i * d + k]! * prior.mean[k]!;
    rhs[i] = x;
  }
  return fromPrecision(precision, rhs, d);
}

/**
 * The posterior's width from the evidence alone: precision = prior_precision + the likelihood's
 * precision in each direction the data rose above the release noise (round-statistics.ts
 * evidenceAboveNoise), lambda^2 / (noiseVariance lambda + releaseStd^2) along a direction with
 * eigenvalue lambda (posteriorUnderReleaseNoise's A M^-1 A, on A's own eigenbasis). Directions
 * with no evidence keep the prior's width exactly: the width follows the data.
 */
export function covarianceFromEvidence(prior: HeadPosterior, evidence: readonly Evidence[], noiseVariance: number, releaseStd: number): Float64Array {
  const d = prior.dim;
  const precision = spdInverse(prior.covariance, d);
  for (const { value, vector } of evidence) {
    const weight = (value * value) / (noiseVariance * value + releaseStd * releaseStd);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) precision[i * d + j]! += weight * vector[i]! * vector[j]!;
  }
  return spdInverse(precision, d);
}

/** The Gaussian with this precision whose mean solves precision x mean = rhs. */
function fromPrecision(precision: Float64Array, rhs: Float64Array, d: number): HeadPosterior {
  const covariance = spdInverse(precision, d);
  const mean = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let x = 0;
    for (let k = 0; k < d; k++) x += covariance[i * d + k]! * rhs[k]!;
    mean[i] = x;
  }
  return { dim: d, mean, covariance };
}

/**
 * The same evidence counted as `weight` times as many observations: the mean stays (up to the
 * pull of the isotropic prior it was fitted under), the covariance widens by 1 / weight. Used to
 * say "this much of what we believed carries over" (a guess from synthetic shoppers, or the
 * rounds before a drifting present).
 */
export function reweighted(p: HeadPosterior, weight: number): HeadPosterior {
  if (!(weight > 0 && weight <= 1)) throw new Error(`an evidence weight is in (0, 1] (got ${weight})`);
  return { dim: p.dim, mean: p.mean.slice(), covariance: p.covariance.map((x) => x / weight) };
}

/** An uninformative-ish prior: zero mean, `variance` on the diagonal. */
export function isotropicPrior(dim: number, variance: number): HeadPosterior {
  const covariance = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) covariance[i * dim + i] = variance;
  return { dim, mean: new Float64Array(dim), covariance };
}
