import { describe, expect, it } from 'vitest';
import { accumulate, emptyStatistics, isotropicPrior, posterior } from '../../model-training/src/bayesian-head.ts';
import { cholesky, NotPositiveDefinite, spdInverse } from '../../protocol/linalg.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';

function syntheticRows(n: number, theta: number[], noise: number, seed: number) {
  const random = seededRandom(seed);
  const d = theta.length;
  const phi = new Float64Array(n * d);
  const rewards = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let y = 0;
    for (let j = 0; j < d; j++) {
      phi[r * d + j] = random() * 2 - 1;
      y += phi[r * d + j]! * theta[j]!;
    }
    rewards[r] = y + noise * (random() - 0.5);
  }
  return { phi, rewards };
}

describe('linear algebra', () => {
  it('fails loudly on a matrix that is not positive definite, instead of adding jitter', () => {
    expect(() => cholesky([1, 2, 2, 1], 2)).toThrow(NotPositiveDefinite);
    expect(() => cholesky([1, 0, 0, 0], 2)).toThrow(/not positive definite \(pivot 1 of 2/);
    expect(() => spdInverse([0], 1)).toThrow(NotPositiveDefinite);
  });

  it('factors and inverts a symmetric positive-definite matrix', () => {
    const a = [4, 2, 0.4, 2, 5, 1, 0.4, 1, 3];
    const l = cholesky(a, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += l[i * 3 + k]! * l[j * 3 + k]!;
        expect(s).toBeCloseTo(a[i * 3 + j]!, 10);
      }
    const inv = spdInverse(a, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += a[i * 3 + k]! * inv[k * 3 + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 10);
      }
  });
});

describe('Bayesian last layer', () => {
  it('recovers the true weights from enough data', () => {
    const truth = [0.5, -0.2, 0.1];
    const { phi, rewards } = syntheticRows(20_000, truth, 0.1, 9);
    const stats = emptyStatistics(3);
    accumulate(stats, phi, rewards, 20_000);
    const post = posterior(isotropicPrior(3, 1), stats, 0.01);
    truth.forEach((t, i) => expect(post.mean[i]).toBeCloseTo(t, 2));
    expect(post.covariance[0]).toBeLessThan(1e-4);
  });

  it('is exact under aggregation: summed statistics from many devices give the pooled posterior', () => {
    const { phi, rewards } = syntheticRows(3000, [0.3, 0.7], 0.2, 4);
    const pooled = emptyStatistics(2);
    accumulate(pooled, phi, rewards, 3000);
    const summed = emptyStatistics(2);
    for (let device = 0; device < 30; device++) {
      const mine = emptyStatistics(2);
      accumulate(mine, phi.subarray(device * 200, device * 200 + 200), rewards.subarray(device * 100, device * 100 + 100), 100);
      summed.phiPhi.forEach((_, i) => (summed.phiPhi[i]! += mine.phiPhi[i]!));
      summed.rewardPhi.forEach((_, i) => (summed.rewardPhi[i]! += mine.rewardPhi[i]!));
      summed.count += mine.count;
    }
    const a = posterior(isotropicPrior(2, 1), pooled, 0.04);
    const b = posterior(isotropicPrior(2, 1), summed, 0.04);
    expect(summed.count).toBe(pooled.count);
    a.mean.forEach((m, i) => expect(b.mean[i]).toBeCloseTo(m, 9));
    a.covariance.forEach((c, i) => expect(b.covariance[i]).toBeCloseTo(c, 12));
  });
});
