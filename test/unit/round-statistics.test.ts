import { describe, expect, it } from 'vitest';
import { addGaussianNoise, l2Norm, standardNormal } from '../../protocol/privacy.ts';
import { towerStep } from '../../model-training/src/round-training.ts';
import type { SavedRound } from '../../model-training/src/round-training.ts';
import { accumulate, emptyStatistics, isotropicPrior, posterior, posteriorUnderReleaseNoise } from '../../model-training/src/bayesian-head.ts';
import { centeredOnPrior, checkSignal, NotEnoughSignal, poolHeads } from '../../model-training/src/round-statistics.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { headStatistics } from '../../widget/engine/report-outbox.ts';

const d = 4;
const trueTheta = [0.3, -0.2, 0.1, 0.05];

/** n examples: phi random in [0, 1)^d, reward Bernoulli-free (linear + small noise), as a device would log. */
function examples(n: number, seed: number) {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const phi = Array.from({ length: d }, () => random());
    const reward = phi.reduce((s, x, i) => s + x * trueTheta[i]!, 0) + 0.05 * (random() - 0.5);
    return { phi, reward };
  });
}

describe('pooling released rounds into sufficient statistics', () => {
  it('unpacks the packed device statistics into exactly what accumulate() computes', () => {
    const rows = examples(50, 1);
    const devices = [rows.slice(0, 20), rows.slice(20)];
    const heads = devices.map((ex, i) => ({ round: 10 + i, modelVersion: 'm', reports: 1, stats: Array.from(headStatistics(ex, d)), noiseStd: 0 }));
    const pooled = poolHeads(heads, 'm'); // noiseStd 0: no diagonal shift
    const exact = emptyStatistics(d);
    accumulate(exact, rows.flatMap((r) => r.phi), rows.map((r) => r.reward), rows.length);
    expect(pooled.count).toBe(50);
    pooled.phiPhi.forEach((x, i) => expect(x).toBeCloseTo(exact.phiPhi[i]!, 9));
    pooled.rewardPhi.forEach((x, i) => expect(x).toBeCloseTo(exact.rewardPhi[i]!, 9));
    expect(pooled.rounds).toEqual([10, 11]);
  });

  it('only pools rounds released for the model asked about', () => {
    const stats = Array.from(headStatistics(examples(5, 2), d));
    expect(() => poolHeads([{ round: 1, modelVersion: 'other', reports: 1, stats, noiseStd: 1 }], 'm')).toThrow(NotEnoughSignal);
  });

  it('with noise well below the signal, the posterior mean lands near the noiseless one and the truth', () => {
    const rows = examples(20_000, 3);
    const exact = headStatistics(rows, d);
    const noiseStd = 5;
    const noised = addGaussianNoise(exact, noiseStd, seededRandom(4));
    const pooled = poolHeads([{ round: 1, modelVersion: 'm', reports: 1000, stats: noised, noiseStd }], 'm');
    expect(() => checkSignal(pooled)).not.toThrow();
    const prior = isotropicPrior(d, 1);
    const fromNoised = posterior(prior, pooled, 0.01);
    const clean = poolHeads([{ round: 1, modelVersion: 'm', reports: 1000, stats: Array.from(exact), noiseStd: 0 }], 'm');
    const fromExact = posterior(prior, clean, 0.01);
    fromNoised.mean.forEach((x, i) => {
      expect(Math.abs(x - fromExact.mean[i]!)).toBeLessThan(0.02);
      expect(Math.abs(x - trueTheta[i]!)).toBeLessThan(0.03);
    });
  });

  it('keeps directions the data is thin in at the serving model, not at zero, when noise shifts the diagonal', () => {
    // Feature 3 is sparse (on in 2% of examples), as a brand-match cross feature is; the data
    // agree with the prior mean. Noise of 40 per statistic shifts the diagonal by 3 x 40 x 2 = 240.
    const priorMean = [0.3, -0.2, 0.1, 0.8];
    const random = seededRandom(8);
    const rows = Array.from({ length: 5000 }, () => {
      const phi = [random(), random(), 1, random() < 0.02 ? 1 : 0];
      return { phi, reward: phi.reduce((s, x, i) => s + x * priorMean[i]!, 0) };
    });
    const pooled = poolHeads([{ round: 1, modelVersion: 'm', reports: 500, stats: Array.from(headStatistics(rows, d)), noiseStd: 40 }], 'm');
    expect(pooled.shift).toBeCloseTo(240, 9);
    const prior = { dim: d, mean: Float64Array.from(priorMean), covariance: isotropicPrior(d, 0.01).covariance };
    const centered = posterior(prior, centeredOnPrior(pooled, priorMean), 0.01);
    centered.mean.forEach((x, i) => expect(x).toBeCloseTo(priorMean[i]!, 6));
    // Without centering, the sparse feature's weight collapses towards zero.
    const towardsZero = posterior(prior, pooled, 0.01);
    expect(towardsZero.mean[3]!).toBeLessThan(0.5 * priorMean[3]!);
  });

  it('weighs the statistics by what the release noise leaves of them: exact without noise, closer to the truth than ignoring the noise with it', () => {
    // A model that is right about features 0-2 and wrong about the sparse feature 3 (the serving
    // model's prior), then one round of devices whose rewards follow the truth.
    const truth = [0.05, 0.02, 0.01, 0.15];
    const prior = { dim: d, mean: Float64Array.from([0.05, 0.02, 0.01, 0.05]), covariance: isotropicPrior(d, 0.0004).covariance };
    const rows = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 4000 }, () => {
        const phi = [random(), random(), 1, random() < 0.1 ? 1 : 0];
        const p = phi.reduce((s, x, i) => s + x * truth[i]!, 0);
        return { phi, reward: random() < p ? 1 : 0 };
      });
    };
    const exact = headStatistics(rows(20), d);
    const clean = poolHeads([{ round: 1, modelVersion: 'm', reports: 2000, stats: Array.from(exact), noiseStd: 0 }], 'm');
    const same = posteriorUnderReleaseNoise(prior, clean, 0.1, 0);
    const plain = posterior(prior, clean, 0.1);
    same.mean.forEach((x, i) => expect(x).toBeCloseTo(plain.mean[i]!, 12));
    // Over 40 noised releases (noise 60 per statistic: clicks are ~400, so sum r phi is noisy),
    // the noise-aware mean's squared error is below the plain one's.
    let aware = 0;
    let unaware = 0;
    for (let seed = 0; seed < 40; seed++) {
      const stats = addGaussianNoise(headStatistics(rows(100 + seed), d), 60, seededRandom(200 + seed));
      const pooled = centeredOnPrior(poolHeads([{ round: 1, modelVersion: 'm', reports: 2000, stats, noiseStd: 60 }], 'm'), prior.mean);
      const error = (m: Float64Array) => m.reduce((s, x, i) => s + (x - truth[i]!) ** 2, 0);
      aware += error(posteriorUnderReleaseNoise(prior, pooled, 0.1, 60).mean);
      unaware += error(posterior(prior, pooled, 0.1).mean);
    }
    expect(aware).toBeLessThan(unaware);
  });

  it('refuses statistics the noise drowns, saying how many examples stand under how much noise', () => {
    const stats = addGaussianNoise(headStatistics(examples(30, 5), d), 7000, seededRandom(6));
    const pooled = poolHeads([{ round: 7, modelVersion: 'm', reports: 5, stats, noiseStd: 7000 }], 'm');
    expect(() => checkSignal(pooled)).toThrow(/noise deviations.*wait for more rounds or more devices/);
  });
});

