/**
 * The noise a round's release gets, as one pure function of the round's exact sums: the round's
 * Durable Object calls it once per round (round-aggregator.ts), and the privacy audit
 * (test/unit/privacy-audit.test.ts) calls it thousands of times with and without a canary
 * device, so what is audited is what is released.
 *
 * Counts are integers and get discrete Gaussian noise (exact integer sampling); the real-valued
 * sums (head statistics, off-policy sums, tower gradients) get Gaussian noise and are snapped to
 * a grid and clamped, so no bit below the grid leaves (protocol/discrete-noise.ts).
 */
import { addDiscreteGaussianNoise, cryptoBytes, snap, snappingGrid } from '../../protocol/discrete-noise.ts';
import type { RandomBytes } from '../../protocol/discrete-noise.ts';
import { cryptoUniform, standardNormal } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';

/** Released real values are clamped to this magnitude before snapping: a fixed range, whatever the data. */
export const RELEASE_CLAMP = 2 ** 40;

export interface ExactSums {
  /** Per-creative counts in COUNT_FIELDS' order (protocol/outcome-counts.ts), flattened. */
  counts: number[];
  head: number[] | null;
  ope: number[][];
  towers: Float64Array | null;
  /** Offsets [clicks, expected] per key, flattened (absent: not released). */
  offsets?: number[] | null;
}

export interface NoisedSums {
  counts: number[];
  head: number[] | null;
  ope: number[][];
  towers: number[] | null;
  offsets: number[] | null;
}

export interface NoiseSources {
  bytes: RandomBytes;
  uniform: () => number;
}

const CRYPTO: NoiseSources = { bytes: cryptoBytes, uniform: cryptoUniform };

/** Gaussian noise of standard deviation `std` on each value, then snapped to the grid that std calls for. */
function noisedReals(values: ArrayLike<number>, std: number, uniform: () => number): number[] {
  const grid = snappingGrid(std);
  return Array.from(values, (x) => snap(x + std * standardNormal(uniform), grid, RELEASE_CLAMP));
}

/** Every part noised with its own bound times the multiplier: each part is one Gaussian mechanism. */
export function noisedRelease(exact: ExactSums, privacy: PrivacyTerms, sources: NoiseSources = CRYPTO): NoisedSums {
  const z = privacy.noiseMultiplier;
  return {
    counts: addDiscreteGaussianNoise(exact.counts, z * privacy.countClip, sources.bytes),
    head: exact.head && noisedReals(exact.head, z * privacy.headClip, sources.uniform),
    ope: exact.ope.map((sums) => noisedReals(sums, z * privacy.opeClip, sources.uniform)),
    towers: exact.towers && noisedReals(exact.towers, z * privacy.towerClip, sources.uniform),
    offsets: exact.offsets ? noisedReals(exact.offsets, z * privacy.offsetClip, sources.uniform) : null,
  };
}
