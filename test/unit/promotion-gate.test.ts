import { describe, expect, it } from 'vitest';
import { confidenceSequence, pairedDifference } from '../../protocol/promotion-gate.ts';
import { candidatesToRetire, gateLook, snipsFromSums } from '../../protocol/off-policy-estimate.ts';
import type { CandidateEvaluation } from '../../protocol/off-policy-estimate.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import { addToOpeSums, addToPairedSums } from '../../protocol/off-policy.ts';

/** A normal draw. */
const normal = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

/**
 * Rounds of decisions by a uniform serving policy over 5 creatives, each round's sums released
 * with Gaussian noise (sd `noise` per coordinate, independently for each model), pooled
 * cumulatively: what the trainer sees at each look.
 */
function looks(candidatePolicy: number[], rounds: number, perRound: number, noise: number, random: () => number) {
  const clicks = [0.02, 0.04, 0.06, 0.08, 0.1];
  const serving = new Array(5).fill(0.2);
  const truth = candidatePolicy.reduce((s, p, i) => s + p * clicks[i]!, 0) - 0.06;
  const c = new Array(5).fill(0);
  const s = new Array(5).fill(0);
  const o = new Array(5).fill(0);
  const out: { candidate: number[]; serving: number[]; own: number[]; noiseVariance: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const rc = new Array(5).fill(0);
    const rs = new Array(5).fill(0);
    const ro = new Array(5).fill(0);
    for (let k = 0; k < perRound; k++) {
      const a = Math.floor(random() * 5);
      const reward = random() < clicks[a]! ? 1 : 0;
      addToOpeSums(rs, reward, 1);
      addToPairedSums(rc, reward, candidatePolicy[a]! / serving[a]!);
      addToOpeSums(ro, reward, candidatePolicy[a]! / serving[a]!);
    }
    for (let i = 0; i < 5; i++) {
      c[i] += rc[i]! + noise * normal(random);
      s[i] += rs[i]! + noise * normal(random);
      o[i] += ro[i]! + noise * normal(random);
    }
    // `own`: the candidate's own sums released apart from the serving model's (before the pairing).
    out.push({ candidate: c.slice(), serving: s.slice(), own: o.slice(), noiseVariance: round * noise * noise });
  }
  return { truth, out };
}

/**
 * The difference as the gate read it before the pairing: each model's own sums released apart,
 * each with its own noise (the same delta method, with the two estimates' covariance).
 */
function differenceApart(candidate: number[], serving: number[], noise: number): { estimate: number; variance: number } | null {
  const [, ac, bc, cc, dc] = candidate as [number, number, number, number, number];
  const [, as, bs] = serving as [number, number, number, number, number];
  if (!(bc > 3 * Math.sqrt(noise)) || !(bs > 3 * Math.sqrt(noise))) return null;
  const vc = ac / bc;
  const vs = as / bs;
  const varC = Math.max(0, cc * (1 - 2 * vc) + vc * vc * dc) / (bc * bc);
  const varS = Math.max(0, as * (1 - 2 * vs) + vs * vs * bs) / (bs * bs);
  const cov = (ac * (1 - vs - vc) + vc * vs * bc) / (bc * bs);
  const released = (noise * (1 + vc * vc)) / (bc * bc) + (noise * (1 + vs * vs)) / (bs * bs);
  return { estimate: vc - vs, variance: Math.max(0, varC + varS - 2 * cov) + released };
}

