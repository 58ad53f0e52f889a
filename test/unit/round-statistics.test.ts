import { describe, expect, it } from 'vitest';
import { addGaussianNoise, l2Norm, standardNormal } from '../../protocol/privacy.ts';
import { towerStep } from '../../model-training/src/round-training.ts';
import type { SavedRound } from '../../model-training/src/round-pull.ts';
import {
  accumulate,
  covarianceFromEvidence,
  emptyStatistics,
  isotropicPrior,
  posterior,
  posteriorUnderReleaseNoise,
} from '../../model-training/src/bayesian-head.ts';
import { centeredOnPrior, checkSignal, evidenceAboveNoise, NotEnoughSignal, poolHeads } from '../../model-training/src/round-statistics.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { headStatistics } from '../../protocol/head-statistics.ts';

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
    accumulate(
      exact,
      rows.flatMap((r) => r.phi),
      rows.map((r) => r.reward),
      rows.length,
    );
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

  it("the posterior's width follows the data: no evidence keeps the prior's width, more evidence narrows it, and the noise shift is not evidence", () => {
    // Features 0 and 1 are shown in every decision; feature 3 never (a creative-level taste no
    // decision has touched yet); feature 2 in a share that grows with the data.
    const prior = isotropicPrior(d, 0.01);
    const width = (n: number, share: number, seed: number) => {
      const random = seededRandom(seed);
      const rows = Array.from({ length: n }, () => {
        const phi = [random(), random(), random() < share ? 1 : 0, 0];
        return { phi, reward: random() < 0.2 ? 1 : 0 };
      });
      const noiseStd = 20;
      const pooled = poolHeads(
        [{ round: 1, modelVersion: 'm', reports: n / 2, stats: addGaussianNoise(headStatistics(rows, d), noiseStd, seededRandom(seed + 1)), noiseStd }],
        'm',
      );
      const covariance = covarianceFromEvidence(prior, evidenceAboveNoise(pooled), 0.1, noiseStd);
      const shifted = posteriorUnderReleaseNoise(prior, centeredOnPrior(pooled, prior.mean), 0.1, noiseStd).covariance;
      return { sd: (i: number) => Math.sqrt(covariance[i * d + i]!), shiftedSd: (i: number) => Math.sqrt(shifted[i * d + i]!) };
    };
    const small = width(2000, 0.05, 30);
    const large = width(20_000, 0.05, 40);
    const priorSd = 0.1;
    // Feature 3: nothing was learned; the width is the prior's at every amount of data (within
    // 2%: the measured directions' own noise tilts them a little into it).
    for (const w of [small, large]) {
      expect(w.sd(3)).toBeGreaterThan(0.98 * priorSd);
      expect(w.sd(3)).toBeLessThanOrEqual(priorSd * (1 + 1e-12));
    }
    // The diagonal shift counted as evidence would have narrowed it (the old posterior).
    expect(large.shiftedSd(3)).toBeLessThan(0.9 * priorSd);
    // Features shown often: narrower than the prior, and narrower with ten times the data.
    for (const i of [0, 1]) {
      expect(small.sd(i)).toBeLessThan(0.6 * priorSd);
      expect(large.sd(i)).toBeLessThan(0.6 * small.sd(i));
    }
    // Feature 2 (5% of decisions): 100 decisions do not rise above the noise, 1,000 do.
    expect(small.sd(2)).toBeGreaterThan(large.sd(2));
    expect(large.sd(2)).toBeLessThan(0.8 * priorSd);
  });

  it('refuses statistics the noise drowns, saying how many examples stand under how much noise', () => {
    const stats = addGaussianNoise(headStatistics(examples(30, 5), d), 7000, seededRandom(6));
    const pooled = poolHeads([{ round: 7, modelVersion: 'm', reports: 5, stats, noiseStd: 7000 }], 'm');
    expect(() => checkSignal(pooled)).toThrow(/noise deviations.*wait for more rounds or more devices/);
  });
});

describe("the towers' federated-averaging step", () => {
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
    const rounds = [1, 2].map((r) =>
      round(
        r,
        Array.from(direction, (x) => 500 * x + standardNormal(random)),
        500,
        1,
      ),
    );
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
    const noisy = [
      round(
        1,
        Array.from(direction, (x) => 0.2 * x + 3 * standardNormal(random)),
        40,
        3,
      ),
    ];
    expect(towerStep(noisy, base, P, 0.5)).toMatchObject({ step: null, reports: 40, skipped: expect.stringContaining('noise is as large') });
    expect(towerStep(noisy, 'bbbbbbbbbbbbbbbb', P, 0.5)).toMatchObject({ step: null, skipped: expect.stringContaining('no released round') });
  });
});
