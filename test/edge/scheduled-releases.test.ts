/**
 * Rounds released on the edge's schedule (edge-worker/src/scheduled-releases.ts; the Worker's
 * scheduled handler runs it from a Cron Trigger): a closed round is counted and released once,
 * at the cost the pacing planned, without any command; no round from before the site existed is
 * ever counted; a second run spends nothing; and the trainer's pull then reads what is released.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { releaseDueRounds } from '../../edge-worker/src/scheduled-releases.ts';
import type { Ledger, RoundAnswer } from '../../protocol/admin-answers.ts';
import worker from '../../edge-worker/src/test-worker.ts';
import { admin, closeOpenRound, currentRoundId, expectOk, postCountReports, tokenOf, seedOneCreativeSite } from './edge-helpers.ts';

const SITE = 'sched';
const as = (path: string, method: string, body?: unknown) => admin(`/v1/admin/sites/${SITE}${path}`, method, body, tokenOf(SITE));
const ledger = async () => (await expectOk(as('/privacy', 'GET'))) as Ledger;

describe("the edge's scheduled releases", () => {
  beforeAll(() => seedOneCreativeSite(SITE, 'Scheduled shop'));

  it('the Worker runs them from its scheduled handler', () => {
    expect(typeof worker.scheduled).toBe('function');
  });

  it('releases a closed round once, with no command; never a round from before the site existed; a second run spends nothing', async () => {
    const round = await currentRoundId(SITE);
    // Nothing has closed yet: the run counts nothing (and no round before the site's first).
    expect((await releaseDueRounds(env)).find((s) => s.site === SITE)).toEqual({ site: SITE, rounds: [] });
    expect((await ledger()).rounds).toEqual([]);
    // Enough reports that the noised count passes K = 2 whatever it draws.
    await postCountReports(SITE, round, 120, () => [{ creativeId: 'c-p1', impressions: 2, clicks: 1 }]);
    await closeOpenRound(SITE);
    expect((await releaseDueRounds(env)).find((s) => s.site === SITE)).toEqual({ site: SITE, rounds: [round] });
    const released = (await expectOk(as(`/rounds/${round}`, 'GET'))) as RoundAnswer;
    expect(released.status).toBe('released');
    const charged = (await ledger()).rounds;
    expect(charged.map((r) => r.round)).toEqual([round]);
    // Again: nothing new has closed, nothing is spent.
    expect((await releaseDueRounds(env)).find((s) => s.site === SITE)).toEqual({ site: SITE, rounds: [] });
    expect((await ledger()).rounds).toEqual(charged);
    // What the trainer's pull asks for is already there, the same, and costs nothing more.
    const pulled = (await expectOk(as(`/rounds/${round}/release`, 'POST'))) as RoundAnswer;
    expect(pulled).toEqual(released);
    expect((await ledger()).rounds).toEqual(charged);
  });
});
