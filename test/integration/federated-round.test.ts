/**
 * The whole federated loop, end to end, with real parts: the edge worker in wrangler dev
 * (workerd, local D1 and Durable Objects), devices running the widget's engine code in Node
 * (fake-indexeddb for their IndexedDB, the same DeviceEngine the Web Worker runs), and the
 * trainer's own functions. Devices decide and log outcomes, each sends its one clipped report,
 * the round closes, the trainer pulls the noised release, fits, publishes and promotes, and a
 * device that stayed open picks up the new model without restarting.
 *
 * One thing is simulated: each device's network address. All devices run in this process, so
 * their requests carry a distinct cf-connecting-ip header, as distinct phones would have.
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setBackend } from '@tensorflow/tfjs-core';
import { deleteDB } from 'idb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageContext } from '../../protocol/features.ts';
import { trainBootstrapModel } from '../../model-training/src/bootstrap-model.ts';
import { EdgeAdminClient } from '../../model-training/src/edge-admin-client.ts';
import { fitFromRounds, publishCandidate, pullRounds, trainerPaths } from '../../model-training/src/round-training.ts';
import { pick, seededRandom } from '../../model-training/src/seeded-random.ts';
import { clickProbability, drawShopper } from '../../model-training/src/synthetic-shoppers.ts';
import { applyMigrations, startLocalEdge } from '../../scripts/local-edge.ts';
import type { LocalEdge } from '../../scripts/local-edge.ts';
import { databaseName } from '../../widget/engine/device-store.ts';
import { DeviceEngine } from '../../widget/engine/device-engine.ts';
import { postReport } from '../../widget/engine/report-transport.ts';
import { registerModelKernels } from '../../widget/engine/tfjs-kernels.ts';
import { CREATIVES, PRODUCTS, TEMPLATES } from '../fixtures/storefront/demo-catalog.ts';

const PORT = 8813;
const SITE = 'loop';
const TOKEN = 'loop-admin-token-for-the-federated-test';
const ROUND_SECONDS = 60;
const DEVICES = 120;
const DECISIONS_PER_DEVICE = 15;
const PAGE: PageContext = { pageType: 'home', category: null, hour: 12, device: 'desktop' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const state = mkdtempSync(path.join(tmpdir(), 'vitrine-loop-'));
let edge: LocalEdge;
let client: EdgeAdminClient;
const realFetch = globalThis.fetch;
let deviceAddress = '10.0.0.1';

beforeAll(async () => {
  registerModelKernels();
  await setBackend('cpu');
  // Every request a device makes carries its own address (see the header comment).
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set('cf-connecting-ip', deviceAddress);
    return realFetch(input, { ...init, headers });
  };
  applyMigrations(path.join(state, 'wrangler'));
  edge = await startLocalEdge(PORT, path.join(state, 'wrangler'), { ADMIN_TOKENS: JSON.stringify({ [SITE]: TOKEN }) });
  client = new EdgeAdminClient(edge.url, SITE, TOKEN);
  // Low noise and a large budget (one round spends epsilon ~174 here, no privacy to speak of):
  // a test-sized population must carry signal through the noise (PRIVACY.md: the defaults need
  // tens of thousands of shown decisions per update). 1,800 examples under noise of 200 stand
  // about 9 deviations up, far from fit's threshold of 3 used below.
  await client.putSite({ name: 'Loop test shop', allowedOrigins: [], minCohort: 5, roundSeconds: ROUND_SECONDS, noiseMultiplier: 0.1, epsilonBudget: 1000, configRefreshSeconds: 1 });
  await client.putProducts(PRODUCTS.map(({ description: _, ...p }) => p));
  await client.putTemplates(TEMPLATES);
  await client.putCreatives(CREATIVES);
  const { model, weights } = await trainBootstrapModel((await client.config()).candidates, { examples: 40_000, cacheDir: '.vitrine/models', log: () => undefined });
  const { version } = await client.uploadModel(model, weights);
  await client.promote(version);
}, 180_000);

afterAll(() => {
  globalThis.fetch = realFetch;
  edge?.stop();
  rmSync(state, { recursive: true, force: true });
});

describe('a federated round, end to end', () => {
  it('devices report, the round releases noised sums, the trainer updates the model, and an open device switches to it', async () => {
    const config = await client.config();
    const served = config.model!.version;
    const categories = [...new Set(config.candidates.map((c) => c.category))];
    // Enough of the round left for every device to report in it (they take about 12 s here).
    const intoRound = Date.now() % (ROUND_SECONDS * 1000);
    if (intoRound > 10_000) await sleep(ROUND_SECONDS * 1000 - intoRound + 200);
    const round = Math.floor(Date.now() / (ROUND_SECONDS * 1000));

    const answers: string[] = [];
    let stayingOpen: DeviceEngine | null = null;
    for (let i = 0; i < DEVICES; i++) {
      deviceAddress = `10.7.${i >> 8}.${i & 255}`;
      const random = seededRandom(1000 + i);
      const engine = new DeviceEngine(random);
      const status = await engine.start({ edge: edge.url, site: SITE, storage: 'persistent', reporting: true });
      expect(status).toMatchObject({ state: 'ready', modelVersion: served });
      const shopper = drawShopper(categories, random);
      const liked = [...shopper.categoryPreference.keys()];
      await engine.track(Array.from({ length: 3 }, (_, k) => ({ type: 'product_view' as const, at: Date.now() - k * 60_000, category: pick(liked, random), price: 60 })));
      for (let k = 0; k < DECISIONS_PER_DEVICE; k++) {
        const [decision] = await engine.decide(['hero'], PAGE);
        await engine.recordOutcome(decision!.id, 'impression');
        if (random() < clickProbability(shopper, decision!.candidate)) await engine.recordOutcome(decision!.id, 'click');
      }
      const prepared = (await engine.prepareReport())!;
      const { status: code, body } = await postReport(prepared.url, prepared.report);
      await engine.reportAnswered(prepared.reportId, code, body);
      answers.push(`${code} ${body}`);
      // A second report in the same round: there is none to send (one per device per round).
      expect(await engine.prepareReport()).toBeNull();
      if (i === DEVICES - 1) stayingOpen = engine;
      else await deleteDB(databaseName(SITE)); // the next device starts with nothing
    }
    console.log(`${DEVICES} devices decided and reported in ${((Date.now() % (ROUND_SECONDS * 1000)) / 1000).toFixed(1)} s of the round`);
    expect(answers.filter((a) => a === '202 {"accepted":true,"duplicate":false,"head":"counted"}')).toHaveLength(DEVICES);
    expect(Math.floor(Date.now() / (ROUND_SECONDS * 1000))).toBe(round);
    expect((await client.round('current')).contributors).toBe(DEVICES);

    // The round closes; the trainer pulls its release.
    await sleep((round + 1) * ROUND_SECONDS * 1000 - Date.now() + 1500);
    deviceAddress = '10.255.0.1'; // the trainer
    const paths = trainerPaths(path.join(state, 'trainer'), SITE);
    const pulled = await pullRounds(client, paths, 2, true);
    expect(pulled.released).toEqual([round]);
    const ledger = await client.privacy();
    expect(ledger.rounds).toEqual([expect.objectContaining({ round, mechanisms: 2, noiseMultiplier: 0.1, contributors: DEVICES })]);
    expect(ledger.epsilon).toBeGreaterThan(0);

    // Fit, publish, promote.
    const fitted = await fitFromRounds(client, paths, SITE, 3);
    expect(fitted.base).toBe(served);
    expect(fitted.rounds).toEqual([round]);
    // The released example count is the exact one (every decision shown; clipping scales a
    // device down only past the bound) plus Gaussian noise: within 4 noise deviations of it.
    expect(fitted.noiseStd).toBeCloseTo(0.1 * 2000, 6);
    expect(Math.abs(fitted.examples - DEVICES * DECISIONS_PER_DEVICE)).toBeLessThan(4 * fitted.noiseStd);
    const published = await publishCandidate(client, paths);
    expect(published.version).not.toBe(served);
    await client.promote(published.version);

    // The device that stayed open switches at its next config check, between decisions.
    await sleep(1100);
    deviceAddress = '10.7.0.119';
    await stayingOpen!.decide(['hero'], PAGE); // due: starts the re-check
    await sleep(1500);
    const [next] = await stayingOpen!.decide(['hero'], PAGE);
    expect(next!.modelVersion).toBe(published.version);
  }, 240_000);
});
