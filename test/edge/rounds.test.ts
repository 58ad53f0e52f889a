import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../protocol/wire.ts';
import type { RoundAggregator } from '../../edge-worker/src/round-aggregator.ts';
import { admin, currentRoundId, postReport, seedDemoSite } from './edge-helpers.ts';

const report = (round: number, clicks = 1): Report => ({
  v: 1,
  reportId: crypto.randomUUID(),
  round,
  modelVersion: null,
  outcomes: [{ creativeId: 'c-p1', impressions: 2, clicks }],
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `callback` inside one round's Durable Object, typed as the class it is. */
function inRound<R>(stub: DurableObjectStub, callback: (round: RoundAggregator) => R | Promise<R>): Promise<R> {
  return runInDurableObject(stub, (instance) => callback(instance as unknown as RoundAggregator));
}

describe('rounds: close at the deadline, release only above the minimum cohort', () => {
  beforeAll(() => seedDemoSite(3));

  it('keeps the open round closed to readers, whatever has arrived', async () => {
    const round = await currentRoundId();
    expect((await postReport('demo', report(round))).status).toBe(202);
    const r = await admin(`/v1/admin/sites/demo/rounds/${round}`, 'GET');
    expect(await r.json()).toMatchObject({ status: 'open', minCohort: 3 });
    expect(JSON.stringify(await (await admin(`/v1/admin/sites/demo/rounds/${round}`, 'GET')).json())).not.toContain('totals');
  });

  it('reports a past round nobody reported in as below the cohort, with no sums', async () => {
    const round = (await currentRoundId()) - 5;
    const body = (await (await admin(`/v1/admin/sites/demo/rounds/${round}`, 'GET')).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'below_cohort', contributors: 0, minCohort: 3 });
    expect(body.totals).toBeUndefined();
  });

  it('closes at the deadline: later reports are refused, and the sums are released at K contributors', async () => {
    const stub = env.ROUNDS.get(env.ROUNDS.idFromName('demo/900001'));
    const terms = { deadline: Date.now() + 150, minCohort: 3 };
    const results = await inRound(stub, async (round) => [
      await round.addReport(report(900001, 1), terms),
      await round.addReport(report(900001, 0), terms),
      await round.addReport(report(900001, 1), terms),
    ]);
    expect(results.every((r) => !r.closed && !r.duplicate)).toBe(true);
    expect((await inRound(stub, (round) => round.release(terms))).status).toBe('open');
    await sleep(200);
    // The alarm has fired by now or fires here; either way the round is closed after it.
    await runDurableObjectAlarm(stub);
    const late = await inRound(stub, (round) => round.addReport(report(900001, 1), terms));
    expect(late.closed).toBe(true);
    const released = await inRound(stub, (round) => round.release(terms));
    expect(released).toMatchObject({ status: 'released', contributors: 3, totals: [{ creativeId: 'c-p1', impressions: 6, clicks: 2 }] });
  });

  it('withholds the sums of a closed round below K', async () => {
    const stub = env.ROUNDS.get(env.ROUNDS.idFromName('demo/900002'));
    const terms = { deadline: Date.now() + 100, minCohort: 3 };
    await inRound(stub, async (round) => {
      await round.addReport(report(900002), terms);
      await round.addReport(report(900002), terms);
    });
    await sleep(150);
    const release = await inRound(stub, (round) => round.release(terms));
    expect(release).toEqual({ status: 'below_cohort', contributors: 2, minCohort: 3, deadline: terms.deadline });
  });
});
