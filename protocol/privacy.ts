/**
 * Differential privacy, in one place: how a device bounds what it contributes to a round
 * (clipping), how the round's Durable Object noises the sums it releases (the Gaussian
 * mechanism), and how the trainer accounts for what all released rounds cost (Renyi DP).
 *
 * The unit of privacy is one device's report in one round (a device sends at most one per round,
 * see the ledger in widget/engine/report-outbox.ts). A report has up to four parts, each clipped
 * to its own L2 bound C: per-creative counts (`countClip`), the last layer's statistics
 * (`headClip`), the off-policy sums of the serving and candidate models (`opeClip`) and the
 * towers' gradient (`towerClip`). The object adds N(0, (z C)^2) to every released coordinate of
 * a part. Each part is a Gaussian mechanism with noise multiplier z, and they compose exactly in
 * Gaussian differential privacy (gaussian-dp.ts).
 */
import { composedMu, gdpEpsilon } from './gaussian-dp.ts';
import { cryptoBytes } from './discrete-noise.ts';
import { DEFAULT_OFFSET_CLIP } from './offsets.ts';

export interface PrivacyTerms {
  /** L2 bound of one report's head statistics [n, upper(sum phi phi^T), sum r phi]. */
  headClip: number;
  /** L2 bound of one report's per-creative counts (protocol/outcome-counts.ts: impressions, clicks, conversions, dismissals, value). */
  countClip: number;
  /**
   * The site's currency per unit of a count's `value` (revenue): one device's attributed order
   * value counts at most countClip x valueUnit in a round (200 at the defaults), and each
   * creative's released value carries noise of z x countClip units.
   */
  valueUnit: number;
  /** L2 bound of one report's off-policy sums, all models' together (protocol/off-policy.ts). */
  opeClip: number;
  /** L2 bound of one report's gradient of the towers' weights (protocol/tower-gradient.ts). */
  towerClip: number;
  /** L2 bound of one report's offsets part (protocol/offsets.ts): clicks and expected clicks per cell and creative. */
  offsetClip: number;
  /** Noise standard deviation over the clipping bound. */
  noiseMultiplier: number;
}

/**
 * z = 5: a round's release of all four parts (four mechanisms) costs epsilon 1.77 at delta 1e-6,
 * and ten rounds 6.40, inside the default budget of 8 (exact GDP accounting; the RDP bound said
 * 7.45). At z = 3.5 ten such rounds would cost 9.73.
 * headClip, opeClip and offsetClip sit near what devices send, not above their heaviest: the noise
 * is z times the bound on every released number, whatever most devices send, while a device over
 * the bound is only scaled down (weighted less), never dropped. The simulator's devices (two
 * decisions a round) send head statistics of norm 6 (median; 7 at the 90th percentile), off-policy
 * sums of 4.0 (4.3; more with candidates under evaluation) and offsets of 0.33 (1.48); at four
 * decisions 11 (14), 8.1 (8.7) and 0.70 (2.06). At the bounds of 40, 50 and 3 chosen before (ten
 * or so decisions unclipped), a small shop's gate saw intervals of +-24 click-rate points at its
 * first look against +-2.4 at bounds near the norms, 95% of their variance release noise, and
 * never promoted in ten rounds (docs/lab/learning-at-a-small-shop.md). So: 10, 10 and 1.5; a shop
 * whose shoppers see many ads a day can raise them (site settings), at the price of more noise.
 * headClip: one shown decision adds about |phi|^2 to the statistics' norm; models scale u * v to
 * unit size (fit-two-tower.ts), so |phi|^2 is about 3.5.
 * countClip: ten or so outcomes per device and round before counts are scaled down.
 * valueUnit: 20 of the site's currency, so a typical order (a few tens) is a few units and takes
 * a small share of countClip beside the device's other counts; a shop whose currency or orders
 * are much larger or smaller sets its own (a site setting).
 * opeClip: a shown decision adds about 1 to three of the five sums of each model evaluated (more
 * when its importance weight is above 1).
 * towerClip: at the demo's bootstrap model, 15 decisions give a device gradient of L2 norm 0.1
 * (median) to 0.2 (90th percentile) (measured over 200 synthetic devices); 0.25 leaves most
 * devices unclipped. The noise is z x 0.25 per weight, so a towers step needs the gradients of
 * thousands of devices to agree (fit skips it otherwise).
 */
export const DEFAULT_PRIVACY: PrivacyTerms = {
  headClip: 10,
  countClip: 10,
  valueUnit: 20,
  opeClip: 10,
  towerClip: 0.25,
  offsetClip: DEFAULT_OFFSET_CLIP,
  noiseMultiplier: 5,
};

/**
 * A release's count vector: contributors and each part's reports ([contributors, head, ope,
 * towers]). A device adds at most 1 to each, so its L2 sensitivity is 2; noised at twice the
 * round's multiplier (standard deviation 4 z), it is a Gaussian mechanism with multiplier 2 z,
 * which composes like a quarter of one at z (1 / (2 z)^2 = 0.25 / z^2). It is drawn and charged
 * first, when a closed round is counted (the cohort check is made on it), so a round found below
 * K costs this quarter and nothing more.
 */
export const COUNT_VECTOR_SENSITIVITY = 2;
export const COUNT_VECTOR_MULTIPLIER = 2;
export const COUNT_MECHANISMS = 1 / (COUNT_VECTOR_MULTIPLIER * COUNT_VECTOR_MULTIPLIER);

