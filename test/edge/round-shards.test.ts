/**
 * A round spread over several aggregators (issue 18 item 8) keeps every guarantee of one: a
 * token is spent once across shards, a retried report counts once, an address's token limit
 * holds, the shard count of a round is fixed at its first request, and the release adds up every
 * shard, through the real worker and round objects.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RoundAggregator } from '../../edge-worker/src/round-aggregator.ts';
import { roundAggregator, roundShard } from '../../edge-worker/src/rounds.ts';
import { DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import {
  admin,
  currentRoundId,
  edge,
  exactRound,
  expectOk,
  mintedTokens,
  postReport,
  randomAddress,
  reportToken,
  SHOP_ORIGIN,
  openTerms,
} from './edge-helpers.ts';

const SITE = 'sharded';
const TOKEN = 'test-sharded-admin-token-006';
const SHARDS = 4;
const settings = (extra: object = {}) => ({ name: 'Sharded', allowedOrigins: [SHOP_ORIGIN], minCohort: 2, tokensPerAddress: 3, roundShards: SHARDS, ...extra });

function report(round: number, token: string) {
  return { v: 1, reportId: crypto.randomUUID(), round, modelVersion: null, outcomes: [{ creativeId: 'c1', impressions: 1, clicks: 1 }], token };
}

/** Reports each shard of the round holds (exact, read inside each object). */
async function perShard(round: number, shards: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: shards }, (_, i) =>
      runInDurableObject(
        roundShard(env.ROUNDS, SITE, round, i),
        (_o, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM reports').one().n,
      ),
    ),
  );
}

describe('rounds spread over shards', () => {
  beforeAll(async () => {
    await expectOk(admin(`/v1/admin/sites/${SITE}`, 'PUT', settings(), TOKEN));
  });

  it('spreads reports over the shards, spends each token once across them, and counts a retry once', async () => {
    const round = await currentRoundId(SITE);
    const tokens = await mintedTokens(SITE, round, 40);
    const first = tokens.map((t) => report(round, t));
    expect((await Promise.all(first.map((r) => postReport(SITE, r)))).map((r) => r.status)).toEqual(new Array(40).fill(202));
    const spread = await perShard(round, SHARDS);
    expect(spread.reduce((a, b) => a + b, 0)).toBe(40);
    expect(spread.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3); // 40 tokens hashed over 4 shards
    // Each token again, on a new report (a second report of one device): refused, wherever its shard.
    const replays = await Promise.all(tokens.map((t) => postReport(SITE, report(round, t))));
    expect(replays.map((r) => r.status)).toEqual(new Array(40).fill(409));
    // Each first report again (a retry: same id, same token): acknowledged, not counted again.
    expect((await Promise.all(first.map((r) => postReport(SITE, r)))).map((r) => r.status)).toEqual(new Array(40).fill(200));
    expect((await exactRound(round, SITE)).contributors).toBe(40);
  });

  it("holds an address's token limit when its requests could land on any shard", async () => {
    const round = await currentRoundId(SITE);
    const address = randomAddress();
    const got = await Promise.allSettled(Array.from({ length: 6 }, () => reportToken(SITE, round, address)));
    expect(got.filter((g) => g.status === 'fulfilled')).toHaveLength(3);
    expect(String((got.find((g) => g.status === 'rejected') as PromiseRejectedResult).reason)).toContain('report tokens for this round');
  });

  it('keeps a round on the shard count it started with when the setting changes mid-round', async () => {
    const round = await currentRoundId(SITE);
    expect((await postReport(SITE, report(round, (await mintedTokens(SITE, round, 1))[0]!))).status).toBe(202);
    await expectOk(admin(`/v1/admin/sites/${SITE}`, 'PUT', settings({ roundShards: 16 }), TOKEN));
    const tokens = await mintedTokens(SITE, round, 30);
    for (const t of tokens) expect((await postReport(SITE, report(round, t))).status).toBe(202);
    expect((await perShard(round, 16)).slice(SHARDS).every((n) => n === 0)).toBe(true);
    const plan = await runInDurableObject(
      roundAggregator(env.ROUNDS, SITE, round),
      (_o, state) => state.storage.sql.exec<{ shards: number }>('SELECT shards FROM plan').one().shards,
    );
    expect(plan).toBe(SHARDS);
    await expectOk(admin(`/v1/admin/sites/${SITE}`, 'PUT', settings(), TOKEN));
  });

  it('counts and releases the sum of every shard', async () => {
    // A past round planned over four shards, 150 reports in each: the noised count (sd 20) is near
    // 600, which no single shard's 150 could give.
    const round = 900500;
    // The round stays open until the test closes it (its shards' alarms, run below), however long the 600 reports take.
    const terms = openTerms(300, DEFAULT_PRIVACY);
    const inShard = <R>(shard: number, f: (r: RoundAggregator) => R | Promise<R>) =>
      runInDurableObject(roundShard(env.ROUNDS, SITE, round, shard), (i) => f(i as unknown as RoundAggregator));
    await inShard(0, (r) => r.roundPlan(SHARDS, terms));
    for (let shard = 0; shard < SHARDS; shard++) {
      await inShard(shard, async (r) => {
        for (let k = 0; k < 150; k++)
          await r.addReport(
            {
              v: 1,
              reportId: crypto.randomUUID(),
              round,
              modelVersion: null,
              outcomes: [{ creativeId: 'c1', impressions: 2, clicks: 1, conversions: 0, dismissals: 0, value: 0 }],
            },
            terms,
            null,
            crypto.randomUUID(),
          );
      });
    }
    for (let shard = 0; shard < SHARDS; shard++) await runDurableObjectAlarm(roundShard(env.ROUNDS, SITE, round, shard));
    const answer = (await expectOk(admin(`/v1/admin/sites/${SITE}/rounds/${round}/release`, 'POST', undefined, TOKEN))) as {
      status: string;
      contributors: number;
      release: { contributors: number };
    };
    expect(answer.status).toBe('released');
    expect(Math.abs(answer.contributors - 600)).toBeLessThan(140);
    expect(answer.release.contributors).toBe(answer.contributors);
  });

  it('refuses a shard count outside 1-64 with the reason, and changes nothing', async () => {
    for (const roundShards of [0, 65, 2.5]) {
      const r = await admin(`/v1/admin/sites/${SITE}`, 'PUT', settings({ roundShards }), TOKEN);
      expect(r.status).toBe(422);
      expect(await r.json()).toMatchObject({ detail: expect.stringContaining('roundShards') });
    }
    expect(await expectOk(admin(`/v1/admin/sites/${SITE}`, 'GET', undefined, TOKEN))).toMatchObject({ roundShards: SHARDS });
  });

  it('serves the same token key from every isolate of the round', async () => {
    const round = await currentRoundId(SITE);
    const keys = await Promise.all(
      Array.from(
        { length: 3 },
        async () =>
          ((await (await edge(`/v1/sites/${SITE}/rounds/${round}/token-key`, { headers: { origin: SHOP_ORIGIN } })).json()) as { publicKey: string }).publicKey,
      ),
    );
    expect(new Set(keys).size).toBe(1);
  });
});
