/**
 * The storefront simulator: a population of shoppers (population.ts) on the real system. Each
 * shopper is a device running the widget's engine code in Node (DeviceEngine: features, model,
 * Thompson sampling, its own IndexedDB on fake-indexeddb, one clipped report per round), the
 * edge is the real worker in `wrangler dev` (D1, the round's Durable Object, noise, the privacy
 * ledger), and the trainer's own functions pull, fit, publish and promote after every round.
 *
 * Per round it measures, on the very decisions the engine made, the expected click rate of the
 * engine's choices (the ground-truth probability of each shown creative), and of three other
 * policies in the same situations: the oracle (the truly best creative for that shopper), uniform
 * random, and non-personalized popularity (the catalog's most popular creative). Expected rates
 * (not sampled clicks) make the comparison free of click noise; realized clicks and purchases are
 * reported beside them, and are what the engine learns from.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setBackend } from '@tensorflow/tfjs-core';
import type { PageContext } from '../protocol/features.ts';
import { epsilonSpent } from '../protocol/privacy.ts';
import type { Candidate } from '../protocol/wire.ts';
import { trainBootstrapModel } from '../model-training/src/bootstrap-model.ts';
import { EdgeAdminClient } from '../model-training/src/edge-admin-client.ts';
import { fitFromRounds, publishCandidate, pullRounds, trainerPaths } from '../model-training/src/round-training.ts';
import { seededRandom } from '../model-training/src/seeded-random.ts';
import { applyMigrations, startLocalEdge } from '../scripts/local-edge.ts';
import { DeviceEngine } from '../widget/engine/device-engine.ts';
import { postReport } from '../widget/engine/report-transport.ts';
import { registerModelKernels } from '../widget/engine/tfjs-kernels.ts';
import { browse, clickProbability, drawShopper, drift, makeCatalog, purchaseProbability } from './population.ts';
import type { Shopper } from './population.ts';

export interface SimulationOptions {
  shoppers: number;
  rounds: number;
  /** Total (epsilon, 1e-6) budget the run may spend over all its rounds; null: practically no noise (epsilon 1,000). */
  epsilon: number | null;
  seed: number;
  categories: number;
  products: number;
  /** Decisions (slots shown) per shopper per round. */
  decisions: number;
  /** Minimum reports per round before its sums are released (K). */
  minCohort: number;
  /** Probability a shopper's taste moves between rounds. */
  drift: number;
  port: number;
  log: (line: string) => void;
}

export const DEFAULT_SIMULATION: Omit<SimulationOptions, 'log'> = { shoppers: 1000, rounds: 10, epsilon: 8, seed: 1, categories: 8, products: 6, decisions: 2, minCohort: 50, drift: 0.1, port: 8821 };

/** Why the configuration makes no sense, or null. */
export function invalidOptions(o: Omit<SimulationOptions, 'log'>): string | null {
  const whole = (name: string, x: number, min: number, max: number) => (!Number.isInteger(x) || x < min || x > max ? `--${name} must be a whole number from ${min} to ${max} (got ${x})` : null);
  return (
    whole('shoppers', o.shoppers, 10, 1_000_000) ??
    whole('rounds', o.rounds, 1, 100) ??
    whole('categories', o.categories, 2, 40) ??
    whole('products', o.products, 2, 100) ??
    whole('decisions', o.decisions, 1, 20) ??
    whole('seed', o.seed, 0, 2 ** 31) ??
    whole('min-cohort', o.minCohort, 2, 1_000_000) ??
    whole('port', o.port, 1024, 65535) ??
    (o.minCohort > o.shoppers ? `--min-cohort ${o.minCohort} is above the population (${o.shoppers} shoppers): no round could ever be released` : null) ??
    (o.epsilon !== null && !(o.epsilon >= 0.1 && o.epsilon <= 1000) ? `--epsilon must be from 0.1 to 1000, or none (got ${o.epsilon})` : null) ??
    (!(o.drift >= 0 && o.drift <= 1) ? `--drift must be from 0 to 1 (got ${o.drift})` : null)
  );
}

/** The largest noise multiplier a site accepts (SiteSettingsSchema). */
const MAX_NOISE_MULTIPLIER = 100;

/** Mechanisms a round's release holds: counts, head statistics, off-policy sums, tower gradients. */
const MECHANISMS_PER_ROUND = 4;

/** The noise multiplier at which `rounds` full releases spend exactly `epsilon` (delta 1e-6). */
export function noiseForEpsilon(epsilon: number, rounds: number): number {
  let lo = 0.05;
  let hi = 200;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (epsilonSpent(new Array(rounds * MECHANISMS_PER_ROUND).fill(mid), 1e-6).epsilon > epsilon) lo = mid;
    else hi = mid;
  }
  return hi;
}