describe('the promotion gate: the paired difference, valid at every look', () => {
  it('covers the true difference at all 20 looks together in at least 95% of runs (a better candidate, release noise)', () => {
    const random = seededRandom(11);
    let missed = 0;
    const runs = 300;
    for (let run = 0; run < runs; run++) {
      const { truth, out } = looks([0.1, 0.1, 0.2, 0.3, 0.3], 20, 2000, 10, random);
      const anyMiss = out.some((l) => {
        const d = pairedDifference(l.candidate, l.serving, l.noiseVariance, l.noiseVariance);
        if (!d) return false;
        const cs = confidenceSequence(d);
        return truth < cs.lower || truth > cs.upper;
      });
      if (anyMiss) missed++;
    }
    expect(missed / runs).toBeLessThanOrEqual(0.05);
  });

  it('promotes a candidate identical to the serving model at most 5% of the time over 20 looks (the old rule: far more)', () => {
    const random = seededRandom(12);
    let promoted = 0;
    let oldRule = 0;
    const runs = 300;
    for (let run = 0; run < runs; run++) {
      const { out } = looks([0.2, 0.2, 0.2, 0.2, 0.2], 20, 2000, 10, random);
      if (
        out.some((l) => {
          const d = pairedDifference(l.candidate, l.serving, l.noiseVariance, l.noiseVariance);
          return d !== null && confidenceSequence(d).lower > 0;
        })
      )
        promoted++;
      // Before: the candidate's fixed 95% lower bound against the serving model's point estimate, at every look.
      if (
        out.some((l) => {
          const cv = snipsFromSums(l.own, l.noiseVariance);
          const sv = snipsFromSums(l.serving, l.noiseVariance);
          return cv !== null && sv !== null && cv.lower > sv.estimate;
        })
      )
        oldRule++;
    }
    expect(promoted / runs).toBeLessThanOrEqual(0.05);
    expect(oldRule / runs).toBeGreaterThan(0.1);
  });

  it('still promotes a clearly better candidate within the looks (the gate has power), and never a worse one', () => {
    const random = seededRandom(13);
    let promotedBetter = 0;
    let promotedWorse = 0;
    for (let run = 0; run < 100; run++) {
      const better = looks([0.05, 0.05, 0.1, 0.3, 0.5], 20, 2000, 10, random).out;
      if (
        better.some((l) => {
          const d = pairedDifference(l.candidate, l.serving, l.noiseVariance, l.noiseVariance);
          return d !== null && confidenceSequence(d).lower > 0;
        })
      )
        promotedBetter++;
      const worse = looks([0.5, 0.3, 0.1, 0.05, 0.05], 20, 2000, 10, random).out;
      if (
        worse.some((l) => {
          const d = pairedDifference(l.candidate, l.serving, l.noiseVariance, l.noiseVariance);
          return d !== null && confidenceSequence(d).lower > 0;
        })
      )
        promotedWorse++;
    }
    expect(promotedBetter).toBeGreaterThanOrEqual(95);
    expect(promotedWorse).toBe(0);
  });

  it("finds a better candidate at a small site's scale within five rounds, where the two models' sums released apart did not", () => {
    // A serving policy that already leans to the better creatives; a candidate 1.5 points of
    // click rate better; 3,300 decisions a round (the simulator's 2,000 shoppers), release noise
    // of sd 58 on every coordinate (its noise multiplier 6.45 at epsilon 8 over 30 daily rounds,
    // times its off-policy bound 9).
    const clicks = [0.1, 0.15, 0.2, 0.25, 0.3];
    const serving = [0.1, 0.15, 0.25, 0.25, 0.25];
    const sd = 58;
    const smallSite = (candidate: number[], random: () => number) => {
      const c = [0, 0, 0, 0, 0];
      const s = [0, 0, 0, 0, 0];
      const o = [0, 0, 0, 0, 0];
      const out: { candidate: number[]; serving: number[]; own: number[]; noiseVariance: number }[] = [];
      for (let round = 1; round <= 5; round++) {
        for (let k = 0; k < 3300; k++) {
          let u = random();
          let a = 0;
          while (u > serving[a]! && a < 4) u -= serving[a++]!;
          const reward = random() < clicks[a]! ? 1 : 0;
          addToOpeSums(s, reward, 1);
          addToPairedSums(c, reward, candidate[a]! / serving[a]!);
          addToOpeSums(o, reward, candidate[a]! / serving[a]!);
        }
        const noisy = (x: number[]) => x.map((y) => y + sd * Math.sqrt(round) * normal(random));
        out.push({ candidate: noisy(c), serving: noisy(s), own: noisy(o), noiseVariance: round * sd * sd });
      }
      return out;
    };
    const promotes = (out: ReturnType<typeof smallSite>) =>
      out.some((l) => {
        const d = pairedDifference(l.candidate, l.serving, l.noiseVariance, l.noiseVariance);
        return d !== null && confidenceSequence(d).lower > 0;
      });
    const promotedApart = (out: ReturnType<typeof smallSite>) =>
      out.some((l) => {
        const d = differenceApart(l.own, l.serving, l.noiseVariance);
        return d !== null && confidenceSequence(d).lower > 0;
      });
    const random = seededRandom(14);
    let found = 0;
    let foundApart = 0;
    let identical = 0;
    for (let run = 0; run < 100; run++) {
      const better = smallSite([0.05, 0.1, 0.25, 0.3, 0.3], random);
      if (promotes(better)) found++;
      if (promotedApart(better)) foundApart++;
      if (promotes(smallSite(serving, random))) identical++;
    }
    expect(found).toBeGreaterThanOrEqual(90);
    expect(foundApart).toBeLessThan(20);
    expect(identical).toBeLessThanOrEqual(5);
  });

  it("splits the difference's variance into the decisions' sampling and the release noise, each as it grows", () => {
    const policy = [0.1, 0.1, 0.2, 0.3, 0.3];
    const read = (noise: number) => {
      const { out } = looks(policy, 1, 4000, noise, seededRandom(5));
      const l = out[0]!;
      return pairedDifference(l.candidate, l.serving, l.noiseVariance, l.noiseVariance)!;
    };
    const quiet = read(0);
    expect(quiet.noiseVariance).toBe(0);
    expect(quiet.variance).toBeGreaterThan(0);
    // The same decisions (the same seed) under growing release noise: the sampling part stays,
    // the noise part grows with its variance, and the total is their sum.
    const some = read(20);
    const loud = read(400);
    expect(some.noiseVariance).toBeGreaterThan(0);
    expect(loud.noiseVariance).toBeGreaterThan(50 * some.noiseVariance);
    expect(loud.noiseVariance / loud.variance).toBeGreaterThan(0.9);
    expect(some.noiseVariance / some.variance).toBeLessThan(loud.noiseVariance / loud.variance);
  });

  it('bounds stay within [-1, 1], and no estimate is made where the weights are lost in the noise', () => {
    const cs = confidenceSequence({ estimate: 0.9, variance: 4 });
    expect(cs.lower).toBeGreaterThanOrEqual(-1);
    expect(cs.upper).toBeLessThanOrEqual(1);
    expect(pairedDifference([10, 1, 2, 1, 2], [10, 1, 10, 1, 10], 100, 100)).toBeNull();
  });
});