describe('the towers\' federated-averaging step', () => {
  const P = 500;
  const base = 'aaaaaaaaaaaaaaaa';
  const direction = Float64Array.from({ length: P }, (_, i) => Math.cos(i));
  const round = (r: number, sums: number[], reports: number, std: number): SavedRound => ({
    round: r,
    head: null,
    towers: { modelVersion: base, reports, sums },
    noise: { headStd: 1, towerStd: std },
  });

  it('steps against the average device gradient when it stands above the noise', () => {
    const random = seededRandom(4);
    // 1,000 devices whose gradients agree on `direction`, noise sd 1 per weight.
    const rounds = [1, 2].map((r) => round(r, Array.from(direction, (x) => 500 * x + standardNormal(random)), 500, 1));
    const step = towerStep(rounds, base, P, 0.5);
    expect(step.skipped).toBeNull();
    expect(step.reports).toBe(1000);
    expect(step.rounds).toEqual([1, 2]);
    const cosine = step.step!.reduce((s, x, i) => s + x * direction[i]!, 0) / (step.stepNorm * l2Norm(direction));
    expect(cosine).toBeLessThan(-0.99); // downhill
    expect(step.stepNorm).toBeCloseTo(0.5 * l2Norm(direction), 1);
  });

  it('keeps the towers when the noise is as large as the signal, or no round carries gradients for the model', () => {
    const random = seededRandom(5);
    const noisy = [round(1, Array.from(direction, (x) => 0.2 * x + 3 * standardNormal(random)), 40, 3)];
    expect(towerStep(noisy, base, P, 0.5)).toMatchObject({ step: null, reports: 40, skipped: expect.stringContaining('noise is as large') });
    expect(towerStep(noisy, 'bbbbbbbbbbbbbbbb', P, 0.5)).toMatchObject({ step: null, skipped: expect.stringContaining('no released round') });
  });
});