export interface RoundResult {
  round: number;
  decisions: number;
  /** Expected click rate of the engine's choices (ground truth), and of the other policies on the same situations. */
  ctr: number;
  oracleCtr: number;
  randomCtr: number;
  popularityCtr: number;
  /** oracle - engine, per decision. */
  regret: number;
  realizedCtr: number;
  conversionRate: number;
  /** Epsilon spent by the site so far (the ledger, delta 1e-6). */
  epsilon: number;
  model: string;
  /** What the trainer did after the round. */
  training: string;
}

export interface SimulationResult {
  options: Omit<SimulationOptions, 'log'>;
  noiseMultiplier: number;
  rounds: RoundResult[];
  summary: { ctr_vs_random: number; ctr_vs_oracle: number; ctr_vs_popularity: number; epsilon: number; delta: number; noise_multiplier: number; last_round_ctr: number };
}

const TOKEN = 'simulator-admin-token-0000000000';
const SITE = 'sim';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSimulation(o: SimulationOptions): Promise<SimulationResult> {
  const problem = invalidOptions(o);
  if (problem) throw new Error(problem);
  registerModelKernels();
  await setBackend('cpu');
  const random = seededRandom(o.seed);
  const catalog = makeCatalog(o.categories, o.products, random);
  const noiseMultiplier = o.epsilon === null ? noiseForEpsilon(1000, o.rounds) : noiseForEpsilon(o.epsilon, o.rounds);
  if (noiseMultiplier > MAX_NOISE_MULTIPLIER) {
    throw new Error(`epsilon ${o.epsilon} over ${o.rounds} rounds needs noise multiplier ${noiseMultiplier.toFixed(1)}, above the edge's maximum of ${MAX_NOISE_MULTIPLIER}: allow more epsilon or run fewer rounds`);
  }
  // Devices in one round must all report inside it: the round lasts about 1.5 x the time they take.
  const roundSeconds = Math.max(60, Math.ceil(o.shoppers * o.decisions * 0.05 * 1.5));

  const state = mkdtempSync(path.join(tmpdir(), 'vitrine-sim-'));
  const realFetch = globalThis.fetch;
  let address = '10.0.0.1';
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set('cf-connecting-ip', address); // each shopper's own address, as distinct phones have
    return realFetch(input, { ...init, headers });
  };
  applyMigrations(path.join(state, 'wrangler'));
  const edge = await startLocalEdge(o.port, path.join(state, 'wrangler'), { ADMIN_TOKENS: JSON.stringify({ [SITE]: TOKEN }) });
  try {
    const client = new EdgeAdminClient(edge.url, SITE, TOKEN);
    await client.putSite({
      name: 'Simulated storefront',
      allowedOrigins: [],
      minCohort: o.minCohort,
      roundSeconds,
      noiseMultiplier,
      epsilonBudget: Math.min(1000, (o.epsilon ?? 1000) * 1.0001),
      frequencyCapPerDay: 0,
      configRefreshSeconds: 1,
    });
    await client.putProducts(catalog.products);
    await client.putTemplates(catalog.templates);
    await client.putCreatives(catalog.creatives);
    const { model, weights } = await trainBootstrapModel((await client.config()).candidates, { examples: 40_000, cacheDir: '.vitrine/models', log: o.log });
    await client.promote((await client.uploadModel(model, weights)).version);

    const shoppers = Array.from({ length: o.shoppers }, (_, i) => ({ shopper: drawShopper(i, catalog, random), storage: new IDBFactory() }));
    const paths = trainerPaths(path.join(state, 'trainer'), SITE);
    const results: RoundResult[] = [];
    let perShopperMs = 40;
    for (let r = 0; r < o.rounds; r++) {
      const config = await client.config();
      const candidates = config.candidates;
      const popular = candidates.reduce((best, c) => (c.popularity > best.popularity ? c : best), candidates[0]!);
      // Start in a round with enough time left for every shopper.
      const needed = o.shoppers * perShopperMs * 1.3 + 3000;
      const into = Date.now() % (roundSeconds * 1000);
      if (roundSeconds * 1000 - into < needed) await sleep(roundSeconds * 1000 - into + 300);
      const round = Math.floor(Date.now() / (roundSeconds * 1000));
      const started = Date.now();
      const sums = { decisions: 0, ctr: 0, oracle: 0, random: 0, popularity: 0, clicks: 0, purchases: 0 };
      for (const { shopper, storage } of shoppers) {
        if (r > 0) drift(shopper, catalog, o.drift, random);
        address = `10.${(shopper.id >> 16) & 255}.${(shopper.id >> 8) & 255}.${shopper.id & 255}`;
        globalThis.indexedDB = storage; // this shopper's own device storage
        await visit(shopper, o, catalog, candidates, popular, sums, random, edge.url);
      }
      perShopperMs = (Date.now() - started) / o.shoppers;
      if (Math.floor(Date.now() / (roundSeconds * 1000)) !== round) o.log(`round ${r + 1}: the devices took longer than the round; some reports went to the next one`);
      // The round closes; the trainer pulls, fits, publishes and serves.
      await sleep((round + 1) * roundSeconds * 1000 - Date.now() + 1500);
      address = '10.255.255.254';
      let training: string;
      try {
        const pulled = await pullRounds(client, paths, 2, true);
        if (pulled.budgetExhausted) training = `budget: ${pulled.budgetExhausted}`;
        else {
          const fitted = await fitFromRounds(client, paths, SITE);
          const { version } = await publishCandidate(client, paths);
          await client.promote(version);
          training = `fitted on rounds ${fitted.rounds.join(', ')} (~${Math.round(fitted.examples)} examples); towers ${fitted.towers.skipped ? 'kept' : 'stepped'}; serving ${version}`;
        }
      } catch (e) {
        training = `kept the model: ${e instanceof Error ? e.message : String(e)}`;
      }
      const ledger = await client.privacy();
      const n = Math.max(1, sums.decisions);
      const result: RoundResult = {
        round: r + 1,
        decisions: sums.decisions,
        ctr: sums.ctr / n,
        oracleCtr: sums.oracle / n,
        randomCtr: sums.random / n,
        popularityCtr: sums.popularity / n,
        regret: (sums.oracle - sums.ctr) / n,
        realizedCtr: sums.clicks / n,
        conversionRate: sums.purchases / n,
        epsilon: ledger.epsilon,
        model: config.model?.version ?? 'none',
        training,
      };
      results.push(result);
      o.log(
        `round ${result.round}: CTR ${pct(result.ctr)} (oracle ${pct(result.oracleCtr)}, random ${pct(result.randomCtr)}, popularity ${pct(result.popularityCtr)}); ` +
          `realized ${pct(result.realizedCtr)}, conversions ${pct(result.conversionRate)}; epsilon ${result.epsilon.toFixed(2)}; ${training}`,
      );
    }
    const last = results.at(-1)!;
    return {
      options: { ...o, log: undefined } as unknown as Omit<SimulationOptions, 'log'>,
      noiseMultiplier,
      rounds: results,
      summary: {
        ctr_vs_random: last.ctr / last.randomCtr,
        ctr_vs_oracle: last.ctr / last.oracleCtr,
        ctr_vs_popularity: last.ctr / last.popularityCtr,
        epsilon: last.epsilon,
        delta: 1e-6,
        noise_multiplier: noiseMultiplier,
        last_round_ctr: last.ctr,
      },
    };
  } finally {
    globalThis.fetch = realFetch;
    edge.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** One shopper's visit in a round: browsing, the slots the engine fills, outcomes, the round's report. */
async function visit(
  shopper: Shopper,
  o: SimulationOptions,
  catalog: ReturnType<typeof makeCatalog>,
  candidates: Candidate[],
  popular: Candidate,
  sums: { decisions: number; ctr: number; oracle: number; random: number; popularity: number; clicks: number; purchases: number },
  random: () => number,
  edgeUrl: string,
): Promise<void> {
  const engine = new DeviceEngine(random);
  const status = await engine.start({ edge: edgeUrl, site: SITE, storage: 'persistent', reporting: true });
  if (status.state !== 'ready') throw new Error(`a device could not start: ${status.reason}`);
  const truth = candidates.map((c) => clickProbability(shopper, c));
  const oracle = Math.max(...truth);
  const mean = truth.reduce((a, b) => a + b, 0) / truth.length;
  const popularity = clickProbability(shopper, popular);
  const now = Date.now();
  let lastViewed = browse(shopper, catalog, random);
  const views = 1 + Math.floor(random() * 3);
  const events = [];
  for (let v = 0; v < views; v++) {
    lastViewed = v === 0 ? lastViewed : browse(shopper, catalog, random);
    events.push({ type: 'product_view' as const, at: now - (views - v) * 30_000, productId: lastViewed.id, category: lastViewed.category, brand: lastViewed.brand, price: lastViewed.price });
  }
  await engine.track(events);
  const page: PageContext = { pageType: 'product', category: lastViewed.category, hour: 12, device: 'desktop' };
  for (let k = 0; k < o.decisions; k++) {
    const [decision] = await engine.decide(['hero'], page);
    if (!decision) continue;
    const p = clickProbability(shopper, decision.candidate);
    sums.decisions++;
    sums.ctr += p;
    sums.oracle += oracle;
    sums.random += mean;
    sums.popularity += popularity;
    await engine.recordOutcome(decision.id, 'impression');
    if (random() < p) {
      sums.clicks++;
      await engine.recordOutcome(decision.id, 'click');
      if (random() < purchaseProbability(shopper, decision.candidate)) {
        sums.purchases++;
        await engine.track([{ type: 'purchase', at: Date.now(), value: decision.candidate.price, quantity: 1, category: decision.candidate.category, brand: decision.candidate.brand, price: decision.candidate.price }]);
      }
    }
  }
  const prepared = await engine.prepareReport();
  if (prepared) {
    const { status: code, body } = await postReport(prepared.url, prepared.report);
    await engine.reportAnswered(prepared.reportId, code, body);
  }
}
