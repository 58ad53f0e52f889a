/**
 * From released rounds to a new last layer. Each released round carries the noised sum of its
 * devices' head statistics for the model that was serving (packed as in ReportSchema: count,
 * upper triangle of sum phi phi^T, sum reward x phi). Summed over rounds and unpacked, they are
 * exactly the sufficient statistics bayesian-head.ts updates a posterior with, plus the noise.
 */
import { symmetricEigen } from '../../protocol/linalg.ts';
import { headDimOfStats } from '../../protocol/privacy.ts';
import type { SufficientStatistics } from './bayesian-head.ts';

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
  /** Where the release noise's own eigenvalues end (2 sigma sqrt(d)): what poolHeads takes off every eigenvalue of sum phi phi^T. */
  noiseEdge: number;
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
  // The noise on sum phi phi^T is a symmetric Gaussian matrix whose eigenvalues lie within
  // +-2 sigma sqrt(d): in any direction the data do not stand above that edge, the noised matrix
  // says nothing about theta, and counting it as evidence made the posterior narrow where nothing
  // was learned (the "Analyze Gauss" diagonal shift used before added 3 sigma sqrt(d) of
  // precision-as-data in every direction, about 175 per fit, and starved Thompson sampling).
  // So every eigenvalue is taken down by the edge, and below it counts as zero: what is left is
  // positive semi-definite, and is evidence only where the data rose above the noise.
  const noiseEdge = 2 * noiseStd * Math.sqrt(dim);
  const denoised = noiseEdge > 0 ? softThresholdSpectrum(phiPhi, dim, noiseEdge) : phiPhi;
  return { dim, phiPhi: denoised, rewardPhi, count: sum[0]!, rounds: mine.map((h) => h.round), noiseStd, noiseEdge };
}

/** The symmetric matrix with each eigenvalue lambda replaced by max(0, lambda - edge). */
function softThresholdSpectrum(a: Float64Array, d: number, edge: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const lambda = Math.max(0, values[k]! - edge);
    if (lambda === 0) continue;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j]! += lambda * vectors[i * d + k]! * vectors[j * d + k]!;
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
