/**
 * The exploring policy: Thompson sampling over the Bayesian last layer, with a probability
 * floor, and an exact logged propensity.
 *
 * Thompson sampling picks argmax_i phi_i . theta for one theta ~ N(mean, Sigma). The probability
 * of each candidate winning has no closed form, so we draw M thetas, count each candidate's wins
 * (q_i = wins_i / M), mix in the floor (p_i = (1 - floor) q_i + floor / n), and then draw the
 * decision from p itself. The decision is therefore sampled from exactly p: the logged
 * propensity is exact for the randomization actually used (q is random, but independent of the
 * reward, so importance weights 1/p_i stay unbiased), and p_i >= floor / n bounds every weight.
 */
import { lowerTimes } from './linalg.ts';
import { standardNormal } from './privacy.ts';

/** A source of uniform numbers in [0, 1); injectable so tests are reproducible. */
export type Uniform = () => number;

export const THOMPSON_DRAWS = 256;

/**
 * `z[from..to)` filled with standard normals, two from each Box-Muller pair (1 - u avoids
 * log(0)): half the uniforms, logarithms and roots of one normal a pair, which was a tenth of a
 * simulated device's time.
 */
function fillStandardNormals(z: Float64Array, random: Uniform, from = 0, to = z.length): void {
  for (let i = from; i < to; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const a = 2 * Math.PI * random();
    z[i] = r * Math.cos(a);
    if (i + 1 < to) z[i + 1] = r * Math.sin(a);
  }
}

/** M posterior draws of theta, as a row-major [M, d] matrix. */
export function drawThetas(mean: Float64Array, factor: Float64Array, d: number, m: number, random: Uniform): Float64Array {
  const thetas = new Float64Array(m * d);
  const z = new Float64Array(d);
  const out = new Float64Array(d);
  for (let s = 0; s < m; s++) {
    fillStandardNormals(z, random);
    lowerTimes(factor, d, z, out);
    for (let i = 0; i < d; i++) thetas[s * d + i] = mean[i]! + out[i]!;
  }
  return thetas;
}

/**
 * Thompson win shares among `eligible` candidates: scores[i][s] = phi_i . theta_s, and each
 * draw s gives its win to the argmax. phi is row-major [n, d].
 */
export function thompsonShares(phi: Float32Array, d: number, thetas: Float64Array, m: number, eligible: readonly number[]): Float64Array {
  const shares = new Float64Array(eligible.length);
  for (let s = 0; s < m; s++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < eligible.length; k++) {
      const row = eligible[k]! * d;
      let score = 0;
      for (let j = 0; j < d; j++) score += phi[row + j]! * thetas[s * d + j]!;
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    shares[best]! += 1 / m;
  }
  return shares;
}

/**
 * Thompson win shares among `eligible` candidates straight from the posterior (mean and lower
 * Cholesky factor L): each draw's theta is mean + L z, so a candidate's score is
 * phi . mean + (phi L) . z. phi . mean and phi L are computed once per decision, and each of the
 * `m` draws costs d normals and n d products, not d^2 more for L z (a third of a decision's
 * scoring at 40 candidates and d = 22). The draws of z are the ones drawThetas makes, in order.
 * With offsets, each draw of the head is taken with a draw of every candidate's multiplier.
 */
export function thompsonSharesFromPosterior(
  phi: Float32Array,
  d: number,
  mean: Float64Array,
  factor: Float64Array,
  m: number,
  eligible: readonly number[],
  random: Uniform,
  multipliers: ((random: Uniform) => Float64Array) | null = null,
): Float64Array {
  return sharesOfScoreDraws(headScoreDraws(phi, d, mean, factor, m, eligible, random), 1, random, multipliers);
}

/** A head's scores in posterior draws: phi . mean (`base`, [n]) plus `noise`, (phi L) z (row-major [m, n]: draw s, candidate k). */
export interface ScoreDraws {
  base: Float64Array;
  noise: Float64Array;
}

/**
 * The head's scores of the `eligible` candidates in `m` posterior draws. Kept with a decision,
 * they let a model with the same features and mean and a covariance that is this one's times
 * c^2 (the trainer narrows a head it cannot learn) be scored on the same draws, as base + c
 * noise: common random numbers, a tighter paired comparison at the cost of the multipliers alone.
 */
