/**
 * The whole federated loop, end to end, with real parts: the edge worker in wrangler dev
 * (workerd, local D1 and Durable Objects), devices running the widget's engine code in Node
 * (fake-indexeddb for their IndexedDB, the same DeviceEngine the Web Worker runs), and the
 * trainer's own functions. Devices decide and log outcomes, each sends its one clipped report,
 * the round closes, the trainer pulls the noised release, fits and publishes a candidate; in the
 * next round devices score the candidate beside each decision, the trainer evaluates it
 * off-policy and the gate promotes it or not, and a device that stayed open picks up the new
 * model without restarting. Each round closes when its devices have reported, by the edge's test
 * controls (the test build of the worker): nothing here waits for a deadline.
 *
 * One thing is simulated: each device's network address. All devices run in this process, so
 * their requests carry a distinct cf-connecting-ip header, as distinct phones would have.
 */
import 'fake-indexeddb/auto';
import { isHoldout } from '../../widget/engine/engine-api.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { towerParameterCount } from '../../protocol/tower-gradient.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setBackend } from '@tensorflow/tfjs-core';
import { deleteDB } from 'idb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageContext } from '../../protocol/features.ts';
import { trainBootstrapModel } from '../../model-training/src/bootstrap-model.ts';
import { EdgeAdminClient } from '../../model-training/src/edge-admin-client.ts';
import { DEFAULT_ROUND_FIT, evaluatePulled, fitFromRounds, promoteIfBetter, publishCandidate } from '../../model-training/src/round-training.ts';
import { planPull, pullRounds, trainerPaths } from '../../model-training/src/round-pull.ts';
import { pick, seededRandom } from '../../model-training/src/seeded-random.ts';
import { clickProbability, drawShopper } from '../../model-training/src/synthetic-shoppers.ts';
import { applyMigrations, closeOpenRound, startLocalEdge } from '../../scripts/local-edge.ts';
import type { LocalEdge } from '../../scripts/local-edge.ts';
import { databaseName } from '../../widget/engine/device-store.ts';
import { COUNT_MECHANISMS } from '../../protocol/privacy.ts';
import { PAIRED_SCALE, unscaledPairedSums } from '../../protocol/off-policy.ts';
import { DeviceEngine } from '../../widget/engine/device-engine.ts';
import { postReport } from '../../widget/engine/post-report.ts';
import { registerModelKernels } from '../../widget/engine/tfjs-kernels.ts';
import { CREATIVES, PRODUCTS, TEMPLATES } from '../fixtures/storefront/demo-catalog.ts';

const PORT = 8813;
const SITE = 'loop';
const TOKEN = 'loop-admin-token-for-the-federated-test';
/** A day, longer than the test: rounds close by the test's call, never by their deadline. */
const ROUND_SECONDS = 86_400;
/**
 * Little noise and the largest budget a site may set (PRIVACY.md): a one-day period holds the two
 * rounds this test closes within minutes, every part collected (5.25 mechanisms a round), epsilon
 * 18.9 together, within 20. Little privacy to speak of, but a test-sized population must carry
 * signal through the noise.
 */
const NOISE = 1.05;
const DEVICES = 120;
const DECISIONS_PER_DEVICE = 15;
/** Above what 15 decisions add to a device's head statistics (about 3.5 each), so none is clipped and the released count is exact up to noise. */
const HEAD_CLIP = 100;
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
  edge = await startLocalEdge(PORT, path.join(state, 'wrangler'), { ADMIN_TOKENS: JSON.stringify({ [SITE]: TOKEN }) }, { testControls: true });
  client = new EdgeAdminClient(edge.url, SITE, TOKEN);
  // Low noise and the largest budget (NOISE): a test-sized population must carry signal through
  // the noise (PRIVACY.md: the defaults need tens of thousands of shown decisions per update).
  // 1,800 examples under noise of sd 100 stand 18 deviations up, far from fit's threshold of 3 used below.
  await client.putSite({
    name: 'Loop test shop',
    allowedOrigins: [],
    minCohort: 5,
    roundSeconds: ROUND_SECONDS,
    noiseMultiplier: NOISE,
    epsilonBudget: 20,
    budgetPeriodDays: 1,
    // Every part, the head and towers too, whatever the site's scale (report-parts.ts): this test is about all of them.
    learning: 'full',
    configRefreshSeconds: 1,
    headClip: HEAD_CLIP,
    // Every device's decisions are the model's (the holdout has its own tests).
    holdoutShare: 0,
  });
  await client.putProducts(PRODUCTS.map(({ description: _, ...p }) => p));
  await client.putTemplates(TEMPLATES);
  await client.putCreatives(CREATIVES);
  const { model, weights } = await trainBootstrapModel((await client.config()).candidates, {
    examples: 40_000,
    cacheDir: '.vitrine/models',
    log: () => undefined,
  });
  const { version } = await client.uploadModel(model, weights);
  await client.promote(version);
}, 180_000);

