import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDeviceStore } from '../../widget/engine/device-store.ts';
import type { DecisionRecord } from '../../widget/engine/device-store.ts';
import { moveOutcomesToOutbox, outboxAction } from '../../widget/engine/report-outbox.ts';

function decision(id: string, creativeId: string, impression: boolean, click: boolean): DecisionRecord {
  return { id, at: 0, round: 1, slot: 'hero', creativeId, propensity: 0.5, modelVersion: null, impression, click, reported: { impression: false, click: false } };
}

describe('report outbox', () => {
  it('puts each outcome into exactly one report', async () => {
    const db = await openDeviceStore(`outbox-${Math.random()}`);
    await db.put('decisions', decision('d1', 'c1', true, true));
    await db.put('decisions', decision('d2', 'c1', true, false));
    await db.put('decisions', decision('d3', 'c2', false, false));
    const first = await moveOutcomesToOutbox(db, 7, null, 0);
    expect(first?.report.round).toBe(7);
    expect(first?.report.outcomes).toEqual([{ creativeId: 'c1', impressions: 2, clicks: 1 }]);
    expect(await moveOutcomesToOutbox(db, 7, null, 0)).toBeNull();
    // A later click on an already-reported impression is reported alone.
    const d2 = (await db.get('decisions', 'd2'))!;
    await db.put('decisions', { ...d2, click: true });
    const second = await moveOutcomesToOutbox(db, 7, null, 0);
    expect(second?.report.outcomes).toEqual([{ creativeId: 'c1', impressions: 0, clicks: 1 }]);
    expect((await db.getAll('outbox')).map((e) => e.reportId).sort()).toEqual([first!.reportId, second!.reportId].sort());
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