export function headScoreDraws(
  phi: Float32Array,
  d: number,
  mean: Float64Array,
  factor: Float64Array,
  m: number,
  eligible: readonly number[],
  random: Uniform,
): ScoreDraws {
  const n = eligible.length;
  const base = new Float64Array(n);
  const projected = new Float64Array(n * d); // row k: phi_k L
  for (let k = 0; k < n; k++) {
    const row = eligible[k]! * d;
    let b = 0;
    for (let i = 0; i < d; i++) {
      const x = phi[row + i]!;
      if (x === 0) continue;
      b += x * mean[i]!;
      const l = i * d;
      for (let j = 0; j <= i; j++) projected[k * d + j]! += x * factor[l + j]!;
    }
    base[k] = b;
  }
  const noise = new Float64Array(m * n);
  const z = new Float64Array(d);
  for (let s = 0; s < m; s++) {
    fillStandardNormals(z, random);
    const out = s * n;
    for (let k = 0; k < n; k++) {
      let score = 0;
      const row = k * d;
      for (let j = 0; j < d; j++) score += projected[row + j]! * z[j]!;
      noise[out + k] = score;
    }
  }
  return { base, noise };
}

/**
 * Win shares from score draws (headScoreDraws; scores base + `scale` x noise): each draw gives
 * its win to the argmax, after drawing every candidate's offset multiplier with it when there are
 * offsets (so the shares estimate the policy's probabilities over both, and a decision drawn
 * from them is the policy's).
 */
export function sharesOfScoreDraws(
  draws: ScoreDraws,
  scale: number,
  random: Uniform,
  multipliers: ((random: Uniform) => Float64Array) | null = null,
): Float64Array {
  const { base, noise } = draws;
  const n = base.length;
  const m = noise.length / n;
  const shares = new Float64Array(n);
  for (let s = 0; s < m; s++) {
    const drawn = multipliers ? multipliers(random) : null;
    const row = s * n;
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < n; k++) {
      let score = base[k]! + scale * noise[row + k]!;
      // Offsets scale a predicted click rate: the score is taken as one first (at least a hair above 0).
      if (drawn) score = Math.max(score, MIN_PREDICTION) * drawn[k]!;
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    shares[best]! += 1 / m;
  }
  return shares;
}

/**
 * c when `factor` is `reference` times c > 0 (to float32 precision: both come from weights.bin),
 * else null: the covariance of one head is the other's times c^2.
 */
export function factorScale(factor: Float64Array, reference: Float64Array): number | null {
  if (factor.length !== reference.length) return null;
  let top = 0;
  let at = -1;
  for (let i = 0; i < reference.length; i++) {
    if (Math.abs(reference[i]!) > top) {
      top = Math.abs(reference[i]!);
      at = i;
    }
  }
  if (at < 0) return null;
  const c = factor[at]! / reference[at]!;
  if (!(c > 0)) return null;
  const tolerance = 1e-5 * c * top;
  for (let i = 0; i < reference.length; i++) if (Math.abs(factor[i]! - c * reference[i]!) > tolerance) return null;
  return c;
}

/** The least predicted click rate an offset multiplies (a head score at or below 0 is "almost never"). */
const MIN_PREDICTION = 1e-4;

/**
 * One draw of each eligible candidate's offset multiplier, exp(mean + sd x N(0, 1)) (protocol/offsets.ts),
 * written into `into`.
 */
export function drawMultipliers(
  logOffsets: readonly { mean: number; sd: number }[],
  random: Uniform,
  into = new Float64Array(logOffsets.length),
): Float64Array {
  // The normals are drawn into `into` (in pairs), then each becomes its multiplier in place.
  fillStandardNormals(into, random, 0, logOffsets.length);
  for (let k = 0; k < logOffsets.length; k++) {
    const o = logOffsets[k]!;
    into[k] = Math.exp(o.mean + (o.sd > 0 ? o.sd * into[k]! : 0));
  }
  return into;
}

/** A Gamma(shape, 1) draw (Marsaglia and Tsang 2000; shape below 1 boosted by U^(1/shape)). */
export function gammaDraw(shape: number, random: Uniform): number {
  if (shape < 1) return gammaDraw(shape + 1, random) * (1 - random()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Softmax of prior scores (popularity) for when there is no model: still a proper distribution. */
export function softmaxShares(scores: readonly number[], temperature: number): Float64Array {
  const max = Math.max(...scores);
  const e = scores.map((s) => Math.exp((s - max) / temperature));
  const total = e.reduce((a, b) => a + b, 0);
  return Float64Array.from(e, (x) => x / total);
}

/** p = (1 - floor) q + floor / n. */
export function withFloor(shares: Float64Array, floor: number): Float64Array {
  const n = shares.length;
  return shares.map((q) => (1 - floor) * q + floor / n);
}

/** Draws an index from `probabilities` (summing to 1). */
export function sampleIndex(probabilities: Float64Array, random: Uniform): number {
  let u = random();
  for (let i = 0; i < probabilities.length; i++) {
    u -= probabilities[i]!;
    if (u < 0) return i;
  }
  return probabilities.length - 1; // rounding: the mass left over belongs to the last
}