afterAll(() => {
  globalThis.fetch = realFetch;
  edge?.stop();
  rmSync(state, { recursive: true, force: true });
});

/** The site's open round, as devices read it from the config. */
async function openRoundId(): Promise<number> {
  return (await client.config()).round.id;
}

/** Closes the open round now that its devices have reported (the test controls); answers its id. */
async function closeRound(): Promise<number> {
  return (await closeOpenRound(edge.url, SITE, TOKEN)).closed;
}

interface DeviceRun {
  answers: string[];
  stayingOpen: DeviceEngine;
  /** What left the devices, summed exactly: each model's off-policy sums (clipped, not noised). */
  sentOpe: Map<string, number[]>;
}

/** DEVICES shoppers, each a fresh device: views, decisions, outcomes from the known click model, one report. */
async function runDevices(served: string, categories: string[], seed: number, candidate: string | null, keepLastOpen: boolean): Promise<DeviceRun> {
  const answers: string[] = [];
  const sentOpe = new Map<string, number[]>();
  let stayingOpen: DeviceEngine | null = null;
  for (let i = 0; i < DEVICES; i++) {
    deviceAddress = `10.7.${i >> 8}.${i & 255}`;
    const random = seededRandom(seed + i);
    const engine = new DeviceEngine(random);
    const status = await engine.start({ edge: edge.url, site: SITE, storage: 'persistent', reporting: true, reportTokenDelayMs: 0 });
    expect(status).toMatchObject({ state: 'ready', modelVersion: served });
    // A device evaluates the config's candidate models once they have loaded (in the background).
    if (candidate) await (engine as unknown as { serving: { candidatesLoaded: Promise<unknown> } }).serving.candidatesLoaded;
    const shopper = drawShopper(categories, random);
    const liked = [...shopper.categoryPreference.keys()];
    await engine.track(
      Array.from({ length: 3 }, (_, k) => ({ type: 'product_view' as const, at: Date.now() - k * 60_000, category: pick(liked, random), price: 60 })),
    );
    for (let k = 0; k < DECISIONS_PER_DEVICE; k++) {
      const [decision] = await engine.decide(['hero'], PAGE);
      if (!decision || isHoldout(decision)) throw new Error('the site holds no device out: every slot gets a creative');
      await engine.recordOutcome(decision.id, 'impression');
      if (random() < clickProbability(shopper, decision.candidate)) await engine.recordOutcome(decision.id, 'click');
    }
    const prepared = (await engine.prepareReport())!;
    for (const e of prepared.report.ope ?? []) {
      const sums = sentOpe.get(e.modelVersion) ?? [0, 0, 0, 0, 0];
      e.sums.forEach((x, j) => (sums[j]! += x));
      sentOpe.set(e.modelVersion, sums);
    }
    const { status: code, body } = await postReport(prepared.url, prepared.report);
    await engine.reportAnswered(prepared.reportId, code, body);
    answers.push(`${code} ${body}`);
    // A second report in the same round: there is none to send (one per device per round).
    expect(await engine.prepareReport()).toBeNull();
    stayingOpen = engine;
    // The next device starts with nothing (all devices share this process's IndexedDB).
    if (!(keepLastOpen && i === DEVICES - 1)) await deleteDB(databaseName(SITE));
  }
  return { answers, stayingOpen: stayingOpen!, sentOpe };
}

