import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../protocol/wire.ts';
import type { RoundAggregator } from '../../edge-worker/src/round-aggregator.ts';
import { COUNT_MECHANISMS, DEFAULT_PRIVACY, epsilonSpent, mechanismMultipliers } from '../../protocol/privacy.ts';
import { roundAggregator } from '../../edge-worker/src/rounds.ts';
import { reserveRelease } from '../../edge-worker/src/privacy-ledger.ts';
import { getSite } from '../../edge-worker/src/site-store.ts';
import { admin, currentRoundId, epochSchedule, exactRound, expectOk, openTerms, postReport, seedDemoSite, SHOP_ORIGIN } from './edge-helpers.ts';

const report = (round: number, clicks = 1): Report => ({
  v: 1,
  reportId: crypto.randomUUID(),
  round,
  modelVersion: null,
  outcomes: [{ creativeId: 'c-p1', impressions: 2, clicks, conversions: 0, dismissals: 0 }],
});

/** Runs `callback` inside one round's Durable Object, typed as the class it is. */
function inRound<R>(stub: DurableObjectStub, callback: (round: RoundAggregator) => R | Promise<R>): Promise<R> {
  return runInDurableObject(stub, (instance) => callback(instance as unknown as RoundAggregator));
}

/** The count vector's noise sd at the default multiplier (4 z = 20): a cohort of N reports passes K = 3 for sure once N is 150 (7 sd). */
const COUNT_SD = 4 * DEFAULT_PRIVACY.noiseMultiplier;
const SURE = 150;

