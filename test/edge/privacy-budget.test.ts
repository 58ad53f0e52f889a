/**
 * The privacy budget against a hostile admin as much as a hostile device: the ledger charges
 * each round at its real start, the budget holds over any window of the site's period, no
 * setting moves a spend out of the window it was made in, and the accountant cannot overflow.
 * Each attack of issue 27's review is written here first and must be refused, with the spend
 * still counted.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { RoundAggregator } from '../../edge-worker/src/round-aggregator.ts';
import { reserveRelease, worstWindowAt } from '../../edge-worker/src/privacy-ledger.ts';
import { roundAggregator } from '../../edge-worker/src/rounds.ts';
import { getSite } from '../../edge-worker/src/site-store.ts';
import { DAY_MS, epsilonOfRounds, ROUND_MECHANISMS } from '../../protocol/budget-pacing.ts';
import { COUNT_MECHANISMS, DEFAULT_PRIVACY, epsilonSpent, mechanismMultipliers, PRIVACY_DELTA } from '../../protocol/privacy.ts';
import type { Ledger, SiteAnswer } from '../../protocol/admin-answers.ts';
import type { Report } from '../../protocol/wire.ts';
import { admin, closeOpenRound, epochSchedule, exactRound, expectOk, tokenOf } from './edge-helpers.ts';

const report = (round: number): Report => ({
  v: 1,
  reportId: crypto.randomUUID(),
  round,
  modelVersion: null,
  outcomes: [{ creativeId: 'c1', impressions: 1, clicks: 0, conversions: 0, dismissals: 0, value: 0 }],
});
/** Reports a round gets: its noised count (sd 4 z, z at most 8 here) then passes K = 2 whatever the noise draws. */
const SURE = 250;

const put = (site: string, settings: Record<string, unknown>) =>
  admin(`/v1/admin/sites/${site}`, 'PUT', { name: site, allowedOrigins: [], minCohort: 2, ...settings }, tokenOf(site));
const release = (site: string, round: number) => admin(`/v1/admin/sites/${site}/rounds/${round}/release`, 'POST', undefined, tokenOf(site));
const ledger = async (site: string) => (await expectOk(admin(`/v1/admin/sites/${site}/privacy`, 'GET', undefined, tokenOf(site)))) as Ledger;
const siteAnswer = async (site: string) => (await expectOk(admin(`/v1/admin/sites/${site}`, 'GET', undefined, tokenOf(site)))) as SiteAnswer;

/** `n` reports added to a round in its object, under the terms the site's round has (its window, its noise). */
async function fill(site: string, round: number, start: number, n: number): Promise<void> {
  const z = (await siteAnswer(site)).pacing.noiseMultiplier;
  const terms = { start, deadline: Date.now() + 3_600_000, minCohort: 2, privacy: { ...DEFAULT_PRIVACY, noiseMultiplier: z } };
  await runInDurableObject(roundAggregator(env.ROUNDS, site, round), async (instance) => {
    const r = instance as unknown as RoundAggregator;
    for (let i = 0; i < n; i++) await r.addReport(report(round), terms, null, crypto.randomUUID());
  });
}

/** The site's open round, filled with SURE reports and closed now (the test controls): answers its id. */
async function closedRound(site: string): Promise<number> {
  const open = (await expectOk(admin(`/v1/admin/sites/${site}/rounds/current`, 'GET', undefined, tokenOf(site)))) as { round: number; start: number };
  await fill(site, open.round, open.start, SURE);
  expect((await closeOpenRound(site)).closed).toBe(open.round);
  return open.round;
}

/** A past round of a site on the epoch schedule (round r began r days after the epoch), filled and closed. */
async function pastRound(site: string, round: number): Promise<void> {
  await fill(site, round, round * DAY_MS, SURE);
  await runDurableObjectAlarm(roundAggregator(env.ROUNDS, site, round));
  expect((await exactRound(round, site)).contributors).toBe(SURE);
}