describe('which candidates stay scored after a look (candidatesToRetire)', () => {
  const judged = (candidate: string, lower: number, upper: number, rounds = [1]): CandidateEvaluation => ({
    candidate,
    serving: 's',
    rounds,
    decisions: 4000,
    candidateValue: null,
    servingValue: null,
    difference: { estimate: (lower + upper) / 2, lower, upper },
    noiseShare: null,
    verdict: 'too_wide',
    reason: '',
  });

  it('keeps the leader (highest lower bound) and every candidate not yet scored; retires the other scored ones', () => {
    const evaluations = [judged('old', -0.06, 0.05), judged('lead', -0.03, 0.08), judged('gone', -0.05, 0.04, [])];
    // 'gone' was listed in no round it was scored in: it keeps its slot until its first look.
    expect(candidatesToRetire(evaluations, ['lead', 'old', 'gone', 'fresh'], null)).toEqual(['old']);
  });

  it('keeps no leader estimated worse than the serving model, however narrow its interval, nor one with no interval', () => {
    const worse = judged('worse', -0.02, 0.01); // the highest lower bound, but an estimate below zero
    const unknown = { ...judged('unknown', 0, 0), difference: null, verdict: 'insufficient' as const };
    expect(candidatesToRetire([worse, unknown], ['worse', 'unknown'], null)).toEqual(['worse', 'unknown']);
  });

  it("a challenger whose estimate is above the leader's upper bound leads instead; a candidate no longer listed never leads", () => {
    // The early candidate with many looks: narrow and barely better. A later fit, one look: wide, estimated far above it.
    const early = judged('early', -0.001, 0.009, [4, 5, 6, 7]);
    const later = judged('later', -0.004, 0.034);
    const lucky = judged('lucky', -0.034, 0.05); // estimated +0.8 points, within the early one's reach (+0.9): no switch for it
    expect(candidatesToRetire([early, later], ['early', 'later'], null)).toEqual(['early']);
    expect(candidatesToRetire([early, lucky], ['early', 'lucky'], null)).toEqual(['lucky']);
    // A retired candidate keeps its figures in the evaluations, but only listed ones hold a slot.
    expect(candidatesToRetire([judged('retired', 0.001, 0.02), lucky], ['lucky'], null)).toEqual([]);
  });

  it('after a promotion, retires every other listed candidate (judged against a model that no longer serves)', () => {
    expect(candidatesToRetire([judged('a', 0.01, 0.05), judged('b', -0.01, 0.06)], ['a', 'b', 'c'], 'a')).toEqual(['b', 'c']);
  });

  it("the gate's look promotes the listed candidate with the highest lower bound above zero; a retired one, frozen at its last look, is neither promoted nor reported", () => {
    const better = (candidate: string, lower: number, upper: number) => ({ ...judged(candidate, lower, upper), verdict: 'better' as const });
    const pulled = [better('retired', 0.03, 0.06), better('a', 0.005, 0.05), better('b', 0.01, 0.04), judged('c', -0.01, 0.02)];
    const look = gateLook(pulled, ['a', 'b', 'c']);
    expect(look.promote).toBe('b');
    expect(look.evaluations.map((e) => e.candidate)).toEqual(['a', 'b', 'c']);
    expect(look.retire).toEqual(['a', 'c']);
    // With no listed candidate better, nothing is promoted, whatever a retired one's figures say.
    expect(gateLook([better('retired', 0.03, 0.06), judged('c', -0.01, 0.02)], ['c'])).toEqual({
      evaluations: [judged('c', -0.01, 0.02)],
      promote: null,
      retire: [],
    });
  });
});
