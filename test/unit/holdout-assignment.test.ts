import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { HOLDOUT_CREATIVE, HOLDOUT_DAYS, heldOut } from '../../protocol/holdout.ts';
import { openDeviceStore } from '../../widget/engine/device-store.ts';
import { HoldoutAssignment, holdoutDecisions, readHoldoutDraw } from '../../widget/engine/holdout-assignment.ts';
import { markOutcome } from '../../widget/engine/decision-log.ts';
import { moveOutcomesToOutbox } from '../../widget/engine/report-outbox.ts';
import { DEFAULT_PRIVACY } from '../../protocol/privacy.ts';

const DAY = 86_400_000;
let n = 0;
const site = () => `holdout-${n++}`;
/** A uniform that answers the given values in turn and counts its calls. */
function draws(...values: number[]) {
  const source = Object.assign(() => (source.calls++, values.shift() ?? 0.5), { calls: 0 });
  return source;
}
// The writes made behind an answer need no waiting for: IndexedDB runs a later transaction on
// the same store after an earlier read-write one, so the reads below see them.

describe('the holdout assignment on the device', () => {
  it('holds a device out when its draw is below the share, and never when the share is 0', () => {
    expect(heldOut(0.049, 0.05)).toBe(true);
    expect(heldOut(0.05, 0.05)).toBe(false);
    expect(heldOut(0, 0)).toBe(false);
  });

  it('draws once, keeps the draw across pages for HOLDOUT_DAYS, then draws again', async () => {
    const db = await openDeviceStore(site());
    const now = Date.UTC(2026, 11, 5);
    const first = draws(0.03);
    expect(new HoldoutAssignment(await readHoldoutDraw(db, now), first, db).heldOut(0.05, now)).toBe(true);
    // The next page, a day later: the kept draw, no new one (whatever the randomness would say now).
    const later = draws(0.9);
    expect(new HoldoutAssignment(await readHoldoutDraw(db, now + DAY), later, db).heldOut(0.05, now + DAY)).toBe(true);
    expect(later.calls).toBe(0);
    // Past the period: the draw has run out and a new one decides.
    const expired = now + HOLDOUT_DAYS * DAY;
    expect(await readHoldoutDraw(db, expired)).toBeNull();
    const next = draws(0.9);
    expect(new HoldoutAssignment(await readHoldoutDraw(db, expired), next, db).heldOut(0.05, expired)).toBe(false);
    expect(next.calls).toBe(1);
    db.close();
  });

  it('does not draw at all while the site holds no device out (the simulator relies on it)', async () => {
    const db = await openDeviceStore(site());
    const source = draws();
    const assignment = new HoldoutAssignment(null, source, db);
    expect(assignment.heldOut(0, Date.now())).toBe(false);
    expect(source.calls).toBe(0);
    expect(await readHoldoutDraw(db, Date.now())).toBeNull();
    db.close();
  });

  it("logs a held-out slot's decision under the holdout's pseudo creative, with nothing a model learns from", async () => {
    const db = await openDeviceStore(site());
    const [decision] = holdoutDecisions(db, ['hero'], 7, 1000);
    expect(decision).toMatchObject({ slot: 'hero', holdout: true });
    const logged = await db.get('decisions', decision!.id);
    expect(logged).toMatchObject({ creativeId: HOLDOUT_CREATIVE, round: 7, propensity: 1, modelVersion: null, phi: null, impression: false, click: false });
    expect(logged!.cell).toBeUndefined();
    db.close();
  });

  it("reports the held-out slot's impression and click under the holdout's pseudo creative, and nothing a model learns from", async () => {
    const db = await openDeviceStore(site());
    const [decision] = holdoutDecisions(db, ['hero'], 7, 1000);
    await markOutcome(db, decision!.id, 'impression', 1100);
    await markOutcome(db, decision!.id, 'click', 1200);
    const model = {
      version: '0123456789abcdef',
      topology: { shopperDim: 2, creativeDim: 2, hidden: 2, embed: 2 },
      towerWeights: new Float32Array(24),
      mean: [0, 0, 0],
    };
    const entry = await moveOutcomesToOutbox(db, 7, model, DEFAULT_PRIVACY, 2000, 8, ['head', 'ope', 'offsets']);
    expect(entry!.report.outcomes).toEqual([{ creativeId: HOLDOUT_CREATIVE, impressions: 1, clicks: 1, conversions: 0, dismissals: 0 }]);
    expect(entry!.report.head).toBeUndefined();
    expect(entry!.report.ope).toBeUndefined();
    expect(entry!.report.offsets).toBeUndefined();
    db.close();
  });
});
