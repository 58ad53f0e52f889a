/**
 * The holdout at the edge (protocol/holdout.ts): a site setting devices read from the config,
 * kept by PATCH and bounded; a merchant's creative cannot take the holdout's id (a creative
 * counted as the shop's own content would fake the comparison); and every release lists the
 * holdout's own-content counts beside every creative's, noised alike, whether or not any device
 * was held out (the release's shape says nothing about who was).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import type { NoisedRelease } from '../../protocol/admin-answers.ts';
import { DEFAULT_HOLDOUT_SHARE, HOLDOUT_CREATIVE } from '../../protocol/holdout.ts';
import { SiteConfigSchema } from '../../protocol/wire.ts';
import {
  admin,
  closeOpenRound,
  currentRoundId,
  edge,
  exactRound,
  expectOk,
  postCountReports,
  SHOP_ORIGIN,
  tokenOf,
  seedOneCreativeSite,
} from './edge-helpers.ts';

const SITE = 'holdout';
const as = (path: string, method: string, body?: unknown) => admin(`/v1/admin/sites/${SITE}${path}`, method, body, tokenOf(SITE));
const config = async () =>
  v.parse(SiteConfigSchema, await (await edge(`/v1/sites/${SITE}/config`, { headers: { origin: SHOP_ORIGIN }, cache: 'no-store' })).json());

describe('the holdout', () => {
  beforeAll(() => seedOneCreativeSite(SITE, 'Holdout shop'));

  it('is 5% of devices by default, told to devices in the config, and changed by PATCH alone', async () => {
    expect((await config()).holdoutShare).toBe(DEFAULT_HOLDOUT_SHARE);
    const patched = (await expectOk(as('', 'PATCH', { holdoutShare: 0.2 }))) as { holdoutShare: number; minCohort: number };
    expect(patched).toMatchObject({ holdoutShare: 0.2, minCohort: 2 });
    expect((await config()).holdoutShare).toBe(0.2);
  });

  it('refuses a share above one half, or below zero, with the field named (422), and keeps the one set', async () => {
    for (const share of [0.6, -0.1, 'many']) {
      const r = await as('', 'PATCH', { holdoutShare: share });
      expect(r.status).toBe(422);
      expect(JSON.stringify(await r.json())).toContain('holdoutShare');
    }
    expect((await config()).holdoutShare).toBe(0.2);
  });

  it("attack: a creative named as the holdout's counts is refused (422), with the reason", async () => {
    const r = await as('/creatives', 'PUT', { creatives: [{ id: HOLDOUT_CREATIVE, templateId: 'card', productId: 'p1', messageType: 'sale' }] });
    expect(r.status).toBe(422);
    expect(JSON.stringify(await r.json())).toContain('reserved for the holdout');
  });

  it("lists the holdout's own-content counts in every release, beside every creative's, noised alike", async () => {
    const round = await currentRoundId(SITE);
    // Enough reports that the noised count passes K = 2 whatever it draws; a few of them held out.
    await postCountReports(SITE, round, 120, (i) => [{ creativeId: i % 10 === 0 ? HOLDOUT_CREATIVE : 'c-p1', impressions: 2, clicks: 1 }]);
    const exact = await exactRound(round, SITE);
    expect(exact.totals.find((t) => t.creativeId === HOLDOUT_CREATIVE)).toMatchObject({ impressions: 24, clicks: 12 });
    await closeOpenRound(SITE);
    const answer = (await expectOk(as(`/rounds/${round}/release`, 'POST'))) as { status: string; release: NoisedRelease };
    expect(answer.status).toBe('released');
    expect(answer.release.totals.map((t) => t.creativeId)).toEqual(['c-p1', HOLDOUT_CREATIVE]);
    const held = answer.release.totals.find((t) => t.creativeId === HOLDOUT_CREATIVE)!;
    const sd = answer.release.noise.countStd;
    expect(Math.abs(held.impressions - 24)).toBeLessThan(5 * sd);
    expect(Math.abs(held.clicks - 12)).toBeLessThan(5 * sd);
    // Noised, as every count: not the exact figures (a draw of exactly zero noise on both is out of reach).
    expect([held.impressions, held.clicks]).not.toEqual([24, 12]);
  });

  it('lists it in the release of a round no device was held out in: zeros plus noise', async () => {
    const round = await currentRoundId(SITE);
    await postCountReports(SITE, round, 120, () => [{ creativeId: 'c-p1', impressions: 1, clicks: 0 }]);
    await closeOpenRound(SITE);
    const answer = (await expectOk(as(`/rounds/${round}/release`, 'POST'))) as { status: string; release: NoisedRelease };
    expect(answer.release.totals.map((t) => t.creativeId)).toContain(HOLDOUT_CREATIVE);
  });
});
