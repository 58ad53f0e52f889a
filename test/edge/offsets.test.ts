/**
 * Offsets at the edge (protocol/offsets.ts, protocol/report-parts.ts), a hostile client's tries
 * first: a part over its bound, a key that is not a cell or creative of the site (a place to
 * smuggle a shopper's data), parts the site does not collect at its scale. Then what a small
 * site's round releases: counts, offsets for every cell and creative, off-policy sums, no head
 * or towers, each charged.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { roundAggregator } from '../../edge-worker/src/rounds.ts';
import type { NoisedRelease } from '../../protocol/admin-answers.ts';
import { headStatsLength } from '../../protocol/head-statistics.ts';
import { headDim } from '../../protocol/model-artifact.ts';
import { COUNT_MECHANISMS } from '../../protocol/privacy.ts';
import { HEAD_SCALE, HEAD_SCALE_LEAVE, MODEL_PARTS, roundMechanisms, SMALL_SHOP_PARTS } from '../../protocol/report-parts.ts';
import { recordLastContributors } from '../../edge-worker/src/site-store.ts';
import {
  admin,
  closeOpenRound,
  currentRoundId,
  edge,
  exactRound,
  expectOk,
  mintedTokens,
  postReport,
  SHOP_ORIGIN,
  tinyModel,
  tokenOf,
} from './edge-helpers.ts';

const SITE = 'offsets';
const as = (path: string, method: string, body?: unknown) => admin(`/v1/admin/sites/${SITE}${path}`, method, body, tokenOf(SITE));
let serving = '';

function report(round: number, extra: object = {}, token?: string) {
  return {
    v: 1,
    reportId: crypto.randomUUID(),
    round,
    modelVersion: serving,
    outcomes: [{ creativeId: 'c-p1', impressions: 2, clicks: 1 }],
    ...(token ? { token } : {}),
    ...extra,
  };
}

const offsets = (cells: Record<string, [number, number]>, creatives: Record<string, [number, number]> = {}) => ({ offsets: { cells, creatives } });

describe('offsets from devices', () => {
  beforeAll(async () => {
    // A new site: "auto" learning, so a small shop's parts (counts, offsets, off-policy sums).
    await expectOk(as('', 'PUT', { name: 'Offsets shop', allowedOrigins: [SHOP_ORIGIN], minCohort: 2 }));
    await expectOk(
      as('/products', 'PUT', {
        products: [
          {
            id: 'p1',
            name: 'Trail shoe',
            category: 'shoes',
            brand: 'Acme',
            price: 89,
            imageUrl: 'https://shop.example/p1.svg',
            url: 'https://shop.example/p1',
          },
          {
            id: 'p2',
            name: 'Rain jacket',
            category: 'outerwear',
            brand: 'Nimbus',
            price: 140,
            imageUrl: 'https://shop.example/p2.svg',
            url: 'https://shop.example/p2',
          },
        ],
      }),
    );
    await expectOk(
      as('/templates', 'PUT', {
        templates: [
          { id: 'card', layout: 'product_card', headline: ['{product.name}'], cta: ['Shop now'] },
          { id: 'banner', layout: 'banner', headline: ['New in {category}'], cta: ['Discover'] },
        ],
      }),
    );
    await expectOk(
      as('/creatives', 'PUT', {
        creatives: [
          { id: 'c-p1', templateId: 'card', productId: 'p1', messageType: 'sale' },
          { id: 'c-p2', templateId: 'card', productId: 'p2', messageType: 'new' },
          { id: 'b-shoes', templateId: 'banner', productId: null, category: 'shoes', messageType: 'new' },
        ],
      }),
    );
    serving = ((await expectOk(as('/models', 'POST', tinyModel(0.02)))) as { version: string }).version;
    await expectOk(as(`/models/${serving}/promote`, 'POST'));
  });

  it("tells a small site's devices to send offsets and off-policy sums only", async () => {
    const config = (await (await edge(`/v1/sites/${SITE}/config`, { headers: { origin: SHOP_ORIGIN } })).json()) as {
      parts: string[];
      privacy: { offsetClip: number };
    };
    expect(config.parts).toEqual([...SMALL_SHOP_PARTS]);
    expect(config.privacy.offsetClip).toBe(1.5);
    const site = (await expectOk(as('', 'GET'))) as { parts: string[]; lastContributors: number | null };
    expect(site).toMatchObject({ parts: ['ope', 'offsets'], lastContributors: null, atHeadScale: false });
  });

  it('attack: an offsets part over its bound, or with a key that is no cell or creative of the site, is refused (422) and adds nothing', async () => {
    const round = await currentRoundId(SITE);
    const before = await exactRound(round, SITE);
    for (const [extra, error, field] of [
      [offsets({ 'product_card/sale': [3, 1] }), 'over_clip', 'offsets'], // norm 3.2 > 3
      [offsets({ 'product_card/sale': [1, 0.2] }, { 'shopper-42@example.com': [1, 0.2] }), 'wrong_shape', 'creative:shopper-42@example.com'],
      [offsets({ 'banner/sale': [1, 0.2] }), 'wrong_shape', 'cell:banner/sale'],
    ] as const) {
      const r = await postReport(SITE, report(round, extra));
      expect(r.status).toBe(422);
      expect(await r.json()).toMatchObject({ error, detail: expect.stringContaining(field) });
    }
    // Negative or non-finite numbers never reach the sums: the schema refuses them.
    const negative = await postReport(SITE, report(round, offsets({ 'product_card/sale': [-1, 0.2] })));
    expect(negative.status).toBe(422);
    const after = await exactRound(round, SITE);
    expect(after.offsets).toEqual(before.offsets);
    expect(after.contributors).toBe(before.contributors);
  });

  it('sums a part within the bound; a part the site does not collect at its scale (the head, the towers) is left out, and the answer says so', async () => {
    const round = await currentRoundId(SITE);
    const before = await exactRound(round, SITE);
    const head = { stats: new Array(headStatsLength(headDim(tinyModel().model.topology))).fill(0.1) };
    const r = await postReport(SITE, report(round, { ...offsets({ 'product_card/sale': [1, 0.25] }, { 'c-p1': [1, 0.25] }), head }));
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ accepted: true, offsets: 'counted', head: 'not_collected' });
    const after = await exactRound(round, SITE);
    expect(after.offsets['cell:product_card/sale']).toEqual([
      (before.offsets['cell:product_card/sale']?.[0] ?? 0) + 1,
      (before.offsets['cell:product_card/sale']?.[1] ?? 0) + 0.25,
    ]);
    expect(after.head).toEqual(before.head);
  });

  it("releases a small site's round in its fixed shape: counts, offsets of every cell and creative, off-policy sums; no head or towers; charged for those parts", async () => {
    const round = await currentRoundId(SITE);
    // Enough reports that the noised count (sd 4 z, z = 6.45 at the pace) passes K = 2 whatever it draws.
    const tokens = await mintedTokens(SITE, round, 200);
    for (const token of tokens)
      expect((await postReport(SITE, report(round, offsets({ 'product_card/new': [0, 0.2] }, { 'c-p2': [0, 0.2] }), token))).status).toBe(202);
    const exact = await exactRound(round, SITE);
    expect(exact.offsets['cell:product_card/new']![1]).toBeCloseTo(40, 6);
    await closeOpenRound(SITE);
    const answer = (await expectOk(as(`/rounds/${round}/release`, 'POST'))) as { status: string; release: NoisedRelease };
    expect(answer.status).toBe('released');
    const release = answer.release;
    expect(release.head).toBeNull();
    expect(release.towers).toBeNull();
    expect(release.mechanisms).toBe(roundMechanisms(SMALL_SHOP_PARTS));
    expect(release.mechanisms).toBe(3 + COUNT_MECHANISMS);
    const keys = release.offsets!.entries.map((e) => e.key);
    expect(keys).toEqual(['cell:banner/new', 'cell:product_card/new', 'cell:product_card/sale', 'creative:b-shoes', 'creative:c-p1', 'creative:c-p2']);
    // Noise of sd z x offsetClip on every number, snapped; the exact sums within 5 sd.
    const site = (await expectOk(as('', 'GET'))) as { pacing: { noiseMultiplier: number } };
    expect(release.noise.offsetStd).toBeCloseTo(site.pacing.noiseMultiplier * 1.5, 9); // the default bound
    for (const e of release.offsets!.entries) {
      const truth = exact.offsets[e.key] ?? [0, 0];
      expect(Math.abs(e.clicks - truth[0])).toBeLessThan(5 * release.noise.offsetStd!);
      expect(Math.abs(e.expected - truth[1])).toBeLessThan(5 * release.noise.offsetStd!);
    }
    const ledger = (await expectOk(as('/privacy', 'GET'))) as { rounds: { round: number; mechanisms: number }[] };
    expect(ledger.rounds.find((r) => r.round === round)!.mechanisms).toBe(3 + COUNT_MECHANISMS);
    // The site's scale is public now (the noised count): "auto" still reads it as small.
    expect(((await expectOk(as('', 'GET'))) as { lastContributors: number }).lastContributors).toBe(answer.release.contributors);
    const status = await runInDurableObject(
      roundAggregator(env.ROUNDS, SITE, round),
      (_i, st) => st.storage.sql.exec('SELECT COUNT(*) AS n FROM offset_sums').one().n,
    );
    expect(status).toBeGreaterThan(0);
  });

  it('"auto" takes the head and towers at HEAD_SCALE noised contributors and keeps them until under 0.8 of it: a shop near the line does not switch day by day', async () => {
    // A release of 20,000 devices cannot be made here: the release's own step (recordLastContributors, real D1) is called with the counts.
    const scale = async () =>
      (await expectOk(as('', 'GET'))) as { parts: string[]; atHeadScale: boolean; lastContributors: number; pacing: { noiseMultiplier: number } };
    const small = await scale();
    const steps: [number, boolean][] = [
      [HEAD_SCALE - 1, false],
      [HEAD_SCALE, true],
      [HEAD_SCALE_LEAVE, true], // a quieter day: still at scale
      [HEAD_SCALE - 1, true],
      [HEAD_SCALE_LEAVE - 1, false],
      [HEAD_SCALE - 1, false], // back near the line: not yet
    ];
    for (const [contributors, expected] of steps) {
      await recordLastContributors(env.DB, SITE, contributors);
      const site = await scale();
      expect({ contributors, atHeadScale: site.atHeadScale, parts: site.parts }).toEqual({
        contributors,
        atHeadScale: expected,
        parts: expected ? [...MODEL_PARTS] : [...SMALL_SHOP_PARTS],
      });
      // The noise is paced for the parts collected: more mechanisms a round, more noise each.
      if (expected) expect(site.pacing.noiseMultiplier).toBeGreaterThan(small.pacing.noiseMultiplier);
      else expect(site.pacing.noiseMultiplier).toBe(small.pacing.noiseMultiplier);
    }
  });
});
