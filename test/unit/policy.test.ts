import { describe, expect, it } from 'vitest';
import { cholesky } from '../../protocol/linalg.ts';
import {
  drawThetas,
  factorScale,
  headScoreDraws,
  sampleIndex,
  sharesOfScoreDraws,
  softmaxShares,
  thompsonShares,
  thompsonSharesFromPosterior,
  withFloor,
} from '../../protocol/policy.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';

describe('exploring policy', () => {
  it('keeps every candidate at or above floor / n and sums to 1', () => {
    const p = withFloor(Float64Array.from([1, 0, 0, 0]), 0.01);
    for (const x of p) expect(x).toBeGreaterThanOrEqual(0.01 / 4);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('draws each index with exactly the logged probability (empirical frequencies)', () => {
    const p = Float64Array.from([0.5, 0.3, 0.15, 0.05]);
    const random = seededRandom(42);
    const counts = [0, 0, 0, 0];
    const n = 200_000;
    for (let i = 0; i < n; i++) counts[sampleIndex(p, random)]!++;
    counts.forEach((c, i) => {
      const sd = Math.sqrt((p[i]! * (1 - p[i]!)) / n);
      expect(Math.abs(c / n - p[i]!)).toBeLessThan(5 * sd);
    });
  });

  it('draws thetas with the posterior covariance', () => {
    const cov = [2, 0.6, 0.6, 1];
    const thetas = drawThetas(Float64Array.from([1, -1]), cholesky(cov, 2), 2, 40_000, seededRandom(3));
    let m0 = 0,
      m1 = 0;
    for (let s = 0; s < 40_000; s++) {
      m0 += thetas[2 * s]!;
      m1 += thetas[2 * s + 1]!;
    }
    m0 /= 40_000;
    m1 /= 40_000;
    let c00 = 0,
      c01 = 0;
    for (let s = 0; s < 40_000; s++) {
      c00 += (thetas[2 * s]! - m0) ** 2;
      c01 += (thetas[2 * s]! - m0) * (thetas[2 * s + 1]! - m1);
    }
    expect(m0).toBeCloseTo(1, 1);
    expect(m1).toBeCloseTo(-1, 1);
    expect(c00 / 40_000).toBeCloseTo(2, 1);
    expect(c01 / 40_000).toBeCloseTo(0.6, 1);
  });

  it('gives a clearly better candidate nearly all Thompson wins, and ties split evenly', () => {
    // phi rows: candidate 0 scores 1, candidate 1 scores 0 under theta = [1]; tight posterior.
    const phi = Float32Array.from([1, 0]);
    const tight = drawThetas(Float64Array.from([1]), cholesky([1e-6], 1), 1, 1000, seededRandom(1));
    const shares = thompsonShares(phi, 1, tight, 1000, [0, 1]);
    expect(shares[0]).toBeGreaterThan(0.99);
    // Two identical candidates with a wide posterior: about half each, never all to one.
    const wide = drawThetas(Float64Array.from([0, 0]), cholesky([1, 0, 0, 1], 2), 2, 4000, seededRandom(2));
    const even = thompsonShares(Float32Array.from([1, 0, 0, 1]), 2, wide, 4000, [0, 1]);
    expect(even[0]).toBeGreaterThan(0.45);
    expect(even[0]).toBeLessThan(0.55);
  });

  it('only ranks eligible candidates', () => {
    const phi = Float32Array.from([5, 1, 0]);
    const thetas = drawThetas(Float64Array.from([1]), cholesky([1e-6], 1), 1, 100, seededRandom(1));
    const shares = thompsonShares(phi, 1, thetas, 100, [1, 2]);
    expect(shares).toHaveLength(2);
    expect(shares[0]).toBeCloseTo(1, 5);
  });

  it('turns popularity into a proper distribution when there is no model', () => {
    const shares = softmaxShares([0.9, 0.1, 0.5], 0.25);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(shares[0]).toBeGreaterThan(shares[2]!);
    expect(shares[2]).toBeGreaterThan(shares[1]!);
  });

  it('the shares straight from the posterior are the shares of the very thetas drawThetas makes from the same stream', () => {
    const d = 4;
    const cov = [2, 0.3, 0, 0.1, 0.3, 1, 0.2, 0, 0, 0.2, 1.5, 0.4, 0.1, 0, 0.4, 1];
    const mean = Float64Array.from([0.2, -0.1, 0.05, 0.3]);
    const factor = cholesky(cov, d);
    const phi = Float32Array.from({ length: 6 * d }, (_, i) => Math.sin(i * 1.7));
    const eligible = [0, 2, 3, 5];
    const viaThetas = thompsonShares(phi, d, drawThetas(mean, factor, d, 3000, seededRandom(11)), 3000, eligible);
    const direct = thompsonSharesFromPosterior(phi, d, mean, factor, 3000, eligible, seededRandom(11));
    for (let k = 0; k < eligible.length; k++) expect(direct[k]).toBeCloseTo(viaThetas[k]!, 12);
    expect(direct.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it("a head whose covariance is another's times c^2 is scored on that one's draws as base + c noise: the same policy as its own draws give", () => {
    const d = 4;
    const cov = [2, 0.3, 0, 0.1, 0.3, 1, 0.2, 0, 0, 0.2, 1.5, 0.4, 0.1, 0, 0.4, 1];
    const mean = Float64Array.from([0.2, -0.1, 0.05, 0.3]);
    const factor = cholesky(cov, d);
    // The trainer narrows a head it cannot learn (variance x 0.01): the factor is the other's x 0.1, to float32 precision.
    const narrowed = cholesky(Array.from(Float32Array.from(cov, (x) => x * 0.01)), d);
    const c = factorScale(narrowed, factor);
    expect(c).toBeCloseTo(0.1, 6);
    expect(
      factorScale(
        Float64Array.from(narrowed, (x, i) => (i === 5 ? x * 1.01 : x)),
        factor,
      ),
    ).toBeNull();
    expect(
      factorScale(
        Float64Array.from(factor, (x) => -x),
        factor,
      ),
    ).toBeNull();
    const phi = Float32Array.from({ length: 6 * d }, (_, i) => Math.sin(i * 1.7) * 0.3);
    const eligible = [0, 2, 3, 5];
    const m = 40_000;
    const shared = sharesOfScoreDraws(headScoreDraws(phi, d, mean, factor, m, eligible, seededRandom(5)), c!, seededRandom(6));
    const own = thompsonSharesFromPosterior(phi, d, mean, narrowed, m, eligible, seededRandom(7));
    // Two Monte Carlo estimates of the same probabilities: within a few standard errors (sd <= 0.0025 at 40,000 draws).
    for (let k = 0; k < eligible.length; k++) expect(Math.abs(shared[k]! - own[k]!)).toBeLessThan(0.012);
    // And not the wide head's policy: the narrowed one differs from it where it matters.
    const wide = thompsonSharesFromPosterior(phi, d, mean, factor, m, eligible, seededRandom(8));
    expect(Math.max(...eligible.map((_, k) => Math.abs(wide[k]! - own[k]!)))).toBeGreaterThan(0.05);
  });
});