/** Counts-only releases (no model serves: 1 mechanism and the count vector's quarter) at noise z: epsilon of k of them. */
const countsOnly = (k: number, z: number) => epsilonSpent(mechanismMultipliers(k * (1 + COUNT_MECHANISMS), z), PRIVACY_DELTA).epsilon;

describe('the budget holds over any window of the period, by the rounds real start', () => {
  it('releases while every window stays within the budget, then refuses with 403 and when the window frees; the refused round stays counted, never released', async () => {
    // Daily rounds, a one-day period, the noise set at 5: a period holds one round at full cost
    // (4.25 mechanisms, epsilon 1.83), so the site's pace is valid; rounds closed early by the
    // test controls all start within one day, and counts-only releases cost less: the budget
    // lies between k and k + 1 of them.
    const z = 5;
    const k = [1, 2, 3, 4, 5, 6].find((n) => countsOnly(n, z) >= epsilonOfRounds(1, z))!;
    const budget = Math.round(((countsOnly(k, z) + countsOnly(k + 1, z)) / 2) * 1000) / 1000;
    await expectOk(put('budget', { roundSeconds: 86_400, budgetPeriodDays: 1, epsilonBudget: budget, noiseMultiplier: z }));
    const rounds: number[] = [];
    for (let i = 0; i <= k; i++) rounds.push(await closedRound('budget'));
    for (const round of rounds.slice(0, k)) expect(((await expectOk(release('budget', round))) as { status: string }).status).toBe('released');
    const refused = await release('budget', rounds[k]!);
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { error: string; detail: string };
    expect(body.error).toBe('privacy_budget_exhausted');
    expect(body.detail).toContain(`past its budget of ${budget}`);
    expect(body.detail).toMatch(/leaves it at \d{4}-\d\d-\d\dT/);
    const l = await ledger('budget');
    expect(l.rounds.map((r) => r.mechanisms)).toEqual([...new Array<number>(k).fill(1 + COUNT_MECHANISMS), COUNT_MECHANISMS]);
    expect(l.epsilon).toBeCloseTo(epsilonSpent(mechanismMultipliers(k * (1 + COUNT_MECHANISMS) + COUNT_MECHANISMS, z), PRIVACY_DELTA).epsilon, 9);
    expect(l.epsilon).toBeLessThanOrEqual(budget);
    // Each row is charged at its round's start, within the last day.
    for (const r of l.rounds) expect(r.start).toBeGreaterThan(Date.now() - DAY_MS);
    expect(Date.parse(l.freesAt!)).toBe(l.rounds[0]!.start + DAY_MS);
    // Asked again: the same refusal, nothing more charged.
    expect((await release('budget', rounds[k]!)).status).toBe(403);
    expect((await ledger('budget')).rounds).toHaveLength(k + 1);
  });

  it('attack: a change of round length after the refusal moves nothing: the refused round is still refused and charged at its own start', async () => {
    const before = await ledger('budget');
    const refused = before.rounds.at(-1)!;
    // Two-day rounds hold no more rounds in a one-day period than daily ones: a valid setting, accepted.
    await expectOk(put('budget', { roundSeconds: 2 * 86_400, budgetPeriodDays: 1, epsilonBudget: before.budget, noiseMultiplier: 5 }));
    expect((await release('budget', refused.round)).status).toBe(403);
    const after = await ledger('budget');
    expect(after.rounds).toEqual(before.rounds);
    expect(after.epsilon).toBeCloseTo(before.epsilon, 12);
  });

  it('rounds of a window that has ended no longer count: a round 40 days back and rounds now are in different windows', async () => {
    await expectOk(put('windows', { roundSeconds: 86_400, budgetPeriodDays: 30 }));
    await epochSchedule('windows', 86_400); // rounds that began days ago exist (a site that has run that long)
    const today = Math.floor(Date.now() / DAY_MS);
    for (const round of [today - 40, today - 3, today - 2]) await pastRound('windows', round);
    for (const round of [today - 40, today - 3, today - 2]) expect((await release('windows', round)).status).toBe(200);
    const l = await ledger('windows');
    const z = (await siteAnswer('windows')).pacing.noiseMultiplier;
    // The last 30 days hold two releases; all time, three.
    expect(l.epsilon).toBeCloseTo(countsOnly(2, z), 9);
    expect(l.epsilonAllTime).toBeCloseTo(countsOnly(3, z), 9);
    expect(l.rounds.map((r) => r.start)).toEqual([(today - 40) * DAY_MS, (today - 3) * DAY_MS, (today - 2) * DAY_MS]);
    expect(Date.parse(l.freesAt!)).toBe((today - 3) * DAY_MS + 30 * DAY_MS);
  });

  it('attack: lengthening the period (30 -> 31 days) keeps every spend in its window; raising the budget or shortening the period is then refused (409), the spend still counted', async () => {
    const before = await ledger('windows');
    expect(before.epsilon).toBeGreaterThan(0);
    const settings = { roundSeconds: 86_400, epsilonBudget: 8 };
    await expectOk(put('windows', { ...settings, budgetPeriodDays: 31 }));
    const lengthened = await ledger('windows');
    expect(lengthened.periodDays).toBe(31);
    expect(lengthened.epsilon).toBeCloseTo(before.epsilon, 12); // the spend did not read 0
    for (const [change, field] of [
      [{ budgetPeriodDays: 31, epsilonBudget: 20 }, 'epsilonBudget'],
      [{ budgetPeriodDays: 30 }, 'budgetPeriodDays'],
    ] as const) {
      const r = await put('windows', { ...settings, ...change });
      expect(r.status).toBe(409);
      expect(await r.json()).toMatchObject({ error: 'privacy_only_stricter', detail: expect.stringContaining(field) });
    }
    const site = await siteAnswer('windows');
    expect([site.epsilonBudget, site.budgetPeriodDays]).toEqual([8, 31]);
    expect((await ledger('windows')).epsilon).toBeCloseTo(before.epsilon, 12);
  });

  it('two releases at the same moment cannot both pass on the same spend: the check and the write are one step', async () => {
    const site = (await getSite(env.DB, 'windows'))!;
    const rows = (await ledger('windows')).rounds;
    const z = 5;
    const now = Date.now();
    // Whatever the window holds, plus one mechanism at z = 5, fits; plus two does not.
    const inWindow = rows.filter((r) => r.start > now - site.budgetPeriodDays * DAY_MS).flatMap((r) => mechanismMultipliers(r.mechanisms, r.noiseMultiplier));
    const fits = epsilonSpent([...inWindow, z], PRIVACY_DELTA).epsilon;
    expect(epsilonSpent([...inWindow, z, z], PRIVACY_DELTA).epsilon).toBeGreaterThan(fits + 0.02);
    const tight = { ...site, epsilonBudget: Math.ceil((fits + 0.01) * 1000) / 1000 };
    const outcomes = await Promise.allSettled(
      [900_001, 900_002].map((round) => reserveRelease(env.DB, tight, { round, start: now - 1000, mechanisms: 1, noiseMultiplier: z, contributors: 3 })),
    );
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(String((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason)).toContain('privacy_budget_exhausted');
    expect((await ledger('windows')).rounds).toHaveLength(rows.length + 1);
  });

  it('a round released late is checked against every window it falls in, not only the one ending now', () => {
    // Rounds a day apart, each spending mu^2 = 1 (one mechanism at z = 1): a window of 3 days
    // holds 3 of them. Checking round 10 against only the window ending at its start would see 3;
    // the window starting at it sees rounds 10, 11, 12.
    const row = (round: number) => ({ round, start: round * DAY_MS, mechanisms: 1, noiseMultiplier: 1, contributors: 0, releasedAt: '' });
    const rows = [8, 9, 10, 11, 12].map(row);
    expect(worstWindowAt(rows, 10 * DAY_MS, 3).mu2).toBe(3);
    expect(worstWindowAt([...rows, row(13)], 11 * DAY_MS, 3).mu2).toBe(3);
    expect(worstWindowAt([row(10), row(10.5), row(12)], 10 * DAY_MS, 3).mu2).toBe(3);
  });
});

describe('an accountant that cannot fail open', () => {
  it("refuses what the schema's bounds exclude: a budget over 20, noise under 0.5 (422, with the field)", async () => {
    for (const [settings, field] of [
      [{ epsilonBudget: 1000 }, 'epsilonBudget'],
      [{ epsilonBudget: 20.5 }, 'epsilonBudget'],
      [{ noiseMultiplier: 0.05 }, 'noiseMultiplier'],
      [{ noiseMultiplier: 0.49 }, 'noiseMultiplier'],
    ] as const) {
      const r = await put('networks', settings);
      expect(r.status).toBe(422);
      expect(await r.json()).toMatchObject({ detail: expect.stringContaining(field) });
    }
  });

  it('refuses noise that would run the budget out before the period ends, with the date and the least noise that lasts', async () => {
    // Defaults: daily rounds, 30 days, budget 8, a small shop's parts; noise 5 holds 18 of the 30 rounds.
    const r = await put('networks', { noiseMultiplier: 5 });
    expect(r.status).toBe(422);
    const body = (await r.json()) as { error: string; detail: string };
    expect(body.error).toBe('budget_runs_out');
    expect(body.detail).toContain('holds 18 of the 30 rounds');
    expect(body.detail).toMatch(/would run out on \d{4}-\d\d-\d\d/);
    expect(body.detail).toContain('set noiseMultiplier to at least 6.448');
    // Paced (no noise set): every round of the period fits, and the ledger says it lasts.
    const site = (await expectOk(put('networks', {}))) as SiteAnswer;
    expect(site.pacing).toMatchObject({ paced: true, roundsPerPeriod: 30 });
    expect(site.pacing.noiseMultiplier).toBeCloseTo(6.447, 3);
    expect(epsilonOfRounds(30, site.pacing.noiseMultiplier)).toBeCloseTo(8, 6);
    const l = await ledger('networks');
    expect(l.pacing).toMatchObject({ paced: true, roundsPerPeriod: 30, runsOutAt: null });
    expect(l.pacing.roundsLeft).toBe(30);
  });

  it('at the extremes the schema allows (budget 20, a round a month, a one-day period: noise 0.56), releases stop at the budget and the ledger stays finite', async () => {
    const site = (await expectOk(put('networks', { epsilonBudget: 20, budgetPeriodDays: 1, roundSeconds: 30 * 86_400 }))) as SiteAnswer;
    expect(site.pacing.noiseMultiplier).toBeCloseTo(0.557, 3);
    // Charged rounds just before the open one (their starts a second apart, within one day).
    const openStart = ((await expectOk(admin('/v1/admin/sites/networks/rounds/current', 'GET', undefined, tokenOf('networks')))) as { start: number }).start;
    const row = (round: number) => ({
      round,
      start: openStart - round * 1000,
      mechanisms: ROUND_MECHANISMS,
      noiseMultiplier: site.pacing.noiseMultiplier,
      contributors: 9,
    });
    const full = (await getSite(env.DB, 'networks'))!;
    expect((await reserveRelease(env.DB, full, row(1))).epsilon).toBeLessThanOrEqual(20);
    // A second full round in the same day would spend 33: refused, not wrapped around or capped.
    await expect(reserveRelease(env.DB, full, row(2))).rejects.toThrow('privacy_budget_exhausted');
    // Mechanisms whose account overflowed the old accountant (epsilon past 709.78): refused too.
    await expect(reserveRelease(env.DB, { ...full, budgetPeriodDays: 1 }, { ...row(3), noiseMultiplier: 0.05, mechanisms: 40 })).rejects.toThrow(
      'privacy_budget_exhausted',
    );
    const l = await ledger('networks');
    expect(Number.isFinite(l.epsilon)).toBe(true);
    expect(l.epsilon).toBeLessThanOrEqual(20);
    // The open round starts within a day of the charged one: at one release a round, it is the one the budget would not hold.
    expect(l.pacing.runsOutAt).toBe(new Date(openStart).toISOString());
    expect(l.pacing.roundsLeft).toBe(0);
  });
});
