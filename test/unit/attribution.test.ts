import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import { attributePurchase, repeatsOrder, revenueOf } from '../../widget/engine/attribution.ts';
import { recordEvents } from '../../widget/engine/event-log.ts';
import { parseTrackCall } from '../../widget/engine/track-command.ts';
import { HOLDOUT_CREATIVE } from '../../protocol/holdout.ts';
import { valueUnits } from '../../protocol/outcome-counts.ts';
import { ReportSchema } from '../../protocol/wire.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';
import * as v from 'valibot';
import { openDeviceStore } from '../../widget/engine/device-store.ts';
import type { DecisionRecord } from '../../widget/engine/device-store.ts';
import { moveOutcomesToOutbox } from '../../widget/engine/report-outbox.ts';

const DAY = 86_400_000;
const T = 100 * DAY;

function decision(id: string, creativeId: string, at: number, clickedAt?: number): DecisionRecord {
  return {
    id,
    at,
    round: 1,
    slot: 'hero',
    creativeId,
    propensity: 0.5,
    modelVersion: null,
    impression: true,
    click: clickedAt !== undefined,
    clickedAt,
    reported: { impression: false, click: false },
  };
}

describe('conversions (last click within the attribution window)', () => {
  it('converts the most recent click before the purchase, once', async () => {
    const db = await openDeviceStore(`attr-${Math.random()}`);
    await db.put('decisions', decision('old', 'c1', T - 3 * DAY, T - 3 * DAY + 1000));
    await db.put('decisions', decision('new', 'c2', T - DAY, T - DAY + 1000));
    await db.put('decisions', decision('shown-only', 'c3', T - 1000));
    expect(await attributePurchase(db, T)).toBe('new');
    expect((await db.get('decisions', 'new'))!.conversion).toBe(true);
    // A second purchase converts the next click back, never the same decision twice.
    expect(await attributePurchase(db, T + 1000)).toBe('old');
    expect(await attributePurchase(db, T + 2000)).toBeNull();
    db.close();
  });

  it('ignores clicks outside the window, and clicks after the purchase', async () => {
    const db = await openDeviceStore(`attr-${Math.random()}`);
    await db.put('decisions', decision('stale', 'c1', T - 8 * DAY, T - 8 * DAY + 1000));
    await db.put('decisions', decision('later', 'c2', T - 1000, T + 5000));
    expect(await attributePurchase(db, T)).toBeNull();
    expect(await attributePurchase(db, T, 9)).toBe('stale'); // a 9-day window reaches it
    db.close();
  });

  it('puts the conversion into the next report, once', async () => {
    const db = await openDeviceStore(`attr-${Math.random()}`);
    await db.put('decisions', decision('d', 'c1', T - DAY, T - DAY + 1000));
    const first = (await moveOutcomesToOutbox(db, 7, null, DEFAULT_PRIVACY, T))!;
    expect(first.report.outcomes).toEqual([{ creativeId: 'c1', impressions: 1, clicks: 1, conversions: 0, dismissals: 0 }]);
    await attributePurchase(db, T);
    const second = (await moveOutcomesToOutbox(db, 8, null, DEFAULT_PRIVACY, T))!;
    expect(second.report.outcomes).toEqual([{ creativeId: 'c1', impressions: 0, clicks: 0, conversions: 1, dismissals: 0 }]);
    expect(await moveOutcomesToOutbox(db, 9, null, DEFAULT_PRIVACY, T)).toBeNull();
    db.close();
  });

  it("carries the order value as revenue, in whole units of the site's valueUnit, with the conversion and once", async () => {
    const db = await openDeviceStore(`attr-${Math.random()}`);
    await db.put('decisions', decision('d', 'c1', T - DAY, T - DAY + 1000));
    await db.put('decisions', { ...decision('h', HOLDOUT_CREATIVE, T - DAY, T - DAY + 500), slot: 'side' });
    expect(await attributePurchase(db, T, 7, 60)).toBe('d'); // the latest click: 60 in the site's currency
    expect(await attributePurchase(db, T + 1, 7, 45)).toBe('h'); // the held-out slot's own content converts as a creative does
    const report = (await moveOutcomesToOutbox(db, 7, null, { ...DEFAULT_PRIVACY, valueUnit: 15 }, T + 2))!.report;
    const byId = Object.fromEntries(report.outcomes.map((o) => [o.creativeId, o]));
    expect(byId.c1).toEqual({ creativeId: 'c1', impressions: 1, clicks: 1, conversions: 1, dismissals: 0, value: 4 }); // 60 / 15
    expect(byId[HOLDOUT_CREATIVE]!.value).toBe(3); // 45 / 15
    expect(v.parse(ReportSchema, report)).toEqual(report); // what the edge takes
    const next = await moveOutcomesToOutbox(db, 8, null, DEFAULT_PRIVACY, T + 3);
    expect(next).toBeNull();
    db.close();
  });

  it("counts revenue only in the site's currency, and rounds a part unit up or down so that nothing is biased", () => {
    expect(revenueOf({ type: 'purchase', at: T, value: 80 }, 'EUR')).toBe(80);
    expect(revenueOf({ type: 'purchase', at: T, value: 80, currency: 'EUR' }, 'EUR')).toBe(80);
    expect(revenueOf({ type: 'purchase', at: T, value: 80, currency: 'USD' }, 'EUR')).toBeUndefined(); // no exchange rates on the device
    expect(revenueOf({ type: 'purchase', at: T }, 'EUR')).toBeUndefined();
    expect(revenueOf({ type: 'purchase', at: T, value: -5 }, 'EUR')).toBeUndefined();
    const random = seededRandom(7);
    const draws = Array.from({ length: 20_000 }, () => valueUnits(50, 20, random));
    expect(new Set(draws)).toEqual(new Set([2, 3]));
    expect(draws.reduce((a, b) => a + b, 0) / draws.length).toBeCloseTo(2.5, 1);
    expect(valueUnits(0, 20, random)).toBe(0);
  });

  it('an order recorded again (a confirmation page reloaded) is known by its order id, and converts nothing twice', async () => {
    const db = await openDeviceStore(`attr-${Math.random()}`);
    const order = { type: 'purchase' as const, at: T, value: 60, orderId: 'T-1001' };
    expect(await repeatsOrder(db, order)).toBe(false);
    await recordEvents(db, [order], undefined, T); // stored as of its own time (retention counts from now)
    expect(await repeatsOrder(db, order)).toBe(false); // itself, stored: not an earlier one
    expect(await repeatsOrder(db, { ...order, at: T + 60_000 })).toBe(true); // the page reloaded a minute later
    expect(await repeatsOrder(db, { ...order, at: T + 60_000, orderId: 'T-1002' })).toBe(false);
    expect(await repeatsOrder(db, { type: 'purchase', at: T + 60_000, value: 60 })).toBe(false); // no id: nothing to know it by
    expect(parseTrackCall('purchase', { value: 60, transaction_id: 'T-9' }, T)).toMatchObject({ orderId: 'T-9' });
    db.close();
  });
});
