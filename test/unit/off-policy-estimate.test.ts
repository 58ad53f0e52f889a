import { describe, expect, it } from 'vitest';
import { addToOpeSums, importanceWeight, PAIRED_SCALE } from '../../protocol/off-policy.ts';
import { standardNormal } from '../../protocol/privacy.ts';
import { evaluateCandidates, snipsFromSums } from '../../protocol/off-policy-estimate.ts';
import type { ReleasedOpe } from '../../protocol/off-policy-estimate.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';

/** A bandit with known click rates, a logging policy and a target policy. */
const CTR = [0.02, 0.05, 0.1, 0.03, 0.08];
const LOGGING = [0.3, 0.3, 0.1, 0.2, 0.1];
const TARGET = [0.05, 0.15, 0.5, 0.05, 0.25];
const TRUE_TARGET = TARGET.reduce((s, p, a) => s + p * CTR[a]!, 0);

function logged(n: number, random: () => number, noiseStd: number): { target: number[]; logging: number[] } {
  const target = [0, 0, 0, 0, 0];
  const logging = [0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    let u = random();
    let a = 0;
    while (a < LOGGING.length - 1 && u >= LOGGING[a]!) u -= LOGGING[a++]!;
    const r = random() < CTR[a]! ? 1 : 0;
    addToOpeSums(target, r, importanceWeight(TARGET[a]!, LOGGING[a]!));
    addToOpeSums(logging, r, 1);
  }
  const noisy = (xs: number[]) => xs.map((x) => x + noiseStd * standardNormal(random));
  return { target: noisy(target), logging: noisy(logging) };
}

describe('federated off-policy estimate', () => {
  it("covers the target policy's true click rate about 95% of the time, with release noise", () => {
    const random = seededRandom(17);
    const trials = 400;
    let covered = 0;
    let width = 0;
    for (let t = 0; t < trials; t++) {
      const { target } = logged(4000, random, 20);
      const iv = snipsFromSums(target, 20 * 20)!;
      if (iv.lower <= TRUE_TARGET && TRUE_TARGET <= iv.upper) covered++;
      width += iv.upper - iv.lower;
    }
    // 95% nominal; 400 trials put a correct interval's coverage in [0.92, 0.97] with high probability.
    expect(covered / trials).toBeGreaterThan(0.92);
    expect(covered / trials).toBeLessThan(0.98);
    // And it is informative: much narrower than the range of click rates.
    expect(width / trials).toBeLessThan(0.04);
  });

  it("gives no estimate when the weights' sum does not stand clear of the noise", () => {
    expect(snipsFromSums([10, 1, 10, 1, 10], 100)).toBeNull();
    expect(snipsFromSums([-5, 0, -3, 0, 1], 1)).toBeNull();
    // Noise can push a rare policy's clicks below zero: the rate shown is a possible one.
    const low = snipsFromSums([1000, -30, 1000, 5, 1000], 20 * 20)!;
    expect(low.estimate).toBe(0);
    expect(low.lower).toBe(0);
    expect(low.upper).toBeGreaterThanOrEqual(0);
    expect(low.upper).toBeLessThan(0.1);
    expect(() => snipsFromSums([1, 2, 3], 1)).toThrow(/5 entries/);
  });

  it('decides better, not better, too wide or insufficient, against the serving model on the same rounds', () => {
    const round = (r: number, models: ReleasedOpe['models']): ReleasedOpe => ({ round: r, loggingModel: 'serving0000000000', models, noiseStd: 1 });
    // Serving: 5% on 20,000 decisions. Candidates' entries are paired with it (protocol/off-policy.ts):
    // [n, sum r u, sum u, sum r u^2, sum u^2] of u = w - 1, scaled. "good": 8% with a tight interval;
    // "same": 5%; "wide": its weights sum to 600 of 20,000 decisions; "thin": to 2 of 40.
    const paired = (...sums: number[]) => sums.map((x, i) => (i === 0 ? x : x * PAIRED_SCALE));
    const serving = { modelVersion: 'serving0000000000', sums: [20000, 1000, 20000, 1000, 20000] };
    const released = [
      round(1, [
        serving,
        { modelVersion: 'good000000000000', sums: paired(20000, 600, 0, 300, 2000) },
        { modelVersion: 'same000000000000', sums: paired(20000, 0, 0, 100, 1000) },
      ]),
      round(2, [
        serving,
        { modelVersion: 'wide000000000000', sums: paired(20000, -940, -19400, 3000, 40000) },
        { modelVersion: 'thin000000000000', sums: paired(40, 0, -38, 0, 40) },
      ]),
      // A round logged by another serving model does not count.
      { round: 3, loggingModel: 'other00000000000', models: [{ modelVersion: 'good000000000000', sums: [9, 0, 9, 0, 9] }], noiseStd: 1 },
      // A fixed-shape release lists "good" though no device scored it (noise only): not pooled, or its
      // zero clicks would be set against the serving model's real ones.
      round(4, [
        { modelVersion: 'serving0000000000', sums: [20000, 400, 20000, 400, 20000] },
        { modelVersion: 'good000000000000', sums: [0.7, -1.2, 0.3, 0.9, -0.4] },
      ]),
    ];
    const byCandidate = Object.fromEntries(evaluateCandidates(released, 'serving0000000000').map((e) => [e.candidate, e]));
    expect(Object.keys(byCandidate).sort()).toEqual(['good000000000000', 'same000000000000', 'thin000000000000', 'wide000000000000']);
    expect(byCandidate.good000000000000).toMatchObject({ verdict: 'better', rounds: [1] });
    expect(byCandidate.good000000000000!.candidateValue!.estimate).toBeCloseTo(0.08, 6);
    expect(byCandidate.good000000000000!.difference!.estimate).toBeCloseTo(0.03, 6);
    // The candidate's own interval holds the serving rate's uncertainty and the difference's.
    const good = byCandidate.good000000000000!;
    expect(good.candidateValue!.upper - good.candidateValue!.lower).toBeGreaterThan(good.servingValue!.upper - good.servingValue!.lower);
    expect(byCandidate.same000000000000!.verdict).toBe('not_better');
    expect(byCandidate.wide000000000000!.verdict).toBe('too_wide');
    expect(byCandidate.wide000000000000!.reason).toMatch(/too uncertain/);
    expect(byCandidate.thin000000000000!.verdict).toBe('insufficient');
    expect(byCandidate.thin000000000000!.reason).toMatch(/wait for more rounds/);
  });
});
