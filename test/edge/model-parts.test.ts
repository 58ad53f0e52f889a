/**
 * The model parts of a report beyond the head statistics: off-policy sums of the serving and
 * candidate models, and the towers' gradient. Checked at the door (shape, bound, known models),
 * summed exactly inside the round's object, released only noised.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RoundAggregator } from '../../edge-worker/src/round-aggregator.ts';
import { COUNT_MECHANISMS, DEFAULT_PRIVACY, l2Norm } from '../../protocol/privacy.ts';
import { headDim } from '../../protocol/model-artifact.ts';
import { UNIFORM_POLICY } from '../../protocol/off-policy.ts';
import type { NoisedRelease } from '../../protocol/admin-answers.ts';
import { quantizeGradient, towerParameterCount } from '../../protocol/tower-gradient.ts';
import type { Report } from '../../protocol/wire.ts';
import { admin, currentRoundId, edge, exactRound, expectOk, postReport, openTerms, seedDemoSite, tinyModel } from './edge-helpers.ts';
import { headStatsLength } from '../../protocol/head-statistics.ts';

const TINY_TOWERS = towerParameterCount(tinyModel().model.topology);
const CLIP = DEFAULT_PRIVACY.towerClip;

function report(round: number, modelVersion: string | null, extra: Partial<Report> = {}): Report {
  return {
    v: 1,
    reportId: crypto.randomUUID(),
    round,
    modelVersion,
    outcomes: [{ creativeId: 'c-p1', impressions: 1, clicks: 0, conversions: 0, dismissals: 0, value: 0 }],
    ...extra,
  };
}

/** A gradient of the tiny model's towers with L2 norm `norm`. */
function gradient(norm: number): Float64Array {
  const g = Float64Array.from({ length: TINY_TOWERS }, (_, i) => Math.sin(i + 1));
  const scale = norm / l2Norm(g);
  return g.map((x) => x * scale);
}

