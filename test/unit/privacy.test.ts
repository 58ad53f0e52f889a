import { describe, expect, it } from 'vitest';
import { addGaussianNoise, clipCounts, clipToNorm, epsilonSpent, l2Norm, rdpEpsilon } from '../../protocol/privacy.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { headDimOfStats, headStatsLength } from '../../protocol/head-statistics.ts';

describe('clipping', () => {
  it('scales a vector over the bound down to the bound, and leaves one under it alone', () => {
    const over = clipToNorm(Float64Array.from([3, 4, 12]), 6.5);
    expect(l2Norm(over)).toBeCloseTo(6.5, 10);
    expect(over[1]! / over[0]!).toBeCloseTo(4 / 3, 10);
    const under = Float64Array.from([0.1, 0.2]);
    expect(clipToNorm(under, 1)).toBe(under);
  });

  it('clips integer counts to the bound without making any larger', () => {
    const counts = [30, 40, 5, 0];
    const clipped = clipCounts(counts, 10);
    expect(l2Norm(clipped)).toBeLessThanOrEqual(10);
    clipped.forEach((c, i) => {
      expect(Number.isInteger(c)).toBe(true);
      expect(c).toBeLessThanOrEqual(counts[i]!);
    });
    expect(clipCounts([1, 2], 10)).toEqual([1, 2]);
  });

  it('keeps as many single counts as the bound allows instead of wiping them all out', () => {
    const clipped = clipCounts(new Array(300).fill(1), 10);
    expect(clipped.filter((c) => c === 1)).toHaveLength(100);
    expect(l2Norm(clipped)).toBeCloseTo(10, 12);
  });

  it('packs head statistics for dimension d in 1 + d(d+1)/2 + d numbers, and back', () => {
    expect(headStatsLength(21)).toBe(1 + 231 + 21);
    expect(headDimOfStats(headStatsLength(21))).toBe(21);
    expect(headDimOfStats(7)).toBeNull();
  });
});

describe('the Gaussian mechanism', () => {
  it('adds noise with mean 0 and the standard deviation asked for (checked on 20,000 draws)', () => {
    const n = 20_000;
    const std = 2.5;
    const noised = addGaussianNoise(new Float64Array(n), std, seededRandom(11));
    const mean = noised.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(noised.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    // Standard errors: std / sqrt(n) = 0.018 for the mean, about std / sqrt(2n) = 0.0125 for the sd.
    expect(Math.abs(mean)).toBeLessThan(4 * 0.018);
    expect(Math.abs(sd - std)).toBeLessThan(4 * 0.0125);
    // And it is Gaussian: about 68.3% within one sd, 95.4% within two.
    const within = (k: number) => noised.filter((x) => Math.abs(x) <= k * std).length / n;
    expect(within(1)).toBeCloseTo(0.6827, 1);
    expect(within(2)).toBeCloseTo(0.9545, 1);
  });
});

describe('the Renyi DP bound (kept to compare with the exact GDP account, gaussian-dp.test.ts)', () => {
  /** With alpha free, min over alpha of T alpha / (2 z^2) + L / (alpha - 1) is T/(2z^2) + 2 sqrt(T L / (2 z^2)). */
  const continuousOptimum = (rounds: number, z: number, delta: number) => {
    const a = rounds / (2 * z * z);
    const l = Math.log(1 / delta);
    return a + 2 * Math.sqrt(a * l);
  };

  it('matches the closed-form optimum over orders within the grid of orders it searches', () => {
    for (const [rounds, z, delta] of [
      [1, 1, 1e-5],
      [10, 1.1, 1e-6],
      [100, 2, 1e-6],
      [4, 0.8, 1e-6],
    ] as const) {
      const epsilon = rdpEpsilon(new Array(rounds).fill(z), delta);
      const exact = continuousOptimum(rounds, z, delta);
      expect(epsilon).toBeGreaterThanOrEqual(exact - 1e-9);
      expect(epsilon).toBeLessThan(exact * 1.03);
    }
  });

  it('a known value: one Gaussian release with z = 1 at delta = 1e-5 costs epsilon of about 5.30 (alpha about 5.8)', () => {
    expect(continuousOptimum(1, 1, 1e-5)).toBeCloseTo(5.298, 2);
    expect(rdpEpsilon([1], 1e-5)).toBeCloseTo(5.3, 1);
    // The exact account of the same release (Gaussian DP) is 4.38: what the ledger spends.
    expect(epsilonSpent([1], 1e-5).epsilon).toBeCloseTo(4.377, 3);
  });

  it('spends more with more releases and less with more noise; nothing released spends nothing', () => {
    expect(epsilonSpent([], 1e-6).epsilon).toBe(0);
    expect(epsilonSpent([1, 1, 1], 1e-6).epsilon).toBeGreaterThan(epsilonSpent([1, 1], 1e-6).epsilon);
    expect(epsilonSpent([2, 2], 1e-6).epsilon).toBeLessThan(epsilonSpent([1, 1], 1e-6).epsilon);
  });
});