describe('rounds: close at the deadline, release only above the minimum cohort', () => {
  beforeAll(async () => {
    await seedDemoSite(3);
    await epochSchedule('demo', 86_400); // rounds that began days ago exist (a site that has run that long)
  });

  it('keeps the open round closed to readers, whatever has arrived', async () => {
    const round = await currentRoundId();
    expect((await postReport('demo', report(round))).status).toBe(202);
    const r = await admin(`/v1/admin/sites/demo/rounds/${round}`, 'GET');
    expect(await r.json()).toMatchObject({ status: 'open', minCohort: 3 });
    expect(JSON.stringify(await (await admin(`/v1/admin/sites/demo/rounds/${round}`, 'GET')).json())).not.toContain('totals');
    // Nor can it be released before it closes.
    const early = await admin(`/v1/admin/sites/demo/rounds/${round}/release`, 'POST');
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ error: 'round_open' });
  });

  it('says of a past round only that it closed until it is counted; counting charges a quarter mechanism and draws a noised count', async () => {
    const round = (await currentRoundId()) - 5;
    const body = (await (await admin(`/v1/admin/sites/demo/rounds/${round}`, 'GET')).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'closed', minCohort: 3 });
    expect(body.contributors).toBeUndefined();
    expect(body.totals).toBeUndefined();
    // Nobody reported: the noised count is almost surely below K = 3 + 7 sd.
    await expectOk(admin('/v1/admin/sites/demo', 'PUT', { name: 'Demo', allowedOrigins: [SHOP_ORIGIN], minCohort: 3 + 7 * COUNT_SD }));
    const counted = (await expectOk(admin(`/v1/admin/sites/demo/rounds/${round}/release`, 'POST'))) as { status: string; contributors: number };
    expect(counted.status).toBe('below_cohort');
    expect(Number.isInteger(counted.contributors)).toBe(true);
    expect(Math.abs(counted.contributors)).toBeLessThan(7 * COUNT_SD);
    const ledger = (await expectOk(admin('/v1/admin/sites/demo/privacy', 'GET'))) as { rounds: { round: number; mechanisms: number; contributors: number }[] };
    expect(ledger.rounds).toEqual([expect.objectContaining({ round, mechanisms: COUNT_MECHANISMS, contributors: counted.contributors })]);
    // Counting again draws nothing new and charges nothing more.
    expect(await expectOk(admin(`/v1/admin/sites/demo/rounds/${round}/release`, 'POST'))).toMatchObject({
      status: 'below_cohort',
      contributors: counted.contributors,
    });
    expect(((await expectOk(admin('/v1/admin/sites/demo/privacy', 'GET'))) as { rounds: unknown[] }).rounds).toHaveLength(1);
  });

  it('noises the head for the bound the round began under, and ignores a head over it when the site raised its bound mid-round', async () => {
    const stub = env.ROUNDS.get(env.ROUNDS.idFromName('demo/900011'));
    const tight = openTerms(2, { ...DEFAULT_PRIVACY, headClip: 20 });
    const raised = { ...tight, privacy: { ...DEFAULT_PRIVACY, headClip: 2000 } };
    const head = (stats: number[]) => ({ model: 'aaaaaaaaaaaaaaaa', head: stats, ope: null, towers: null });
    const withHead = (stats: number[]): Report => ({ ...report(900011), modelVersion: 'aaaaaaaaaaaaaaaa', head: { stats } });
    const small = [1, 2, 3, 4, 5, 6, 7]; // norm 11.8
    const large = [10, 20, 30, 4, 5, 6, 7]; // norm 39: within the raised bound, over the round's
    const outcomes = await inRound(stub, async (round) => [
      await round.addReport(withHead(small), tight, head(small), crypto.randomUUID()),
      await round.addReport(withHead(large), raised, head(large), crypto.randomUUID()),
      await round.addReport(withHead(small), raised, head(small), crypto.randomUUID()),
    ]);
    expect(outcomes.map((o) => o.head)).toEqual(['counted', 'ignored_over_round_bound', 'counted']);
    await runDurableObjectAlarm(stub);
    const shape = { model: 'aaaaaaaaaaaaaaaa', headLength: 7, towerParameters: 3, opeModels: ['aaaaaaaaaaaaaaaa'] };
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec('UPDATE terms SET min_cohort = -1000')); // K passed whatever the count's noise
    const release = (await inRound(stub, async (round) => {
      await round.count('demo', 900011, tight, shape.model);
      return round.releaseNoised('demo', 900011, ['c-p1'], shape);
    }))!;
    expect(release.noise.headStd).toBe(DEFAULT_PRIVACY.noiseMultiplier * 20);
    expect((await exactRound(900011)).head!.reports).toBe(2);
  });

  it('keeps the off-policy bound the round began under: sums over it, sent after the site raised its bound, are ignored', async () => {
    const stub = env.ROUNDS.get(env.ROUNDS.idFromName('demo/900012'));
    const tight = openTerms(2, { ...DEFAULT_PRIVACY, opeClip: 5 });
    const raised = { ...tight, privacy: { ...DEFAULT_PRIVACY, opeClip: 50 } };
    const ope = (sums: number[]) => ({ model: 'aaaaaaaaaaaaaaaa', head: null, ope: [{ modelVersion: 'aaaaaaaaaaaaaaaa', sums }], towers: null });
    const withOpe = (sums: number[]): Report => ({ ...report(900012), modelVersion: 'aaaaaaaaaaaaaaaa', ope: [{ modelVersion: 'aaaaaaaaaaaaaaaa', sums }] });
    const small = [2, 1, 2, 1, 2]; // norm 3.7
    const large = [20, 10, 20, 10, 20]; // norm 37: within the raised bound, over the round's
    const outcomes = await inRound(stub, async (round) => [
      await round.addReport(withOpe(small), tight, ope(small), crypto.randomUUID()),
      await round.addReport(withOpe(large), raised, ope(large), crypto.randomUUID()),
    ]);
    expect(outcomes.map((o) => o.ope)).toEqual(['counted', 'ignored_over_round_bound']);
    expect((await exactRound(900012)).ope).toEqual({ aaaaaaaaaaaaaaaa: small });
  });

  it('closes at the deadline: later reports are refused; at K contributors the sums are released noised, once', async () => {
    const stub = env.ROUNDS.get(env.ROUNDS.idFromName('demo/900001'));
    const terms = openTerms(3, DEFAULT_PRIVACY);
    const withHead = (clicks: number): Report => ({ ...report(900001, clicks), modelVersion: 'aaaaaaaaaaaaaaaa', head: { stats: [1, 2, 3, 4, 5, 6, 7] } });
    const results = await inRound(stub, async (round) => [
      await round.addReport(withHead(1), terms, { model: 'aaaaaaaaaaaaaaaa', head: [1, 2, 3, 4, 5, 6, 7], ope: null, towers: null }, crypto.randomUUID()),
      await round.addReport(withHead(0), terms, { model: 'aaaaaaaaaaaaaaaa', head: [1, 2, 3, 4, 5, 6, 7], ope: null, towers: null }, crypto.randomUUID()),
      await round.addReport(withHead(1), terms, { model: 'bbbbbbbbbbbbbbbb', head: [1, 2, 3, 4, 5, 6, 7], ope: null, towers: null }, crypto.randomUUID()),
    ]);
    expect(results.map((r) => [r.closed, r.duplicate, r.head])).toEqual([
      [false, false, 'counted'],
      [false, false, 'counted'],
      [false, false, 'ignored_other_model'],
    ]);
    expect((await inRound(stub, (round) => round.status(terms))).status).toBe('open');
    // The round's alarm, run now instead of at its deadline: the round is closed after it.
    await runDurableObjectAlarm(stub);
    const late = await inRound(stub, (round) => round.addReport(report(900001, 1), terms, null, crypto.randomUUID()));
    expect(late.closed).toBe(true);
    // Closed, and not counted yet: nothing is known of how many reported.
    expect(await inRound(stub, (round) => round.status(terms))).toEqual({
      status: 'closed',
      minCohort: 3,
      start: terms.start,
      deadline: terms.deadline,
      noiseMultiplier: DEFAULT_PRIVACY.noiseMultiplier,
    });
    const shape = { model: 'aaaaaaaaaaaaaaaa', headLength: 7, towerParameters: 3, opeModels: ['aaaaaaaaaaaaaaaa'] };
    // K below zero: the cohort check passes whatever the noise drew, so the release itself is what
    // this test is about (the check is the next tests'). The terms are the round's own, fixed at its first report.
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec('UPDATE terms SET min_cohort = -1000'));
    const counted = await inRound(stub, (round) => round.count('demo', 900001, terms, shape.model));
    expect(counted).toMatchObject({ status: 'releasable', minCohort: -1000 });
    const release = (await inRound(stub, (round) => round.releaseNoised('demo', 900001, ['c-p1', 'c-p2'], shape)))!;
    // Every creative of the site is listed, zeros included, and every number carries noise.
    expect(release.totals.map((t) => t.creativeId)).toEqual(['c-p1', 'c-p2']);
    expect(release.totals[0]!.impressions).not.toBe(6);
    const z = DEFAULT_PRIVACY.noiseMultiplier;
    expect(release.noise).toEqual({
      multiplier: z,
      countStd: z * 10,
      headStd: z * DEFAULT_PRIVACY.headClip,
      opeStd: z * 50,
      towerStd: z * DEFAULT_PRIVACY.towerClip,
      reportsStd: COUNT_SD,
    });
    // The fixed shape: every part, zeros plus noise where nobody sent one.
    expect(release.ope!.models.map((m) => m.modelVersion)).toEqual(['aaaaaaaaaaaaaaaa']);
    expect(release.towers!.sums).toHaveLength(3);
    expect(release.head!.modelVersion).toBe('aaaaaaaaaaaaaaaa');
    // Counts are noised too: the count vector's integers, with the one the cohort check was made on.
    expect(release.contributors).toBe((counted as { contributors: number }).contributors);
    for (const n of [release.contributors, release.head!.reports, release.ope!.reports, release.towers!.reports]) {
      expect(Number.isInteger(n)).toBe(true);
      expect(Math.abs(n - 2)).toBeLessThan(7 * COUNT_SD);
    }
    expect(release.head!.stats).toHaveLength(7);
    expect(release.head!.stats).not.toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(release.mechanisms).toBe(4 + COUNT_MECHANISMS);
    // Reading it again gives the same noised numbers: the noise cannot be averaged away.
    expect(await inRound(stub, (round) => round.releaseNoised('demo', 900001, ['c-p1', 'c-p2'], shape))).toEqual(release);
    expect(await inRound(stub, (round) => round.status(terms))).toMatchObject({ status: 'released', release });
  });

  it('withholds the sums of a closed round whose noised count is below K', async () => {
    const stub = env.ROUNDS.get(env.ROUNDS.idFromName('demo/900002'));
    const terms = openTerms(2 + 7 * COUNT_SD, DEFAULT_PRIVACY);
    await inRound(stub, async (round) => {
      await round.addReport(report(900002), terms, null, crypto.randomUUID());
      await round.addReport(report(900002), terms, null, crypto.randomUUID());
    });
    await runDurableObjectAlarm(stub);
    const counted = await inRound(stub, (round) => round.count('demo', 900002, terms, null));
    expect(counted).toMatchObject({ status: 'below_cohort', minCohort: terms.minCohort, deadline: terms.deadline });
    expect((counted as { contributors: number }).contributors).not.toBeUndefined();
    expect(await inRound(stub, (round) => round.releaseNoised('demo', 900002, ['c-p1'], null))).toBeNull();
  });

  it('checks the cohort on the noised count: the same exact count of reports falls on either side of K', async () => {
    // Many closed rounds of exactly K reports: the noised count (sd 4 z) passes K about half the time.
    const terms = openTerms(3, { ...DEFAULT_PRIVACY, noiseMultiplier: 1 });
    const rounds = Array.from({ length: 16 }, (_, i) => 900300 + i);
    for (const round of rounds) {
      await inRound(env.ROUNDS.get(env.ROUNDS.idFromName(`demo/${round}`)), async (r) => {
        for (let k = 0; k < 3; k++) await r.addReport(report(round), terms, null, crypto.randomUUID());
      });
    }
    for (const round of rounds) await runDurableObjectAlarm(env.ROUNDS.get(env.ROUNDS.idFromName(`demo/${round}`)));
    const statuses = await Promise.all(
      rounds.map((round) => inRound(env.ROUNDS.get(env.ROUNDS.idFromName(`demo/${round}`)), (r) => r.count('demo', round, terms, null))),
    );
    // 16 fair coins all alike: 2 in 65,536.
    expect(new Set(statuses.map((s) => s.status))).toEqual(new Set(['below_cohort', 'releasable']));
    for (const s of statuses) expect((s as { contributors: number }).contributors >= 3).toBe(s.status === 'releasable');
  });
});