describe('off-policy sums and tower gradients in reports', () => {
  let serving = '';
  let candidate = '';
  beforeAll(async () => {
    await seedDemoSite();
    serving = ((await expectOk(admin('/v1/admin/sites/demo/models', 'POST', tinyModel(0.03)))) as { version: string }).version;
    await expectOk(admin(`/v1/admin/sites/demo/models/${serving}/promote`, 'POST'));
    candidate = ((await expectOk(admin('/v1/admin/sites/demo/models', 'POST', tinyModel(0.05)))) as { version: string }).version;
  });

  it('lists the candidate models in the config beside the serving one', async () => {
    const config = (await expectOk(edge('/v1/sites/demo/config'))) as { model: { version: string }; candidateModels: { version: string; url: string }[] };
    expect(config.model.version).toBe(serving);
    expect(config.candidateModels).toEqual([{ version: candidate, specHash: expect.any(String), url: `/v1/models/${candidate}/model.json` }]);
  });

  it("sums the serving and candidate models' off-policy sums and the tower gradients exactly; leaves out unknown models", async () => {
    const round = await currentRoundId();
    const g = gradient(0.9 * CLIP);
    const quantized = quantizeGradient(g);
    const body = report(round, serving, {
      ope: [
        // Norm 7 together, inside the default bound (10).
        { modelVersion: serving, sums: [2, 1, 2, 1, 2] },
        { modelVersion: candidate, sums: [2, 1, 1.5, 1, 2.5] },
        { modelVersion: 'eeeeeeeeeeeeeeee', sums: [2, 2, 2, 2, 2] },
      ],
      towers: quantized,
    });
    const r = await postReport('demo', body);
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ ope: 'counted', towers: 'counted' });
    expect((await postReport('demo', { ...body, reportId: crypto.randomUUID() })).status).toBe(202);
    const exact = await exactRound(round);
    expect(exact.ope[serving]).toEqual([4, 2, 4, 2, 4]);
    expect(exact.ope[candidate]).toEqual([4, 2, 3, 2, 5]);
    expect(exact.ope.eeeeeeeeeeeeeeee).toBeUndefined();
    expect(exact.towers!.reports).toBe(2);
    // The sum of two quantized copies: within 1/127 of the largest coordinate of each, never larger in norm.
    const max = Math.max(...g.map(Math.abs));
    exact.towers!.sums.forEach((x, i) => expect(Math.abs(x - 2 * g[i]!)).toBeLessThanOrEqual((2 * max) / 127 + 1e-12));
    expect(l2Norm(exact.towers!.sums)).toBeLessThanOrEqual(2 * 0.9 * CLIP);
  });

  it('refuses parts over their bounds or of the wrong shape (422), and changes nothing', async () => {
    const round = await currentRoundId();
    const before = await exactRound(round);
    const cases: [Partial<Report>, string][] = [
      [{ ope: [{ modelVersion: serving, sums: [DEFAULT_PRIVACY.opeClip, 0, 0, 0, 1] }] }, 'over_clip'],
      [{ towers: quantizeGradient(gradient(DEFAULT_PRIVACY.towerClip * 1.5)) }, 'over_clip'],
      [{ towers: quantizeGradient(gradient(0.5 * CLIP).subarray(0, 100)) }, 'wrong_shape'],
      [
        {
          ope: [
            { modelVersion: serving, sums: [1, 0, 1, 0, 1] },
            { modelVersion: serving, sums: [1, 0, 1, 0, 1] },
          ],
        },
        'invalid_body',
      ],
    ];
    for (const [extra, error] of cases) {
      const r = await postReport('demo', report(round, serving, extra));
      expect(r.status, error).toBe(422);
      expect(((await r.json()) as { error: string }).error).toBe(error);
    }
    const negative = await postReport('demo', report(round, serving, { ope: [{ modelVersion: serving, sums: [1, -1, 1, 0, 1] }] }));
    expect(negative.status).toBe(422);
    expect(await negative.json()).toMatchObject({ error: 'invalid_body', detail: expect.stringContaining('must not be negative') });
    const negativeUniform = await postReport(
      'demo',
      report(round, serving, {
        ope: [
          { modelVersion: serving, sums: [1, 0, 1, 0, 1] },
          { modelVersion: UNIFORM_POLICY, sums: [1, 0, -1, 0, 1] },
        ],
      }),
    );
    expect(negativeUniform.status).toBe(422);
    expect(await exactRound(round)).toEqual(before);
  });

  it('keeps the counts of a device on an older model and leaves out its model parts', async () => {
    const round = await currentRoundId();
    const r = await postReport(
      'demo',
      report(round, 'aaaaaaaaaaaaaaaa', { ope: [{ modelVersion: 'aaaaaaaaaaaaaaaa', sums: [1, 0, 1, 0, 1] }], towers: quantizeGradient(gradient(0.5 * CLIP)) }),
    );
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ accepted: true, ope: 'ignored_other_model', towers: 'ignored_other_model' });
  });

  it('releases the four parts noised with their own bounds, and counts four mechanisms', async () => {
    const stub = env.ROUNDS.get(env.ROUNDS.idFromName('demo/900101'));
    const inRound = <R>(f: (r: RoundAggregator) => R | Promise<R>) => runInDurableObject(stub, (i) => f(i as unknown as RoundAggregator));
    const terms = openTerms(2, DEFAULT_PRIVACY);
    const g = gradient(0.5 * CLIP);
    const parts = { model: serving, head: null, ope: [{ modelVersion: serving, sums: [3, 1, 3, 1, 3] }], towers: g };
    await inRound(async (r) => {
      await r.addReport(report(900101, serving), terms, { ...parts, head: [1, 2, 3] }, crypto.randomUUID());
      await r.addReport(report(900101, serving), terms, { ...parts, head: [1, 2, 3] }, crypto.randomUUID());
    });
    await runDurableObjectAlarm(stub);
    // K below zero: the cohort check passes whatever the count's noise drew (rounds.test.ts tests that check).
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec('UPDATE terms SET min_cohort = -1000'));
    const shape = {
      model: serving,
      parts: ['head', 'ope', 'towers'] as const,
      headLength: 3,
      towerParameters: TINY_TOWERS,
      opeModels: [serving],
      offsetKeys: [],
    };
    expect(await inRound((r) => r.count('demo', 900101, terms, serving))).toMatchObject({ status: 'releasable' });
    const release = (await inRound((r) => r.releaseNoised('demo', 900101, ['c-p1'], shape)))!;
    expect(release.mechanisms).toBe(4 + COUNT_MECHANISMS);
    expect(release.ope!.modelVersion).toBe(serving);
    expect(Math.abs(release.ope!.reports - 2)).toBeLessThan(7 * release.noise.reportsStd!);
    expect(release.ope!.models[0]!.sums).toHaveLength(5);
    expect(release.ope!.models[0]!.sums).not.toEqual([6, 2, 6, 2, 6]);
    expect(release.towers!.sums).toHaveLength(TINY_TOWERS);
    // Noise of sd z * towerClip on each of the tiny model's weights: its sample sd says so.
    const sdWanted = DEFAULT_PRIVACY.noiseMultiplier * DEFAULT_PRIVACY.towerClip;
    const residual = release.towers!.sums.map((x, i) => x - 2 * g[i]!);
    const sd = Math.sqrt(residual.reduce((s, x) => s + x * x, 0) / residual.length);
    expect(sd).toBeGreaterThan(sdWanted * 0.85);
    expect(sd).toBeLessThan(sdWanted * 1.15);
  });

  it('releases a fixed shape: every part the site collects, every listed model, every cell and creative, each charged, though devices sent counts only', async () => {
    const round = 900202;
    const stub = env.ROUNDS.get(env.ROUNDS.idFromName(`demo/${round}`));
    const terms = openTerms(2, DEFAULT_PRIVACY);
    await runInDurableObject(stub, async (i) => {
      // Enough reports to pass K = 2 whatever the count's noise (sd 4 z, 33 at the site's pace) draws.
      for (let k = 0; k < 250; k++) await (i as unknown as RoundAggregator).addReport(report(round, null), terms, null, crypto.randomUUID());
    });
    await runDurableObjectAlarm(stub);
    const before = ((await expectOk(admin('/v1/admin/sites/demo/privacy', 'GET'))) as { rounds: unknown[] }).rounds.length;
    const answer = (await expectOk(admin(`/v1/admin/sites/demo/rounds/${round}/release`, 'POST'))) as { status: string; release: NoisedRelease };
    expect(answer.status).toBe('released');
    const release = answer.release;
    // A release with parts sent, above, and this one without: the same shape (the demo site collects every part).
    expect(release.mechanisms).toBe(5 + COUNT_MECHANISMS);
    // Offsets for every cell and creative of the site, noise where nothing was sent.
    expect(release.offsets!.entries.map((e) => e.key)).toEqual([
      'cell:banner/new',
      'cell:product_card/bestseller',
      'cell:product_card/new',
      'cell:product_card/sale',
      'creative:b-shoes',
      'creative:c-p1',
      'creative:c-p2',
      'creative:c-p3',
    ]);
    expect(release.offsets!.entries.some((e) => e.clicks !== 0)).toBe(true);
    expect(release.head).toMatchObject({ modelVersion: serving });
    expect(Math.abs(release.head!.reports)).toBeLessThan(7 * release.noise.reportsStd!); // none sent, noised
    expect(release.head!.stats).toHaveLength(headStatsLength(headDim(tinyModel().model.topology)));
    expect(release.head!.stats.some((x) => x !== 0)).toBe(true); // noise, not zeros
    expect(release.ope!.models.map((m) => m.modelVersion)).toEqual([serving, candidate, UNIFORM_POLICY].sort());
    expect(release.towers!.sums).toHaveLength(TINY_TOWERS);
    const ledger = (await expectOk(admin('/v1/admin/sites/demo/privacy', 'GET'))) as { rounds: { round: number; mechanisms: number }[] };
    expect(ledger.rounds).toHaveLength(before + 1);
    expect(ledger.rounds.find((r) => r.round === round)).toMatchObject({ mechanisms: 5 + COUNT_MECHANISMS });
  });
});
