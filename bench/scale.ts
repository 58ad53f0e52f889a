/**
 * The aggregation and fitting math at scale, in Node (no browser, no network): N device
 * reports of the demo model's shape (head statistics for d = 21, off-policy sums of two models,
 * a 6,240-weight tower gradient, 60 creatives' counts) are summed as the round's Durable Object
 * sums them (per report), released with Gaussian noise (round close), then pooled and fitted as
 * the trainer does (posterior update of the last layer, the towers' step, the off-policy
 * estimate). Reports are generated on the fly from a seeded generator, so memory stays flat.
 */
import { addGaussianNoise, clipToNorm } from '../protocol/privacy.ts';
import { covarianceFromEvidence, isotropicPrior, posteriorUnderReleaseNoise } from '../model-training/src/bayesian-head.ts';
import { evaluateCandidates } from '../protocol/off-policy-estimate.ts';
import { centeredOnPrior, evidenceAboveNoise, poolHeads } from '../model-training/src/round-statistics.ts';
import { towerStep } from '../model-training/src/round-training.ts';
import { seededRandom } from '../model-training/src/seeded-random.ts';
import { headStatistics, headStatsLength } from '../protocol/head-statistics.ts';

const D = 21;
const TOWERS = 6240;
const CREATIVES = 60;

export interface ScaleFigures {
  reports: number;
  /** Summing every report into the round (what the Durable Object does as reports arrive), seconds. */
  aggregate_seconds: number;
  /** Round close: noise on every released sum, seconds. */
  close_seconds: number;
  /** The trainer's fit from the released sums (posterior, towers' step, off-policy estimate), seconds. */
  fit_seconds: number;
}

export function scaleRun(reports: number, seed = 3): ScaleFigures {
  const random = seededRandom(seed);
  const head = new Float64Array(headStatsLength(D));
  const towers = new Float64Array(TOWERS);
  const counts = new Float64Array(CREATIVES * 4);
  const ope = [new Float64Array(5), new Float64Array(5)];
  // One device's parts, varied per report by a cheap scale so the sums are not constant.
  const phi = Array.from({ length: 5 }, () => ({ phi: Array.from({ length: D }, () => random()), reward: random() < 0.05 ? 1 : 0 }));
  const deviceHead = clipToNorm(headStatistics(phi, D), 2000);
  const deviceTowers = clipToNorm(
    Float64Array.from({ length: TOWERS }, () => random() - 0.5),
    0.25,
  );
  let t0 = performance.now();
  for (let r = 0; r < reports; r++) {
    const s = 0.5 + random();
    for (let i = 0; i < head.length; i++) head[i]! += s * deviceHead[i]!;
    for (let i = 0; i < TOWERS; i++) towers[i]! += s * deviceTowers[i]!;
    counts[(r % CREATIVES) * 4]! += 1;
    for (const o of ope) {
      o[0]! += 5;
      o[1]! += 0.25 * s;
      o[2]! += 5 * s;
      o[3]! += 0.25 * s * s;
      o[4]! += 5 * s * s;
    }
  }
  const aggregate = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const z = 5;
  const release = {
    head: addGaussianNoise(head, z * 2000),
    towers: addGaussianNoise(towers, z * 0.25),
    counts: addGaussianNoise(counts, z * 10),
    ope: ope.map((o) => addGaussianNoise(o, z * 50)),
  };
  const close = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const pooled = poolHeads([{ round: 1, modelVersion: 'a'.repeat(16), reports, stats: release.head, noiseStd: z * 2000 }], 'a'.repeat(16));
  const prior = isotropicPrior(D, 1);
  posteriorUnderReleaseNoise(prior, centeredOnPrior(pooled, prior.mean), 0.05, pooled.noiseStd);
  covarianceFromEvidence(prior, evidenceAboveNoise(pooled), 0.05, pooled.noiseStd);
  towerStep(
    [{ round: 1, head: null, towers: { modelVersion: 'a'.repeat(16), reports, sums: release.towers }, noise: { headStd: z * 2000, towerStd: z * 0.25 } }],
    'a'.repeat(16),
    TOWERS,
    0.5,
  );
  evaluateCandidates(
    [
      {
        round: 1,
        loggingModel: 'a'.repeat(16),
        models: [
          { modelVersion: 'a'.repeat(16), sums: release.ope[0]! },
          { modelVersion: 'b'.repeat(16), sums: release.ope[1]! },
        ],
        noiseStd: z * 50,
      },
    ],
    'a'.repeat(16),
  );
  const fit = (performance.now() - t0) / 1000;
  return { reports, aggregate_seconds: aggregate, close_seconds: close, fit_seconds: fit };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const n of [10_000, 100_000, 1_000_000]) {
    const f = scaleRun(n);
    console.log(
      `${n.toLocaleString('en')} reports: aggregate ${f.aggregate_seconds.toFixed(3)} s, round close ${f.close_seconds.toFixed(4)} s, fit ${f.fit_seconds.toFixed(4)} s`,
    );
  }
}
