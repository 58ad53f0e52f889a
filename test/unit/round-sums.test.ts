/**
 * The pure half of a round's release (edge-worker/src/round-sums.ts): shards add up as one
 * aggregator would, the count vector is noised with the sd the ledger is charged for, and the
 * ledger composes a fractional mechanism exactly.
 */
import { describe, expect, it } from 'vitest';
import { mergeShards, noisedCounts, NO_SUMS } from '../../edge-worker/src/round-sums.ts';
import type { ShardSums } from '../../edge-worker/src/round-sums.ts';
import { COUNT_MECHANISMS, epsilonSpent, mechanismMultipliers } from '../../protocol/privacy.ts';
import { composedMu } from '../../protocol/gaussian-dp.ts';

const shard = (n: number, model: string, impressions: number): ShardSums => ({
  contributors: n,
  totals: [{ creativeId: 'a', impressions, clicks: 1, conversions: 0, dismissals: 0, value: 0 }],
  head: { model, reports: n, stats: [n, 1, 2] },
  ope: { loggingModel: model, reports: n, models: [{ modelVersion: model, sums: [n, 0, 1, 0, 1] }] },
  towers: { model, reports: n, sums: Float64Array.from([0.5, -0.5]) },
  offsets: { model, reports: n, sums: [{ key: 'cell:banner/new', clicks: 1, expected: 0.5 }] },
});

describe('a round over shards', () => {
  it("adds every shard's sums, leaving out a part pooled over another model", () => {
    const merged = mergeShards([shard(3, 'm', 5), NO_SUMS, shard(4, 'm', 7), shard(2, 'other', 1)], 'm');
    expect(merged.contributors).toBe(9);
    expect(merged.totals).toEqual([{ creativeId: 'a', impressions: 13, clicks: 3, conversions: 0, dismissals: 0, value: 0 }]);
    expect(merged.head).toEqual({ model: 'm', reports: 7, stats: [7, 2, 4] });
    expect(merged.ope).toEqual({ loggingModel: 'm', reports: 7, models: [{ modelVersion: 'm', sums: [7, 0, 2, 0, 2] }] });
    expect(Array.from(merged.towers!.sums)).toEqual([1, -1]);
    expect(merged.towers!.reports).toBe(7);
    expect(merged.offsets).toEqual({ model: 'm', reports: 7, sums: [{ key: 'cell:banner/new', clicks: 2, expected: 1 }] });
  });

  it('is one shard unchanged when there is one', () => {
    const one = shard(3, 'm', 5);
    expect(mergeShards([one], 'm')).toEqual(one);
  });
});

describe('the count vector', () => {
  it('is integers around the exact counts with sd 4 z (a mechanism at 2 z of sensitivity 2)', () => {
    const z = 2;
    const draws = Array.from({ length: 4000 }, () => noisedCounts(shard(100, 'm', 1), z));
    for (const key of ['contributors', 'head', 'ope', 'towers'] as const) {
      const values = draws.map((d) => d[key]);
      expect(values.every(Number.isInteger)).toBe(true);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      expect(Math.abs(mean - 100)).toBeLessThan(0.5); // 4 standard errors of 0.13
      expect(sd).toBeGreaterThan(4 * z * 0.95);
      expect(sd).toBeLessThan(4 * z * 1.05);
    }
  });

  it('is charged a quarter mechanism, composed exactly as one at twice the multiplier', () => {
    expect(COUNT_MECHANISMS).toBe(0.25);
    expect(mechanismMultipliers(4.25, 5)).toEqual([5, 5, 5, 5, 10]);
    expect(mechanismMultipliers(0.25, 5)).toEqual([10]);
    expect(mechanismMultipliers(4, 5)).toEqual([5, 5, 5, 5]);
    // 1 / 10^2 = 0.25 / 5^2: in Gaussian DP only the sum of 1 / z^2 counts.
    expect(composedMu(mechanismMultipliers(4.25, 5)) ** 2).toBeCloseTo(4.25 / 25, 12);
    // Ten rounds at z = 5: 6.40 for the sums alone (issue 18), 6.63 with their count vectors.
    expect(epsilonSpent(mechanismMultipliers(40, 5), 1e-6).epsilon).toBeCloseTo(6.4, 2);
    expect(epsilonSpent(mechanismMultipliers(42.5, 5), 1e-6).epsilon).toBeCloseTo(6.63, 2);
  });
});