describe('the privacy budget', () => {
  beforeAll(async () => {
    await seedDemoSite(3);
    await epochSchedule('demo', 86_400);
  });

  /** A past round of the demo site with `n` reports in it, closed. */
  async function closedRound(round: number, n: number): Promise<void> {
    const stub = roundAggregator(env.ROUNDS, 'demo', round);
    const terms = openTerms(3, DEFAULT_PRIVACY);
    await inRound(stub, async (r) => {
      for (let i = 0; i < n; i++) await r.addReport(report(round), terms, null, crypto.randomUUID());
    });
    await runDurableObjectAlarm(stub);
    // Every report made it in before the deadline: the test is about the budget, not the clock.
    expect((await exactRound(round)).contributors).toBe(n);
  }

  it('releases rounds while the ledger stays within the budget, then refuses with 403 and a reason', async () => {
    // One release of counts alone (one mechanism at z = 5, and its count vector at 2 z: 1.25) costs
    // epsilon 0.97 at delta 1e-6; two 1.38; three 1.71 (exact GDP account). The budget lies between two and three.
    const z = DEFAULT_PRIVACY.noiseMultiplier;
    const releases = (k: number) => epsilonSpent(mechanismMultipliers(k * (1 + COUNT_MECHANISMS), z), 1e-6).epsilon;
    const budget = Math.round(((releases(2) + releases(3)) / 2) * 100) / 100;
    // Three days of the previous 30-day budget period (rounds are days here): one period, all closed.
    await expectOk(admin('/v1/admin/sites/demo', 'PUT', { name: 'Demo', allowedOrigins: [SHOP_ORIGIN], minCohort: 3, epsilonBudget: budget }));
    const start = (Math.floor((await currentRoundId()) / 30) - 1) * 30;
    const now = start + 31; // so that now - 30, now - 20, now - 10 fall in that period
    for (const round of [now - 30, now - 20, now - 10]) await closedRound(round, SURE);
    // Reading a closed round never counts or releases it, nor spends anything.
    const read = (await (await admin(`/v1/admin/sites/demo/rounds/${now - 30}`, 'GET')).json()) as { status: string; release?: unknown };
    expect(read.status).toBe('closed');
    expect(read.release).toBeUndefined();
    // The ledger's rows of these three rounds (an earlier test of this file counted a round of the current period).
    const mine = [now - 30, now - 20, now - 10];
    const rows = async () =>
      (
        (await (await admin('/v1/admin/sites/demo/privacy', 'GET')).json()) as { rounds: { round: number; mechanisms: number; noiseMultiplier: number }[] }
      ).rounds.filter((r) => mine.includes(r.round));
    const spentOn = (list: { mechanisms: number; noiseMultiplier: number }[]) =>
      epsilonSpent(
        list.flatMap((r) => mechanismMultipliers(r.mechanisms, r.noiseMultiplier)),
        1e-6,
      ).epsilon;
    expect(await rows()).toHaveLength(0);
    const first = (await (await admin(`/v1/admin/sites/demo/rounds/${now - 30}/release`, 'POST')).json()) as { status: string; release: { totals: unknown[] } };
    expect(first.status).toBe('released');
    expect(first.release.totals).toHaveLength(4);
    // Releasing it again, or reading it, returns the same release and spends nothing.
    expect((await (await admin(`/v1/admin/sites/demo/rounds/${now - 30}/release`, 'POST')).json()) as object).toEqual(first);
    expect((await (await admin(`/v1/admin/sites/demo/rounds/${now - 30}`, 'GET')).json()) as object).toEqual(first);
    const rows1 = await rows();
    expect(rows1).toHaveLength(1);
    expect(spentOn(rows1)).toBeCloseTo(releases(1), 6);
    expect((await admin(`/v1/admin/sites/demo/rounds/${now - 20}/release`, 'POST')).status).toBe(200);
    // The third round can be counted (a quarter mechanism) but not released: its sums would bring
    // the ledger past the budget. The check plans with what the round really holds (counts alone
    // here: no model serves), so this is exact, not a worst case.
    expect(releases(3)).toBeGreaterThan(budget);
    expect(releases(2)).toBeLessThan(budget);
    const refused = await admin(`/v1/admin/sites/demo/rounds/${now - 10}/release`, 'POST');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'privacy_budget_exhausted', detail: expect.stringContaining(`budget of ${budget}`) });
    const rows2 = await rows();
    expect(rows2.map((r) => r.mechanisms)).toEqual([1 + COUNT_MECHANISMS, 1 + COUNT_MECHANISMS, COUNT_MECHANISMS]);
    expect(spentOn(rows2)).toBeLessThanOrEqual(budget);
    // The refused round was counted, not released: its object still holds its sums back.
    const held = await inRound(roundAggregator(env.ROUNDS, 'demo', now - 10), (r) =>
      r.status({ start: 0, deadline: 0, minCohort: 3, privacy: DEFAULT_PRIVACY }),
    );
    expect(held.status).toBe('releasable');
  });
});