const COUNTED = '202 {"accepted":true,"duplicate":false,"head":"counted","ope":"counted","towers":"counted","offsets":"counted"}';

describe('federated rounds, end to end', () => {
  it('devices report, the round releases noised sums, the trainer fits and publishes; devices evaluate the candidate; the gate decides; an open device switches', async () => {
    const config = await client.config();
    const served = config.model!.version;
    const categories = [...new Set(config.candidates.map((c) => c.category))];
    const paths = trainerPaths(path.join(state, 'trainer'), SITE);

    // Round 1: the serving model alone.
    const round = await openRoundId();
    const started = Date.now();
    const first = await runDevices(served, categories, 1000, null, false);
    console.log(`${DEVICES} devices decided and reported in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(first.answers.filter((a) => a === COUNTED)).toHaveLength(DEVICES);
    // The admin sees the open round, never how many reported in it.
    expect(await client.round('current')).not.toHaveProperty('contributors');

    // The round closes; the trainer pulls its release.
    expect(await closeRound()).toBe(round);
    deviceAddress = '10.255.0.1'; // the trainer
    // Pull says first what it will charge; planning reads and spends nothing.
    const before = await client.privacy();
    const plan = await planPull(client, paths, 2);
    // The round before it began before the site existed: pull neither plans, counts nor charges it.
    expect(plan.rounds).toEqual([round]);
    expect(plan.epsilon).toBeCloseTo(before.pacing.epsilonPerRound, 9);
    expect(plan).toMatchObject({ spent: 0, budget: before.budget, large: plan.epsilon > before.budget / 10 });
    expect((await client.privacy()).epsilon).toBe(before.epsilon);
    const pulled = await pullRounds(client, paths, 2, true);
    expect(pulled.released).toEqual([round]);
    const ledger = await client.privacy();
    // What it charged is at most what it said.
    expect(ledger.epsilon).toBeLessThanOrEqual(plan.epsilon + 1e-9);
    // Counts, head statistics, off-policy sums, tower gradients and offsets: five Gaussian
    // mechanisms, and the count vector the cohort check was made on (a quarter). Its contributors are noised (sd 4 here).
    expect(ledger.rounds).toEqual([expect.objectContaining({ round, mechanisms: 5 + COUNT_MECHANISMS, noiseMultiplier: NOISE })]);
    expect(Math.abs(ledger.rounds[0]!.contributors - DEVICES)).toBeLessThanOrEqual(5 * 4 * NOISE);
    expect(ledger.epsilon).toBeGreaterThan(0);

    // Fit (last layer exactly, towers one federated-averaging step) and publish as a candidate.
    const fitted = await fitFromRounds(client, paths, SITE, { ...DEFAULT_ROUND_FIT, minSignal: 3 });
    expect(fitted.base).toBe(served);
    expect(fitted.rounds).toEqual([round]);
    // The released example count is the exact one (every decision shown; clipping scales a
    // device down only past the bound) plus Gaussian noise: within 4 noise deviations of it.
    expect(fitted.noiseStd).toBeCloseTo(NOISE * HEAD_CLIP, 6);
    expect(Math.abs(fitted.examples - DEVICES * DECISIONS_PER_DEVICE)).toBeLessThan(4 * fitted.noiseStd);
    // The towers' step: taken or skipped (here the devices' shoppers follow the click model the
    // bootstrap model was trained on, so their gradients mostly disagree and the noise usually
    // wins); either way the candidate's towers are exactly what the summary says.
    // Its device count is the release's noised one (the count vector, sd 4 here).
    expect(fitted.towers.rounds).toEqual([round]);
    expect(Math.abs(fitted.towers.reports - DEVICES)).toBeLessThanOrEqual(5 * 4 * NOISE);
    const base = await client.modelFiles(served);
    const baseTowers = new Float32Array(base.weights.slice().buffer, 0, towerParameterCount(base.model.topology));
    const candidateTowers = new Float32Array(readFileSync(path.join(paths.candidates, fitted.version, 'weights.bin')).buffer.slice(0), 0, baseTowers.length);
    const moved = Math.sqrt(baseTowers.reduce((sum, x, i) => sum + (candidateTowers[i]! - x) ** 2, 0));
    if (fitted.towers.skipped) expect(moved).toBe(0);
    else expect(moved).toBeCloseTo(fitted.towers.stepNorm, 3);
    console.log(`towers: ${fitted.towers.skipped ?? `stepped, norm ${fitted.towers.stepNorm}`}`);
    const published = await publishCandidate(client, paths);
    expect(published.version).not.toBe(served);
    expect((await client.config()).candidateModels.map((m) => m.version)).toEqual([published.version]);

    // Round 2: devices decide with the serving model and score the candidate beside each decision.
    const round2 = await openRoundId();
    expect(round2).toBe(round + 1);
    const second = await runDevices(served, categories, 5000, published.version, true);
    expect(second.answers.filter((a) => a === COUNTED)).toHaveLength(DEVICES);
    const sentCandidate = second.sentOpe.get(published.version)!;
    const sentServing = second.sentOpe.get(served)!;
    // Nearly every shown decision was scored by the candidate too.
    expect(sentCandidate[0]).toBeGreaterThan(0.9 * sentServing[0]!);
    expect(await closeRound()).toBe(round2);
    deviceAddress = '10.255.0.1';
    expect((await pullRounds(client, paths, 2, true)).released).toEqual([round2]);

    // Evaluate: the estimates are the devices' own (clipped) sums plus the release noise.
    const { evaluations } = await evaluatePulled(client, paths);
    expect(evaluations).toHaveLength(1);
    const e = evaluations[0]!;
    expect(e).toMatchObject({ candidate: published.version, serving: served, rounds: [round2] });
    const noiseSd = (value: number, sums: number[]) => (NOISE * 50 * Math.sqrt(1 + value * value)) / sums[2]!;
    const exactServing = sentServing[1]! / sentServing[2]!;
    // The candidate's entry is paired with the serving model's (sums of u = w - 1, scaled): its
    // rate is the serving rate plus the difference on the decisions it was scored on.
    const [n, ru, u] = unscaledPairedSums(sentCandidate);
    const exactCandidate = exactServing + (ru - exactServing * u) / (n + u);
    const candidateSd = noiseSd(exactServing, sentServing) + (NOISE * 50 * Math.sqrt(1 + exactServing ** 2)) / PAIRED_SCALE / (n + u);
    expect(Math.abs(e.candidateValue!.estimate - exactCandidate)).toBeLessThan(4 * candidateSd);
    expect(Math.abs(e.servingValue!.estimate - exactServing)).toBeLessThan(4 * noiseSd(exactServing, sentServing));
    expect(e.candidateValue!.lower).toBeLessThan(e.candidateValue!.estimate);
    expect(e.candidateValue!.upper).toBeGreaterThan(e.candidateValue!.estimate);
    console.log(`candidate ${e.verdict}: ${e.reason}`);

    // The gate: promoted exactly when the paired difference's anytime-valid lower bound is above zero.
    const auto = await promoteIfBetter(client, paths);
    expect(auto.promoted !== null).toBe(e.difference!.lower > 0);
    if (!auto.promoted) {
      expect((await client.config()).model!.version).toBe(served);
      await client.promote(published.version); // the merchant's own call
    }
    expect((await client.config()).model!.version).toBe(published.version);

    // The device that stayed open switches at its next config check, between decisions. Its
    // check is due a second after the last (configRefreshSeconds 1): at least that long has passed
    // once this wait is over, however busy the machine.
    await sleep(1100);
    deviceAddress = '10.7.0.119';
    await second.stayingOpen.decide(['hero'], PAGE); // due: starts the re-check
    // The re-check in flight (config, then the new model), awaited rather than given a time.
    await (second.stayingOpen as unknown as { serving: { refreshIfDue(now: number): Promise<void> } }).serving.refreshIfDue(Date.now());
    const [next] = await second.stayingOpen.decide(['hero'], PAGE);
    expect(next && !isHoldout(next) && next.modelVersion).toBe(published.version);
  }, 420_000);
});
