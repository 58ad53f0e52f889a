import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIVACY, headStatsLength, l2Norm } from '../../protocol/privacy.ts';
import { ReportSchema } from '../../protocol/wire.ts';
import * as v from 'valibot';
import { openDeviceStore } from '../../widget/engine/device-store.ts';
import type { DecisionRecord } from '../../widget/engine/device-store.ts';
import { headStatistics, moveOutcomesToOutbox, outboxAction } from '../../widget/engine/report-outbox.ts';
import type { ReportingModel } from '../../widget/engine/report-outbox.ts';

const VERSION = '0123456789abcdef';
/** A serving model as far as reports need it; decisions without tower inputs never use the weights. */
const MODEL: ReportingModel = { version: VERSION, topology: { shopperDim: 2, creativeDim: 2, hidden: 2, embed: 2 }, towerWeights: new Float32Array(24), mean: [0, 0, 0] };

function decision(id: string, creativeId: string, impression: boolean, click: boolean, phi: number[] | null = null): DecisionRecord {
  return { id, at: 0, round: 1, slot: 'hero', creativeId, propensity: 0.5, modelVersion: phi ? VERSION : null, phi, impression, click, reported: { impression: false, click: false } };
}

describe('report outbox', () => {
  it('puts each outcome into exactly one report, and makes at most one report per round', async () => {
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    await db.put('decisions', decision('d1', 'c1', true, true));
    await db.put('decisions', decision('d2', 'c1', true, false));
    await db.put('decisions', decision('d3', 'c2', false, false));
    const first = await moveOutcomesToOutbox(db, 7, null, DEFAULT_PRIVACY, 0);
    expect(first?.report.round).toBe(7);
    expect(first?.report.outcomes).toEqual([{ creativeId: 'c1', impressions: 2, clicks: 1, conversions: 0 }]);
    expect(await db.get('ledger', 7)).toMatchObject({ round: 7, reportId: first!.reportId });
    // A later click on an already-reported impression waits for the next round...
    const d2 = (await db.get('decisions', 'd2'))!;
    await db.put('decisions', { ...d2, click: true });
    expect(await moveOutcomesToOutbox(db, 7, null, DEFAULT_PRIVACY, 0)).toBeNull();
    // ...and is reported there, alone.
    const second = await moveOutcomesToOutbox(db, 8, null, DEFAULT_PRIVACY, 0);
    expect(second?.report.outcomes).toEqual([{ creativeId: 'c1', impressions: 0, clicks: 1, conversions: 0 }]);
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
    expect(l2Norm(headStatistics(Array.from({ length: 60 }, () => ({ phi: [10, 5, 3], reward: 1 })), 3))).toBeGreaterThan(DEFAULT_PRIVACY.headClip);
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
    const phi = Array.from({ length: 21 }, (_, i) => 1.234567 + i / 7); // the demo model's head dimension, long decimals
    for (let i = 0; i < 300; i++) {
      const id = `${'c'.repeat(60)}${String(i).padStart(4, '0')}`; // 64 characters, the longest id allowed
      // Impressions only: single counts are what lets the most creatives into one clipped report.
      await db.put('decisions', { ...decision(`d${i}`, id, true, false, phi), modelVersion: VERSION });
    }
    const entry = (await moveOutcomesToOutbox(db, 3, MODEL, DEFAULT_PRIVACY, 0))!;
    const bytes = new TextEncoder().encode(JSON.stringify(entry.report)).byteLength;
    expect(entry.report.head!.stats).toHaveLength(headStatsLength(21));
    expect(entry.report.outcomes).toHaveLength(DEFAULT_PRIVACY.countClip ** 2);
    expect(bytes).toBeLessThanOrEqual(16 * 1024);
    db.close();
  });
});