describe('the budget renews per period, can only be tightened within one, and is checked and spent in one step', () => {
  const SITE = 'fresh-site';
  const TOKEN = 'test-fresh-admin-token-003';
  const put = (extra: Record<string, unknown>) => admin(`/v1/admin/sites/${SITE}`, 'PUT', { name: 'Fresh', allowedOrigins: [], minCohort: 3, ...extra }, TOKEN);
  const release = (round: number) => admin(`/v1/admin/sites/${SITE}/rounds/${round}/release`, 'POST', undefined, TOKEN);
  const ledger = async () =>
    (await (await admin(`/v1/admin/sites/${SITE}/privacy`, 'GET', undefined, TOKEN)).json()) as {
      epsilon: number;
      epsilonAllPeriods: number;
      budget: number;
      periodDays: number;
      period: { index: number; renewsAt: string };
      rounds: { round: number; period: number; mechanisms: number; noiseMultiplier: number }[];
    };
  const DAY = 86_400;

  /** Past rounds of the site with enough reports each to pass K = 3 whatever the count's noise, closed. */
  async function closedRounds(rounds: number[]): Promise<void> {
    const terms = openTerms(3, DEFAULT_PRIVACY);
    for (const round of rounds) {
      await inRound(roundAggregator(env.ROUNDS, SITE, round), async (r) => {
        for (let i = 0; i < SURE; i++) await r.addReport(report(round), terms, null, crypto.randomUUID());
      });
    }
    for (const round of rounds) await runDurableObjectAlarm(roundAggregator(env.ROUNDS, SITE, round));
  }

  it("rounds of the next period spend the next period's budget; the ledger says the period, its spend and when it renews", async () => {
    // One release of counts costs 0.97 at z = 5 (1.25 mechanisms), two 1.38: a budget of 1.1 fits one per period, and the
    // second round's count (0.25 more: 1.07). Rounds are days; periods of 10 days.
    expect(epsilonSpent(mechanismMultipliers(2.5, 5), 1e-6).epsilon).toBeGreaterThan(1.1);
    expect(epsilonSpent(mechanismMultipliers(1.5, 5), 1e-6).epsilon).toBeLessThan(1.1);
    await expectOk(put({ roundSeconds: DAY, epsilonBudget: 1.1, budgetPeriodDays: 10 }));
    await epochSchedule(SITE, DAY);
    const now = Math.floor(Date.now() / (DAY * 1000));
    const p = Math.floor(now / 10) - 3;
    const [a, b, c] = [p * 10 + 1, p * 10 + 5, (p + 1) * 10 + 2];
    await closedRounds([a, b, c]);
    expect((await release(a)).status).toBe(200);
    const refused = await release(b);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      error: 'privacy_budget_exhausted',
      detail: expect.stringContaining(`renews at ${new Date((p + 1) * 10 * DAY * 1000).toISOString()}`),
    });
    expect((await release(c)).status).toBe(200);
    const l = await ledger();
    expect(l.rounds.map((r) => [r.round, r.period])).toEqual([
      [a, p],
      [b, p],
      [c, p + 1],
    ]);
    expect(l.periodDays).toBe(10);
    expect(l.period.index).toBe(Math.floor(now / 10));
    expect(l.period.renewsAt).toBe(new Date((Math.floor(now / 10) + 1) * 10 * DAY * 1000).toISOString());
    expect(l.epsilon).toBe(0); // nothing released in the current period
    // What a device present in both periods has spent: the two releases and the one count composed, honestly.
    expect(l.epsilonAllPeriods).toBeCloseTo(epsilonSpent(mechanismMultipliers(2.75, 5), 1e-6).epsilon, 9);
  }, 30_000);

  it('within a period that released anything, the budget only goes down, the noise only up, the period only longer (409 with the reason); a refused change changes nothing', async () => {
    // Minute rounds, and a period length whose boundary is not this very minute.
    const nowRound = Math.floor(Date.now() / 60_000);
    const days = [7, 11, 13].find((d) => Math.floor(((nowRound - 1) * 60) / (d * DAY)) === Math.floor((nowRound * 60) / (d * DAY)))!;
    await expectOk(put({ roundSeconds: 60, epsilonBudget: 4, noiseMultiplier: 5, budgetPeriodDays: days }));
    await epochSchedule(SITE, 60);
    await closedRounds([nowRound - 1]);
    expect((await release(nowRound - 1)).status).toBe(200);
    for (const [looser, field] of [
      [{ epsilonBudget: 4.5 }, 'epsilonBudget'],
      [{ noiseMultiplier: 4 }, 'noiseMultiplier'],
      [{ budgetPeriodDays: days - 1 }, 'budgetPeriodDays'],
    ] as const) {
      const base = { roundSeconds: 60, epsilonBudget: 4, noiseMultiplier: 5, budgetPeriodDays: days };
      const r = await put({ ...base, ...looser });
      expect(r.status).toBe(409);
      expect(await r.json()).toMatchObject({ error: 'privacy_only_stricter', detail: expect.stringContaining(field) });
    }
    expect((await (await admin(`/v1/admin/sites/${SITE}`, 'GET', undefined, TOKEN)).json()) as object).toMatchObject({
      epsilonBudget: 4,
      noiseMultiplier: 5,
      budgetPeriodDays: days,
    });
    await expectOk(put({ roundSeconds: 60, epsilonBudget: 3, noiseMultiplier: 6, budgetPeriodDays: days + 1 }));
    expect((await ledger()).budget).toBe(3);
  }, 30_000);

  it('two releases at the same moment cannot both pass on the same spend: the check and the write are one step', async () => {
    // Whatever the current period holds already, plus one release in it now (one mechanism at z = 5
    // each, as the ledger's own step is called below), and then a budget that fits exactly one
    // more of the two released at the same moment.
    const settings = (await (await admin(`/v1/admin/sites/${SITE}`, 'GET', undefined, TOKEN)).json()) as Record<string, unknown>;
    const nowRound = Math.floor(Date.now() / 60_000);
    const fresh = [nowRound - 9, nowRound - 8, nowRound - 7];
    await closedRounds(fresh);
    expect((await release(fresh[0]!)).status).toBe(200);
    const before = await ledger();
    const inPeriod = before.rounds.filter((r) => r.period === before.period.index);
    const k = inPeriod.length;
    const existing = inPeriod.flatMap((r) => mechanismMultipliers(r.mechanisms, r.noiseMultiplier));
    const fits = epsilonSpent([...existing, 5], 1e-6).epsilon;
    expect(epsilonSpent([...existing, 5, 5], 1e-6).epsilon).toBeGreaterThan(fits + 0.02);
    await expectOk(put({ ...settings, id: undefined, currency: undefined, roundSchedule: undefined, epsilonBudget: Math.ceil((fits + 0.01) * 1000) / 1000 }));
    // The ledger's own step, twice at the same moment (the route's requests would mostly run one
    // after the other here): both read the same spend before either writes.
    const site = (await getSite(env.DB, SITE))!;
    const outcomes = await Promise.allSettled(
      fresh.slice(1).map((round) => reserveRelease(env.DB, site, { round, mechanisms: 1, noiseMultiplier: 5, contributors: 3 })),
    );
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(String((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason)).toContain('privacy_budget_exhausted');
    const after = await ledger();
    expect(after.rounds.filter((r) => r.period === after.period.index)).toHaveLength(k + 1);
    expect(after.epsilon).toBeCloseTo(fits, 9);
  }, 30_000);
});
