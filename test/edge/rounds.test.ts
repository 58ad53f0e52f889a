import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../protocol/wire.ts';
import type { RoundAggregator } from '../../edge-worker/src/round-aggregator.ts';
import { COUNT_MECHANISMS, DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import { admin, currentRoundId, epochSchedule, exactRound, expectOk, openTerms, postReport, seedDemoSite, SHOP_ORIGIN } from './edge-helpers.ts';

const report = (round: number, clicks = 1): Report => ({
  v: 1,
  reportId: crypto.randomUUID(),
  round,
  modelVersion: null,
  outcomes: [{ creativeId: 'c-p1', impressions: 2, clicks, conversions: 0, dismissals: 0, value: 0 }],
});

/** Runs `callback` inside one round's Durable Object, typed as the class it is. */
function inRound<R>(stub: DurableObjectStub, callback: (round: RoundAggregator) => R | Promise<R>): Promise<R> {
  return runInDurableObject(stub, (instance) => callback(instance as unknown as RoundAggregator));
}

/** The count vector's noise sd at the default multiplier (4 z = 20): a cohort of N reports passes K = 3 for sure once N is 150 (7 sd). */
const COUNT_SD = 4 * DEFAULT_PRIVACY.noiseMultiplier;

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
    // Nobody reported: the noised count (sd 4 z at the site's paced noise z) is almost surely below K = 3 + 7 sd.
    const z = ((await expectOk(admin('/v1/admin/sites/demo', 'GET'))) as { pacing: { noiseMultiplier: number } }).pacing.noiseMultiplier;
    const countSd = 4 * z;
    await expectOk(admin('/v1/admin/sites/demo', 'PUT', { name: 'Demo', allowedOrigins: [SHOP_ORIGIN], minCohort: Math.ceil(3 + 7 * countSd) }));
    const counted = (await expectOk(admin(`/v1/admin/sites/demo/rounds/${round}/release`, 'POST'))) as { status: string; contributors: number };
    expect(counted.status).toBe('below_cohort');
    expect(Number.isInteger(counted.contributors)).toBe(true);
    expect(Math.abs(counted.contributors)).toBeLessThan(7 * countSd);
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
    const shape = {
      model: 'aaaaaaaaaaaaaaaa',
      parts: ['head', 'ope', 'towers'] as const,
      headLength: 7,
      towerParameters: 3,
      opeModels: ['aaaaaaaaaaaaaaaa'],
      offsetKeys: [],
    };
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
    const withHead = (clicks: number): Report => ({ ...report(900001, clicks), modelVersion: 'aaaaaaaaaaaaaaaa', head: { stats: [1, 2, 3, 4, 5, 1, 1] } });
    const results = await inRound(stub, async (round) => [
      await round.addReport(withHead(1), terms, { model: 'aaaaaaaaaaaaaaaa', head: [1, 2, 3, 4, 5, 1, 1], ope: null, towers: null }, crypto.randomUUID()),
      await round.addReport(withHead(0), terms, { model: 'aaaaaaaaaaaaaaaa', head: [1, 2, 3, 4, 5, 1, 1], ope: null, towers: null }, crypto.randomUUID()),
      await round.addReport(withHead(1), terms, { model: 'bbbbbbbbbbbbbbbb', head: [1, 2, 3, 4, 5, 1, 1], ope: null, towers: null }, crypto.randomUUID()),
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
    const shape = {
      model: 'aaaaaaaaaaaaaaaa',
      parts: ['head', 'ope', 'towers'] as const,
      headLength: 7,
      towerParameters: 3,
      opeModels: ['aaaaaaaaaaaaaaaa'],
      offsetKeys: [],
    };
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
      opeStd: z * 10,
      towerStd: z * DEFAULT_PRIVACY.towerClip,
      offsetStd: z * DEFAULT_PRIVACY.offsetClip,
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
    expect(release.head!.stats).not.toEqual([2, 4, 6, 8, 10, 2, 2]);
    expect(release.mechanisms).toBe(4 + COUNT_MECHANISMS);
    // Reading it again gives the same noised numbers: the noise cannot be averaged away.
    expect(await inRound(stub, (round) => round.releaseNoised('demo', 900001, ['c-p1', 'c-p2'], shape))).toEqual(release);
    expect(await inRound(stub, (round) => round.status(terms))).toMatchObject({ status: 'released', release });
  });

  it("counts revenue with the other counts and releases it noised, in units of the round's own valueUnit", async () => {
    const stub = env.ROUNDS.get(env.ROUNDS.idFromName('demo/900021'));
    const terms = openTerms(-1000, { ...DEFAULT_PRIVACY, valueUnit: 12.5 });
    const sale = (value: number): Report => ({
      ...report(900021, 1),
      outcomes: [{ creativeId: 'c-p1', impressions: 1, clicks: 1, conversions: 1, dismissals: 0, value }],
    });
    await inRound(stub, async (round) => {
      for (const value of [4, 6, 0]) await round.addReport(sale(value), terms, null, crypto.randomUUID());
    });
    // The exact sums stay inside the round's objects: 10 units over three reports.
    expect(await runInDurableObject(stub, (_i, state) => state.storage.sql.exec('SELECT value_units FROM creative_totals').one().value_units)).toBe(10);
    await runDurableObjectAlarm(stub);
    await inRound(stub, (round) => round.count('demo', 900021, terms, null));
    const release = (await inRound(stub, (round) => round.releaseNoised('demo', 900021, ['c-p1', 'c-p2'], null)))!;
    expect(release.valueUnit).toBe(12.5);
    const [p1, p2] = release.totals;
    // Noised as the other counts are (sd z x countClip: an integer, within 7 sd of the truth), and a creative nobody bought from is listed too.
    for (const [released, exact] of [
      [p1!.value, 10],
      [p2!.value, 0],
    ] as const) {
      expect(Number.isInteger(released)).toBe(true);
      expect(Math.abs(released - exact)).toBeLessThan(7 * release.noise.countStd);
    }
    expect(release.mechanisms).toBe(1 + COUNT_MECHANISMS); // no mechanism of its own: revenue rides in the counts'
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
