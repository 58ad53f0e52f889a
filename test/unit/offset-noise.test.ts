/**
 * The offsets' noise of one situation is drawn once and shared by every model scored in it (the
 * decision's model, then each candidate model's probability of the same decision): common random
 * numbers. Each model's probabilities stay its own (unbiased), two models that differ a little get
 * probabilities that differ by that little instead of by Monte Carlo noise, and a candidate model
 * draws nothing of its own.
 */
import { describe, expect, it } from 'vitest';
import { cholesky } from '../../protocol/linalg.ts';
import { headScoreDraws, offsetMultipliers, offsetNormals, sharesOfScoreDraws } from '../../protocol/policy.ts';
import type { Offsets } from '../../protocol/offsets.ts';
import type { Candidate, SiteConfig } from '../../protocol/wire.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { CellHistory, ownMultipliers } from '../../widget/engine/cell-history.ts';
import { SlotScoring } from '../../widget/engine/slot-scoring.ts';
import type { ScoringModel } from '../../widget/engine/scoring-model.ts';

const d = 4;
const cov = [0.02, 0.003, 0, 0.001, 0.003, 0.01, 0.002, 0, 0, 0.002, 0.015, 0.004, 0.001, 0, 0.004, 0.01];
const mean = Float64Array.from([0.2, 0.1, 0.15, 0.12]);
const factor = cholesky(cov, d);
const phi = Float32Array.from({ length: 5 * d }, (_, i) => 0.5 + 0.4 * Math.sin(i * 1.7));
const eligible = [0, 1, 2, 3, 4];
const offsetsA = eligible.map((k) => ({ mean: 0.1 * Math.cos(k), sd: 0.3 }));
// Another model: the same but one creative's offset 0.03 higher (what one round's refit moves).
const offsetsB = offsetsA.map((o, k) => (k === 2 ? { ...o, mean: o.mean + 0.03 } : o));

const shares = (m: number, headSeed: number, normals: Float64Array, offsets: typeof offsetsA) =>
  sharesOfScoreDraws(headScoreDraws(phi, d, mean, factor, m, eligible, seededRandom(headSeed)), 1, offsetMultipliers(offsets, normals, null));

describe("the offsets' noise shared by the models of one situation", () => {
  it("gives a model its own policy: on another model's normals it is within Monte Carlo error of its own draws", () => {
    const m = 40_000;
    const shared = shares(m, 1, offsetNormals(m, eligible.length, seededRandom(2)), offsetsB);
    const own = shares(m, 3, offsetNormals(m, eligible.length, seededRandom(4)), offsetsB);
    // sd of a share at 40,000 draws is at most 0.0025: a few of them.
    for (let k = 0; k < eligible.length; k++) expect(Math.abs(shared[k]! - own[k]!)).toBeLessThan(0.012);
  });

  it("the difference between two models a little apart: on shared noise it is estimated far closer than on each one's own (the device draws 256)", () => {
    // The true difference in creative 2's share, to 40,000 draws.
    const big = 40_000;
    const normals = offsetNormals(big, eligible.length, seededRandom(1));
    const truth = shares(big, 2, normals, offsetsB)[2]! - shares(big, 2, normals, offsetsA)[2]!;
    expect(truth).toBeGreaterThan(0); // B favours creative 2
    const m = 256;
    let sharedError = 0;
    let ownError = 0;
    for (let seed = 0; seed < 40; seed++) {
      const situation = offsetNormals(m, eligible.length, seededRandom(100 + seed));
      const a = shares(m, 200 + seed, situation, offsetsA)[2]!;
      const b = shares(m, 200 + seed, situation, offsetsB)[2]!;
      const bOwn = shares(m, 300 + seed, offsetNormals(m, eligible.length, seededRandom(400 + seed)), offsetsB)[2]!;
      sharedError += Math.abs(b - a - truth);
      ownError += Math.abs(bOwn - a - truth);
    }
    // About a quarter of the error at this draw count (a share moves in steps of 1/256).
    expect(sharedError / 40).toBeLessThan(0.4 * (ownError / 40));
  });

  it("the device's own multiplier: Gamma(1 + clicks, 1 + expected x population), mean 1 for a cell it has no data of", () => {
    const history = new CellHistory();
    history.shown('banner/new', 1);
    for (let i = 0; i < 3; i++) history.clicked('banner/new');
    const cells = ['banner/new', 'product_card/sale', 'banner/new'];
    const m = 20_000;
    const own = history.ownDraws(cells, m, seededRandom(5));
    // Under a model whose population multiplier of banners is 1: mean (1 + 3) / (1 + 1) = 2; under one where it is 2: 4 / 3.
    for (const [population, expected] of [
      [1, 2],
      [2, 4 / 3],
    ] as const) {
      const draw = ownMultipliers(own, () => population);
      let sum = 0;
      for (let s = 0; s < m; s++) {
        const x = draw(s);
        expect(x[1]).toBe(1);
        expect(x[2]).toBe(x[0]);
        sum += x[0]!;
      }
      expect(sum / m).toBeCloseTo(expected, 1);
    }
  });

  it("a candidate model scored on the decision's head takes the situation's offset noise and draws no random number of its own", () => {
    const candidates = eligible.map((k) => ({ id: `c${k}`, layout: k % 2 ? 'banner' : 'product_card', messageType: 'new' })) as unknown as Candidate[];
    const offsets = (shift: number): Offsets =>
      ({
        global: 0,
        cells: { 'banner/new': { mean: shift, sd: 0.2 }, 'product_card/new': { mean: 0, sd: 0.2 } },
        creatives: {},
      }) as unknown as Offsets;
    // A model of this test's own head (phi, mean, factor above): what the scoring reads of a ScoringModel.
    const model = (version: string, o: Offsets) =>
      ({ version, towersKey: 'towers', dim: d, mean, covarianceFactor: factor, offsets: o, headFeatures: () => phi }) as unknown as ScoringModel;
    const history = new CellHistory();
    history.shown('banner/new', 2);
    history.clicked('banner/new');
    let drawn = 0;
    const counted = seededRandom(9);
    // The creative rows feed only the towers, which this model's head features stand in for.
    const scoring = new (class extends SlotScoring {
      override creativeRows(): Float32Array {
        return new Float32Array(0);
      }
    })(() => {
      drawn++;
      return counted();
    });
    const config = { explorationFloor: 0.01, candidates } as unknown as SiteConfig;
    const shopper = { row: new Float32Array(1), cross: new Float32Array(1) };
    const decision = scoring.policyShares(config, model('serving', offsets(0)), shopper, candidates, 'hero', eligible, 256, history);
    expect(decision.head.offsetNoise?.normals).toHaveLength(256 * eligible.length);
    expect(decision.head.offsetNoise?.own).not.toBeNull();
    const before = drawn;
    const candidate = scoring.policyShares(config, model('candidate', offsets(0.5)), shopper, candidates, 'hero', eligible, 256, history, decision.head);
    expect(drawn).toBe(before);
    expect(candidate.head).toBe(decision.head);
    // Its own offsets on that noise: banners (creatives 1 and 3) gain under the candidate's.
    expect(candidate.p[1]! + candidate.p[3]!).toBeGreaterThan(decision.p[1]! + decision.p[3]!);
  });
});
