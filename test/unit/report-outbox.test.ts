import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIVACY, l2Norm } from '../../protocol/privacy.ts';
import { MAX_REPORT_BYTES, ReportSchema } from '../../protocol/wire.ts';
import { CREATIVE_DIM, CROSS_DIM, SHOPPER_DIM } from '../../protocol/features.ts';
import { headDim } from '../../protocol/model-artifact.ts';
import { PAIRED_SCALE, WEIGHT_CAP } from '../../protocol/off-policy.ts';
import { dequantizeGradient, towerGradient, towerParameterCount } from '../../protocol/tower-gradient.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import * as v from 'valibot';
import { openDeviceStore } from '../../widget/engine/device-store.ts';
import type { DecisionRecord } from '../../widget/engine/device-store.ts';
import { moveOutcomesToOutbox, outboxAction } from '../../widget/engine/report-outbox.ts';
import type { ReportingModel } from '../../widget/engine/report-outbox.ts';
import { UNIFORM_POLICY } from '../../protocol/off-policy.ts';
import { headStatistics, headStatsLength } from '../../protocol/head-statistics.ts';

const VERSION = '0123456789abcdef';
/** A serving model as far as reports need it; decisions without tower inputs never use the weights. */
const MODEL: ReportingModel = {
  version: VERSION,
  topology: { shopperDim: 2, creativeDim: 2, hidden: 2, embed: 2 },
  towerWeights: new Float32Array(24),
  mean: [0, 0, 0],
};

function decision(id: string, creativeId: string, impression: boolean, click: boolean, phi: number[] | null = null): DecisionRecord {
  return {
    id,
    at: 0,
    round: 1,
    slot: 'hero',
    creativeId,
    propensity: 0.5,
    modelVersion: phi ? VERSION : null,
    phi,
    impression,
    click,
    reported: { impression: false, click: false },
  };
}