/** Mechanisms a released round holds beside its count vector while a model serves and every part is collected: counts, head statistics, off-policy sums, tower gradients, offsets (without a model, the counts alone: 1; protocol/report-parts.ts says which parts a site collects). */
export const RELEASE_MECHANISMS = 5;

/** delta of every site's (epsilon, delta) guarantee: well below 1 / the number of shoppers of any shop. */
export const PRIVACY_DELTA = 1e-6;

/**
 * Relative slack around a clipping bound: a device clips to just under it and the edge accepts
 * up to just over it, so rounding on either side never refuses an honest report (and nothing
 * meaningfully larger is admitted).
 */
export const CLIP_SLACK = 1e-9;

/** The norm a device clips a part to: just under its bound. */
export const clipTarget = (bound: number): number => bound * (1 - CLIP_SLACK);

/** Whether the edge accepts a part of this norm under this bound. */
export const withinBound = (norm: number, bound: number): boolean => norm <= bound * (1 + CLIP_SLACK);

/**
 * The noise multipliers `mechanisms` Gaussian mechanisms at multiplier `z` compose like, for the
 * accountant: whole mechanisms at z, and a fraction f as one mechanism at z / sqrt(f) (exact in
 * Gaussian DP, where only the sum of 1 / z^2 counts). 4.25 at z = 5: four at 5 and one at 10.
 */
export function mechanismMultipliers(mechanisms: number, z: number): number[] {
  const whole = Math.floor(mechanisms + 1e-9);
  const fraction = mechanisms - whole;
  const list = new Array<number>(whole).fill(z);
  if (fraction > 1e-9) list.push(z / Math.sqrt(fraction));
  return list;
}

export function l2Norm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]! * values[i]!;
  return Math.sqrt(s);
}

/** Scales `values` down (never up) to L2 norm at most `bound`. */
export function clipToNorm(values: Float64Array, bound: number): Float64Array {
  const norm = l2Norm(values);
  if (norm <= bound || norm === 0) return values;
  const scale = bound / norm;
  return values.map((x) => x * scale);
}

/**
 * Integer counts clipped to L2 norm at most `bound`, and still counts: taken in order while the
 * squared norm allows, each cut to what is left (scaling and rounding down instead would wipe out
 * a device with many single outcomes entirely). The callers order entries randomly (decision ids
 * are random), so what a heavy device loses is not always the same creatives.
 */
export function clipCounts(counts: number[], bound: number): number[] {
  if (l2Norm(counts) <= bound) return counts;
  let room = bound * bound;
  return counts.map((x) => {
    const taken = Math.min(x, Math.floor(Math.sqrt(room)));
    room -= taken * taken;
    return taken;
  });
}

/** A standard normal draw from two uniforms in (0, 1]. */
export function standardNormal(uniform: () => number): number {
  const u = 1 - uniform();
  const v = uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Uniforms in [0, 1) from the platform's cryptographic generator: noise nobody can predict or replay. */
export function cryptoUniform(): number {
  // Eight bytes of the pooled generator (discrete-noise.ts cryptoBytes: a call to getRandomValues per draw was most of its cost).
  const b = cryptoBytes(8);
  const high = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const low = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
  return (high * 2 ** 21 + (low >>> 11)) / 2 ** 53;
}

/** `values` plus independent N(0, std^2) noise on every coordinate. */
export function addGaussianNoise(values: ArrayLike<number>, std: number, uniform: () => number = cryptoUniform): number[] {
  return Array.from(values, (x) => x + std * standardNormal(uniform));
}

/** Renyi DP of one Gaussian mechanism with noise multiplier z, at order alpha: alpha / (2 z^2). */
export function gaussianRdp(alpha: number, noiseMultiplier: number): number {
  return alpha / (2 * noiseMultiplier * noiseMultiplier);
}

const ORDERS = [1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 48, 64, 96, 128, 256, 512, 1024];

/**
 * The classic Renyi-DP bound (Mironov 2017, Proposition 3): epsilon = min over orders of the
 * summed RDP + log(1/delta) / (alpha - 1). Correct but loose for Gaussian mechanisms (7.45 where
 * the exact account says 6.40 for ten rounds of four mechanisms at z = 5); kept to compare with,
 * the ledger uses `epsilonSpent`.
 */
export function rdpEpsilon(noiseMultipliers: readonly number[], delta: number): number {
  if (noiseMultipliers.length === 0) return 0;
  let best = Infinity;
  for (const alpha of ORDERS) {
    let rdp = 0;
    for (const z of noiseMultipliers) rdp += gaussianRdp(alpha, z);
    best = Math.min(best, rdp + Math.log(1 / delta) / (alpha - 1));
  }
  return best;
}

/**
 * (epsilon, delta) after the given releases, each a Gaussian mechanism with its noise multiplier
 * (a round's release is four: counts, head statistics, off-policy sums, tower gradient),
 * accounted exactly: the composition is mu-GDP with mu = sqrt(sum 1/z^2), converted to epsilon at
 * `delta` with the tight GDP curve (gaussian-dp.ts).
 */
export function epsilonSpent(noiseMultipliers: readonly number[], delta: number): { epsilon: number; mu: number } {
  const mu = composedMu(noiseMultipliers);
  return { epsilon: gdpEpsilon(mu, delta), mu };
}
