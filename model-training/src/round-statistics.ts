/**
 * From released rounds to a new last layer. Each released round carries the noised sum of its
 * devices' head statistics for the model that was serving (packed as in ReportSchema: count,
 * upper triangle of sum phi phi^T, sum reward x phi). Summed over rounds and unpacked, they are
 * exactly the sufficient statistics bayesian-head.ts updates a posterior with, plus the noise.
 */
import { symmetricEigen } from '../../protocol/linalg.ts';
import type { Evidence, SufficientStatistics } from './bayesian-head.ts';
import { headDimOfStats } from '../../protocol/head-statistics.ts';

export interface ReleasedHead {
  round: number;
  modelVersion: string;
  reports: number;
  stats: number[];
  /** Standard deviation of the noise on every coordinate. */
  noiseStd: number;
}

export interface PooledStatistics extends SufficientStatistics {
  rounds: number[];
  /** Standard deviation of the noise on each pooled coordinate (independent across rounds). */
  noiseStd: number;
  /** What was added to the diagonal of sum phi phi^T (see poolHeads). */
  shift: number;
}

export class NotEnoughSignal extends Error {}

/** Sums the heads released for `modelVersion`, and unpacks them. */
export function poolHeads(heads: readonly ReleasedHead[], modelVersion: string): PooledStatistics {
  const mine = heads.filter((h) => h.modelVersion === modelVersion);
  if (mine.length === 0) throw new NotEnoughSignal(`no released round carries statistics for model ${modelVersion}; run pull after rounds close`);
  const length = mine[0]!.stats.length;
  const dim = headDimOfStats(length);
  if (dim === null || mine.some((h) => h.stats.length !== length)) throw new Error(`released statistics of model ${modelVersion} have inconsistent lengths`);
  const sum = new Float64Array(length);
  for (const h of mine) h.stats.forEach((x, i) => (sum[i]! += x));
  const phiPhi = new Float64Array(dim * dim);
  let at = 1;
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      phiPhi[i * dim + j] = sum[at]!;
      phiPhi[j * dim + i] = sum[at]!;
      at++;
    }
  }
  const rewardPhi = sum.slice(at, at + dim);
  const noiseStd = Math.sqrt(mine.reduce((s, h) => s + h.noiseStd * h.noiseStd, 0));
  // The noise on sum phi phi^T is a symmetric Gaussian matrix, whose spectral norm is about
  // 2 sigma sqrt(d): it can make the sum indefinite, and the posterior improper. Shifting the
  // diagonal by 3 sigma sqrt(d) keeps it positive semi-definite with high probability ("Analyze
  // Gauss", Dwork et al. 2014); the price is a little extra shrinkage (see centeredOnPrior).
  const shift = 3 * noiseStd * Math.sqrt(dim);
  for (let i = 0; i < dim; i++) phiPhi[i * dim + i]! += shift;
  return { dim, phiPhi, rewardPhi, count: sum[0]!, rounds: mine.map((h) => h.round), noiseStd, shift };
}

/**
 * The diagonal shift, as it stands, is pseudo-data saying "theta = 0": it shrinks the estimate
 * towards zero in every direction the data is thin in, and those are the sparse cross features
 * (brand match, category affinity) that make the model personal; with a few thousand shoppers
 * the shift outweighed them and a fitted model personalized less than the one it replaced.
 * Adding shift x prior mean to sum r phi makes the same pseudo-data say "theta = the serving
 * model's mean": thin directions stay where they were, well-measured ones move with the data.
 */
export function centeredOnPrior(pooled: PooledStatistics, priorMean: ArrayLike<number>): PooledStatistics {
  return { ...pooled, rewardPhi: pooled.rewardPhi.map((x, i) => x + pooled.shift * priorMean[i]!) };
}

/** A direction of sum phi phi^T the data rose above the release noise in: unit vector, eigenvalue. */
export type { Evidence } from './bayesian-head.ts';

/**
 * Where the released sum phi phi^T says something about theta: its eigen-directions whose
 * eigenvalue stands above the noise's own spectral edge. The noise on that sum is a symmetric
 * Gaussian matrix whose eigenvalues lie within +-2 sigma sqrt(d); in a direction below the edge
 * the released sum cannot be told from noise, so it is no evidence there, and a posterior must
 * keep its prior width in it. (The diagonal shift poolHeads adds is counted by the mean as
 * pseudo-data, which regularizes it; as evidence it would narrow the posterior by about 175 of
 * precision per fit in every direction, whatever the data, and starve Thompson sampling.)
 */
export function evidenceAboveNoise(pooled: PooledStatistics): Evidence[] {
  const d = pooled.dim;
  const edge = 2 * pooled.noiseStd * Math.sqrt(d);
  // The sum as released: poolHeads' shift taken back off the diagonal.
  const measured = pooled.phiPhi.slice();
  for (let i = 0; i < d; i++) measured[i * d + i]! -= pooled.shift;
  const { values, vectors } = symmetricEigen(measured, d);
  const out: Evidence[] = [];
  for (let k = 0; k < d; k++) {
    if (!(values[k]! > edge)) continue;
    const vector = new Float64Array(d);
    for (let i = 0; i < d; i++) vector[i] = vectors[i * d + k]!;
    out.push({ value: values[k]!, vector });
  }
  return out;
}

/**
 * Refuses statistics the noise drowns: the pooled count of examples must stand at least
 * `minRatio` noise deviations above zero, or a posterior update would mostly learn the noise.
 */
export function checkSignal(pooled: PooledStatistics, minRatio = 10): void {
  const ratio = pooled.count / pooled.noiseStd;
  if (!(ratio >= minRatio)) {
    throw new NotEnoughSignal(
      `the released rounds ${pooled.rounds.join(', ')} hold about ${Math.round(pooled.count)} examples under noise of ${Math.round(pooled.noiseStd)} per statistic ` +
        `(${ratio.toFixed(1)} noise deviations; ${minRatio} needed): wait for more rounds or more devices per round`,
    );
  }
}