describe('report outbox', () => {
  it('puts each outcome into exactly one report, and makes at most one report per round', async () => {
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    await db.put('decisions', decision('d1', 'c1', true, true));
    await db.put('decisions', decision('d2', 'c1', true, false));
    await db.put('decisions', decision('d3', 'c2', false, false));
    const first = await moveOutcomesToOutbox(db, 7, null, DEFAULT_PRIVACY, 0);
    expect(first?.report.round).toBe(7);
    expect(first?.report.outcomes).toEqual([{ creativeId: 'c1', impressions: 2, clicks: 1, conversions: 0, dismissals: 0 }]);
    expect(await db.get('ledger', 7)).toMatchObject({ round: 7, reportId: first!.reportId });
    // A later click on an already-reported impression waits for the next round...
    const d2 = (await db.get('decisions', 'd2'))!;
    await db.put('decisions', { ...d2, click: true });
    expect(await moveOutcomesToOutbox(db, 7, null, DEFAULT_PRIVACY, 0)).toBeNull();
    // ...and is reported there, alone.
    const second = await moveOutcomesToOutbox(db, 8, null, DEFAULT_PRIVACY, 0);
    expect(second?.report.outcomes).toEqual([{ creativeId: 'c1', impressions: 0, clicks: 1, conversions: 0, dismissals: 0 }]);
    expect(await moveOutcomesToOutbox(db, 9, null, DEFAULT_PRIVACY, 0)).toBeNull();
    expect((await db.getAll('outbox')).map((e) => e.reportId).sort()).toEqual([first!.reportId, second!.reportId].sort());
    db.close();
  });

  it('sums the head statistics of shown decisions under the serving model, exactly', async () => {
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    await db.put('decisions', decision('a', 'c1', true, true, [0.5, 1, 0]));
    await db.put('decisions', decision('b', 'c2', true, false, [0, 0.5, 1]));
    await db.put('decisions', { ...decision('c', 'c3', true, false, [9, 9, 9]), modelVersion: 'ffffffffffffffff' }); // another model: counted, not in the statistics
    const entry = (await moveOutcomesToOutbox(db, 3, MODEL, DEFAULT_PRIVACY, 0))!;
    const stats = entry.report.head!.stats;
    expect(stats).toHaveLength(headStatsLength(3));
    // n; upper(sum phi phi^T): [0.25, 0.5, 0, 1.25, 0.5, 1]; sum r phi: the clicked one's phi.
    expect(stats).toEqual([2, 0.25, 0.5, 0, 1.25, 0.5, 1, 0.5, 1, 0]);
    // The serving model's own off-policy entry: weight 1, [n, clicks, n, clicks, n].
    expect(entry.report.ope).toEqual([{ modelVersion: VERSION, sums: [2, 1, 2, 1, 2] }]);
    expect(v.is(ReportSchema, entry.report)).toBe(true);
    db.close();
  });

  it('clips what one device contributes to the declared bounds', async () => {
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    for (let i = 0; i < 60; i++) await db.put('decisions', decision(`d${i}`, `c${i % 3}`, true, i % 2 === 0, [10, 5, 3]));
    const entry = (await moveOutcomesToOutbox(db, 3, MODEL, DEFAULT_PRIVACY, 0))!;
    const counts = entry.report.outcomes.flatMap((o) => [o.impressions, o.clicks]);
    expect(l2Norm(counts)).toBeLessThanOrEqual(DEFAULT_PRIVACY.countClip);
    expect(l2Norm(entry.report.head!.stats)).toBeLessThanOrEqual(DEFAULT_PRIVACY.headClip);
    // Unclipped, both would be far over: the clipping did something.
    expect(
      l2Norm(
        headStatistics(
          Array.from({ length: 60 }, () => ({ phi: [10, 5, 3], reward: 1 })),
          3,
        ),
      ),
    ).toBeGreaterThan(DEFAULT_PRIVACY.headClip);
    db.close();
  });

  it("sums each candidate model's importance-weighted outcomes, caps the weights, clips all models' sums together", async () => {
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    const C1 = 'aaaaaaaaaaaaaaaa';
    const C2 = 'bbbbbbbbbbbbbbbb';
    // propensity 0.5: candidate 1 would have chosen these with 0.25 and 1 (weights 0.5, 2); candidate 2 with 1 (weight 2) once, and scored only one of them.
    await db.put('decisions', { ...decision('a', 'c1', true, true, [1, 0, 0]), candidatePi: { [C1]: 0.25, [C2]: 1 } });
    await db.put('decisions', { ...decision('b', 'c2', true, false, [0, 1, 0]), candidatePi: { [C1]: 1 } });
    // A tiny propensity: the weight is capped at WEIGHT_CAP.
    await db.put('decisions', { ...decision('c', 'c3', true, true, [0, 0, 1]), propensity: 1e-4, candidatePi: { [C1]: 0.9 } });
    const entry = (await moveOutcomesToOutbox(db, 3, MODEL, { ...DEFAULT_PRIVACY, opeClip: 1e9 }, 0))!;
    const byModel = Object.fromEntries(entry.report.ope!.map((e) => [e.modelVersion, e.sums]));
    expect(byModel[VERSION]).toEqual([3, 2, 3, 2, 3]);
    // Candidates' entries are paired with the serving model's (protocol/off-policy.ts): sums of
    // u = w - 1, [n, K sum r u, K sum u, K sum r u^2, K sum u^2].
    const u = [0.5 - 1, 2 - 1, WEIGHT_CAP - 1];
    const r = [1, 0, 1];
    const K = PAIRED_SCALE;
    expect(byModel[C1]).toEqual(
      [
        3,
        K * (r[0]! * u[0]! + r[2]! * u[2]!),
        K * (u[0]! + u[1]! + u[2]!),
        K * (r[0]! * u[0]! ** 2 + r[2]! * u[2]! ** 2),
        K * u.reduce((s, x) => s + x * x, 0),
      ].map((x) => expect.closeTo(x, 4)),
    );
    expect(byModel[C2]).toEqual([1, K, K, K, K]);

    // With the default bound the joint vector is scaled down to it.
    const db2 = await openDeviceStore(`outbox-${Math.random()}`);
    await db2.put('decisions', { ...decision('c', 'c3', true, true, [0, 0, 1]), propensity: 1e-4, candidatePi: { [C1]: 0.9 } });
    const clipped = (await moveOutcomesToOutbox(db2, 3, MODEL, DEFAULT_PRIVACY, 0))!;
    expect(l2Norm(clipped.report.ope!.flatMap((e) => e.sums))).toBeLessThanOrEqual(DEFAULT_PRIVACY.opeClip);
    expect(l2Norm(clipped.report.ope!.flatMap((e) => e.sums))).toBeGreaterThan(DEFAULT_PRIVACY.opeClip * 0.999);
    db.close();
    db2.close();
  });

  it('adds uniform random over the eligible creatives as the baseline entry, weighted 1 / (eligible x propensity)', async () => {
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    // Four eligible, propensity 0.5 (uniform would have chosen it with 0.25: weight 0.5); ten eligible, propensity 0.05 (weight 2).
    await db.put('decisions', { ...decision('a', 'c1', true, true, [1, 0, 0]), eligibleCount: 4 });
    await db.put('decisions', { ...decision('b', 'c2', true, false, [0, 1, 0]), propensity: 0.05, eligibleCount: 10 });
    // A decision logged without its eligible count (an older widget) adds nothing to the baseline.
    await db.put('decisions', { ...decision('c', 'c3', true, true, [0, 0, 1]) });
    const entry = (await moveOutcomesToOutbox(db, 3, MODEL, { ...DEFAULT_PRIVACY, opeClip: 1e9 }, 0))!;
    const uniform = entry.report.ope!.find((e) => e.modelVersion === UNIFORM_POLICY)!;
    expect(uniform.sums).toEqual([2, 0.5, 2.5, 0.25, 4.25].map((x) => expect.closeTo(x, 6)));
    db.close();
  });

  it("sends the towers' gradient of its shown decisions, clipped to towerClip, in the direction of the exact gradient", async () => {
    const t = { shopperDim: SHOPPER_DIM, creativeDim: CREATIVE_DIM, hidden: 5, embed: 2 };
    const random = seededRandom(11);
    const model: ReportingModel = {
      version: VERSION,
      topology: t,
      towerWeights: Float32Array.from({ length: towerParameterCount(t) }, () => random() - 0.5),
      mean: Float64Array.from({ length: headDim(t) }, () => random() - 0.5),
    };
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    const rows = Array.from({ length: 6 }, (_, i) => ({
      shopperRow: Array.from({ length: SHOPPER_DIM }, () => Math.fround(random())),
      creativeRow: Array.from({ length: CREATIVE_DIM }, () => Math.fround(random())),
      crossRow: Array.from({ length: CROSS_DIM }, () => Math.fround(random())),
      click: i % 2 === 0,
    }));
    for (const [i, row] of rows.entries()) {
      await db.put('decisions', {
        ...decision(`d${i}`, `c${i}`, true, row.click, [1, 1, 1]),
        shopperRow: row.shopperRow,
        creativeRow: row.creativeRow,
        crossRow: row.crossRow,
        eligibleCount: 4,
      });
    }
    const entry = (await moveOutcomesToOutbox(db, 3, model, { ...DEFAULT_PRIVACY, towerClip: 0.01 }, 0))!;
    const sent = dequantizeGradient(entry.report.towers!)!;
    const exact = towerGradient(
      model.towerWeights,
      t,
      model.mean,
      rows.map((row) => ({ shopper: row.shopperRow, creative: row.creativeRow, cross: row.crossRow, reward: row.click ? 1 : 0, weight: 1 / (4 * 0.5) })),
    );
    expect(l2Norm(exact)).toBeGreaterThan(0.01); // so the clip did something
    expect(l2Norm(sent)).toBeLessThanOrEqual(0.01);
    const cosine = sent.reduce((s, x, i) => s + x * exact[i]!, 0) / (l2Norm(sent) * l2Norm(exact));
    expect(cosine).toBeGreaterThan(0.999);
    db.close();
  });

  it('sends no tower gradient for decisions logged before cross rows were kept (the gradient would need them)', async () => {
    const t = { shopperDim: SHOPPER_DIM, creativeDim: CREATIVE_DIM, hidden: 5, embed: 2 };
    const model: ReportingModel = {
      version: VERSION,
      topology: t,
      towerWeights: new Float32Array(towerParameterCount(t)).fill(0.1),
      mean: new Float64Array(headDim(t)).fill(0.1),
    };
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    await db.put('decisions', {
      ...decision('old', 'c1', true, true, new Array(headDim(t)).fill(0.5)),
      shopperRow: new Array(SHOPPER_DIM).fill(0.5),
      creativeRow: new Array(CREATIVE_DIM).fill(0.5),
      eligibleCount: 4,
    });
    const entry = (await moveOutcomesToOutbox(db, 3, model, DEFAULT_PRIVACY, 0))!;
    expect(entry.report.outcomes[0]!.clicks).toBe(1); // the outcome still counts
    expect(entry.report.head).toBeDefined(); // and the last layer still learns from it
    expect(entry.report.towers).toBeUndefined();
    db.close();
  });

  it('counts "not interested" as a dismissal, and as reward -1 in the last layer\'s statistics', async () => {
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    await db.put('decisions', { ...decision('a', 'c1', true, false, [1, 0, 1]), dismissal: true });
    const entry = (await moveOutcomesToOutbox(db, 3, MODEL, DEFAULT_PRIVACY, 0))!;
    expect(entry.report.outcomes).toEqual([{ creativeId: 'c1', impressions: 1, clicks: 0, conversions: 0, dismissals: 1 }]);
    // n = 1; upper(phi phi^T) = [1, 0, 1, 0, 0, 1]; sum r phi = -phi.
    expect(entry.report.head!.stats).toEqual([1, 1, 0, 1, 0, 0, 1, -1, 0, -1]);
    // The off-policy sums keep the click (0) as reward.
    expect(entry.report.ope).toEqual([{ modelVersion: VERSION, sums: [1, 0, 1, 0, 1] }]);
    db.close();
  });

  it('deletes decisions nothing needs any more: fully reported and older than the attribution window plus a day', async () => {
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    const DAY = 86_400_000;
    const now = 100 * DAY;
    await db.put('decisions', { ...decision('old-reported', 'c1', true, false), at: now - 10 * DAY, reported: { impression: true, click: false } });
    await db.put('decisions', { ...decision('old-new-click', 'c2', true, true), at: now - 10 * DAY, reported: { impression: true, click: false } });
    await db.put('decisions', { ...decision('recent', 'c3', true, false), at: now - 2 * DAY });
    await db.put('decisions', { ...decision('old-never-shown', 'c4', false, false), at: now - 30 * DAY });
    const entry = (await moveOutcomesToOutbox(db, 7, null, DEFAULT_PRIVACY, now, 8))!;
    // The old click is reported once, then its decision goes too; the recent one stays, marked reported.
    expect(entry.report.outcomes.map((o) => [o.creativeId, o.clicks, o.impressions])).toEqual(
      [
        ['c2', 1, 0],
        ['c3', 0, 1],
      ].sort(),
    );
    expect((await db.getAll('decisions')).map((d) => d.id)).toEqual(['recent']);
    expect((await db.get('decisions', 'recent'))!.reported.impression).toBe(true);
    db.close();
  });

  it('maps edge answers to delete, re-target or keep', () => {
    expect(outboxAction(202, '')).toEqual({ kind: 'delete' });
    expect(outboxAction(200, '{"duplicate":true}')).toEqual({ kind: 'delete' });
    expect(outboxAction(409, '{"error":"round_closed","openRound":12}')).toEqual({ kind: 'retarget', round: 12 });
    expect(outboxAction(422, '{}')).toEqual({ kind: 'delete' });
    expect(outboxAction(429, '')).toEqual({ kind: 'keep' });
    expect(outboxAction(503, '')).toEqual({ kind: 'keep' });
    expect(outboxAction(0, '')).toEqual({ kind: 'keep' });
  });
});

