/** The budget paced over its period (protocol/budget-pacing.ts) and what the ledger projects from it (edge-worker/src/privacy-ledger.ts budgetOutlook). */
import { describe, expect, it } from 'vitest';
import { budgetOutlook } from '../../edge-worker/src/privacy-ledger.ts';
import type { LedgerRow } from '../../edge-worker/src/privacy-ledger.ts';
import { budgetRunsOut, DAY_MS, epsilonOfRounds, pacedNoise, pacingOf, ROUND_MECHANISMS, roundsPerPeriod, roundsWithin } from '../../protocol/budget-pacing.ts';

const DEFAULTS = { epsilonBudget: 8, budgetPeriodDays: 30, roundSeconds: 86_400 };

describe('the budget paced over the period', () => {
  it('at the defaults every one of the 30 daily rounds fits the budget of 8, where the old noise of 5 held 18 (13 with the head and towers collected too)', () => {
    const pacing = pacingOf(DEFAULTS);
    expect(pacing.roundsPerPeriod).toBe(30);
    expect(pacing.paced).toBe(true);
    expect(epsilonOfRounds(30, pacing.noiseMultiplier)).toBeCloseTo(8, 9);
    expect(epsilonOfRounds(31, pacing.noiseMultiplier)).toBeGreaterThan(8);
    expect(pacing.roundsPerBudget).toBe(30);
    expect(roundsWithin(8, 5)).toBe(18);
    expect(roundsWithin(8, 5, 4.25)).toBe(13);
    expect(budgetRunsOut(DEFAULTS, 0)).toBeNull();
  });

  it('noise set below the pace is refused with the day the budget would run out; at or above it, accepted', () => {
    const now = Date.UTC(2026, 11, 4);
    expect(budgetRunsOut({ ...DEFAULTS, noiseMultiplier: 5 }, now)).toContain('would run out on 2026-12-22');
    expect(budgetRunsOut({ ...DEFAULTS, noiseMultiplier: pacedNoise(8, 30) }, now)).toBeNull();
    expect(budgetRunsOut({ ...DEFAULTS, noiseMultiplier: 20 }, now)).toBeNull();
    // Hourly rounds: 720 a period, so the pace is far more noise per round.
    expect(roundsPerPeriod(3600, 30)).toBe(720);
    expect(pacingOf({ ...DEFAULTS, roundSeconds: 3600 }).noiseMultiplier).toBeCloseTo(pacedNoise(8, 720), 12);
  });

  it('the ledger projects a paced site forever: with a full window of paced rounds, each new round fits as the oldest leaves', () => {
    const site = { ...DEFAULTS, pacing: pacingOf(DEFAULTS) };
    const now = Date.UTC(2026, 11, 4, 12);
    const today = Math.floor(now / DAY_MS) * DAY_MS;
    const row = (daysBack: number): LedgerRow => ({
      round: daysBack,
      start: today - daysBack * DAY_MS,
      mechanisms: ROUND_MECHANISMS,
      noiseMultiplier: site.pacing.noiseMultiplier,
      contributors: 100,
      releasedAt: '',
    });
    const rows = Array.from({ length: 29 }, (_, i) => row(i + 1)); // yesterday and the 28 days before
    const outlook = budgetOutlook(site, rows, today, now);
    expect(outlook.epsilon).toBeCloseTo(epsilonOfRounds(29, site.pacing.noiseMultiplier), 9);
    expect(outlook.roundsLeft).toBe(1);
    expect(outlook.runsOutAt).toBeNull();
    expect(outlook.freesAt).toBe(today - 29 * DAY_MS + 30 * DAY_MS);
    // Noise of 5 (a site that set it before the pace existed): the projection says which round the budget would not hold.
    const loose = { ...DEFAULTS, pacing: pacingOf({ ...DEFAULTS, noiseMultiplier: 5 }) };
    expect(budgetOutlook(loose, [], today, now).runsOutAt).toBe(today + 18 * DAY_MS);
  });
});