describe('report size', () => {
  it('stays within 16 kB in the worst case: the most creatives a report can name, the longest ids, full head statistics', async () => {
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    const phi = Array.from({ length: 22 }, (_, i) => 1.234567 + i / 7); // the demo model's head dimension, long decimals
    for (let i = 0; i < 300; i++) {
      const id = `${'c'.repeat(60)}${String(i).padStart(4, '0')}`; // 64 characters, the longest id allowed
      // Impressions only: single counts are what lets the most creatives into one clipped report.
      await db.put('decisions', { ...decision(`d${i}`, id, true, false, phi), modelVersion: VERSION });
    }
    const entry = (await moveOutcomesToOutbox(db, 3, MODEL, DEFAULT_PRIVACY, 0))!;
    const bytes = new TextEncoder().encode(JSON.stringify(entry.report)).byteLength;
    expect(entry.report.head!.stats).toHaveLength(headStatsLength(22));
    expect(entry.report.outcomes).toHaveLength(DEFAULT_PRIVACY.countClip ** 2);
    expect(bytes).toBeLessThanOrEqual(16 * 1024);
    db.close();
  });

  it('leaves out the tower gradient, then the head statistics, rather than pass 16 kB', async () => {
    const t = { shopperDim: SHOPPER_DIM, creativeDim: CREATIVE_DIM, hidden: 32, embed: 16 }; // the demo model's towers: 6,240 weights
    const model: ReportingModel = {
      version: VERSION,
      topology: t,
      towerWeights: new Float32Array(towerParameterCount(t)).fill(0.01),
      mean: new Float64Array(headDim(t)).fill(0.1),
    };
    const phi = Array.from({ length: headDim(t) }, (_, i) => 1.234567 + i / 7);
    const put = async (db: Awaited<ReturnType<typeof openDeviceStore>>, n: number, idLength: number) => {
      for (let i = 0; i < n; i++) {
        const id = `${'c'.repeat(idLength - 4)}${String(i).padStart(4, '0')}`;
        await db.put('decisions', {
          ...decision(`d${i}`, id, true, false, phi),
          shopperRow: new Array(SHOPPER_DIM).fill(0.5),
          creativeRow: new Array(CREATIVE_DIM).fill(0.5),
          crossRow: new Array(CROSS_DIM).fill(0.25),
          eligibleCount: 10,
        });
      }
    };
    // A typical device: a few outcomes; everything fits.
    const light = await openDeviceStore(`outbox-${Math.random()}`);
    await put(light, 5, 8);
    const small = (await moveOutcomesToOutbox(light, 3, model, DEFAULT_PRIVACY, 0))!;
    expect(small.report.towers).toBeDefined();
    expect(small.report.head).toBeDefined();
    expect(JSON.stringify(small.report).length).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    // The heaviest: 100 creatives with the longest ids: the gradient goes, the rest stays.
    const heavy = await openDeviceStore(`outbox-${Math.random()}`);
    await put(heavy, 300, 64);
    const big = (await moveOutcomesToOutbox(heavy, 3, model, DEFAULT_PRIVACY, 0))!;
    expect(big.report.towers).toBeUndefined();
    expect(big.report.head).toBeDefined();
    expect(new TextEncoder().encode(JSON.stringify(big.report)).byteLength).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    expect(v.is(ReportSchema, big.report)).toBe(true);
    light.close();
    heavy.close();
  });
});
