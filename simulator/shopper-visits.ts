/**
 * The shoppers' side of the simulation: each shopper a device running the widget's engine code
 * (DeviceEngine: features, model, Thompson sampling, its own IndexedDB on fake-indexeddb, one
 * clipped report per round), visiting in its own device context (device-environment.ts). What a
 * round's visits measure, on the very decisions the engine made, is summed in `Sums`: the expected
 * click rate of the engine's choices (the ground-truth probability of each shown creative), and
 * of the frozen first model, the oracle, uniform random and popularity in the same situations.
 *
 * This runs in the device threads (device-worker.ts), each with a share of the shoppers.
 */
import { isHoldout } from '../widget/engine/engine-api.ts';
import { IDBFactory } from 'fake-indexeddb';
import { priceBandOf } from '../protocol/catalog.ts';
import type { PageContext } from '../protocol/features.ts';
import { l2Norm } from '../protocol/privacy.ts';
import { offsetValues } from '../protocol/offsets.ts';
import type { Candidate } from '../protocol/wire.ts';
import { seededRandom } from '../model-training/src/seeded-random.ts';
import { DeviceEngine } from '../widget/engine/device-engine.ts';
import { postReport } from '../widget/engine/post-report.ts';
import type { ScoringModel } from '../widget/engine/scoring-model.ts';
import type { DeviceContext, SimulatedDevices } from './device-environment.ts';
import { browse, drawShopper } from './population.ts';
import type { Catalog, Shopper } from './population.ts';
import type { Moment, World } from './worlds.ts';

/**
 * Posterior draws for the frozen model's policy, a measurement only: its expected click rate in a
 * situation, sum of p_k times the truth, is unbiased at any number of draws, and averaged over a
 * round's thousands of decisions 64 draws add nothing that matters (a quarter of the cost of 256).
 */
const FROZEN_DRAWS = 64;

/** Device visits in flight at once in one thread: enough to keep the edge busy while each waits on it. */
const CONCURRENT_VISITS = 8;

/** A shopper, their device's own storage and address, and their own random stream (so a run's draws do not depend on how visits interleave, or which thread runs them). */
export interface SimulatedShopper {
  shopper: Shopper;
  device: DeviceContext;
  random: () => number;
  /** What worlds with memory need (purchase-fatigue): the last purchase, by round. */
  lastPurchase: Moment['lastPurchase'];
}

export function simulatedShopper(id: number, catalog: Catalog, seed: number): SimulatedShopper {
  const random = seededRandom((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(id + 1, 0x85ebca6b)) >>> 0);
  const address = `10.${(id >> 16) & 255}.${(id >> 8) & 255}.${id & 255}`;
  return { shopper: drawShopper(id, catalog, random), device: { address, storage: new IDBFactory() }, random, lastPurchase: null };
}

/** What a round's visits add up (expected click rates per policy on the engine's decisions, and what was clicked and bought). */
export interface Sums {
  decisions: number;
  ctr: number;
  frozen: number;
  oracle: number;
  random: number;
  popularity: number;
  clicks: number;
  purchases: number;
  topCategory: number;
  brand: number;
  priceBand: number;
}

export const emptySums = (): Sums => ({
  decisions: 0,
  ctr: 0,
  frozen: 0,
  oracle: 0,
  random: 0,
  popularity: 0,
  clicks: 0,
  purchases: 0,
  topCategory: 0,
  brand: 0,
  priceBand: 0,
});

/** `into` plus `more`, field by field. */
export function addSums(into: Sums, more: Sums): Sums {
  for (const k of Object.keys(into) as (keyof Sums)[]) into[k] += more[k];
  return into;
}

/** What every visit of one round shares. */
export interface RoundContext {
  site: string;
  catalog: Catalog;
  candidates: Candidate[];
  sums: Sums;
  edgeUrl: string;
  /** Decisions (slots shown) per shopper, the run's rounds and this one (0-based: worlds that change over the run read it). */
  decisions: number;
  rounds: number;
  round: number;
  /**
   * How long before the run's present this round's shopping happens (each visit's clock, see
   * device-environment.ts). A round is a day (the simulated site's round length), and the run
   * compresses days into minutes: every time the engine keeps is the day's, so the profile decays
   * between rounds as it would between days (half-life 72 hours), and a taste that drifted away
   * fades as it would.
   */
  ago: number;
  /** Head norms of the reports, when asked for (the timing devices). */
  norms?: number[];
  /** Off-policy norms of the reports (all models together), when asked for (the timing devices). */
  opeNorms?: number[];
  /** Offsets norms of the reports (protocol/offsets.ts), when asked for (the timing devices). */
  offsetNorms?: number[];
  world: World;
  /** The first model, never retrained: its policy is scored in every situation the engine decides in. */
  frozen: ScoringModel;
}

/** Runs `run` over `items` with at most `limit` in flight. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Every shopper's visit of one round, several at once, each in its own device context. */
export async function visitAll(shoppers: SimulatedShopper[], devices: SimulatedDevices, round: RoundContext): Promise<void> {
  const popular = round.candidates.reduce((best, c) => (c.popularity > best.popularity ? c : best), round.candidates[0]!);
  await forEachConcurrently(shoppers, CONCURRENT_VISITS, (s) => devices.visit(s.device, () => visit(s, popular, round), round.ago));
}

/** One shopper's visit in a round: browsing, the slots the engine fills, outcomes, the round's report. */
async function visit(s: SimulatedShopper, popular: Candidate, round: RoundContext): Promise<void> {
  const engine = new DeviceEngine(s.random);
  try {
    await visitWith(engine, s, popular, round);
  } finally {
    await engine.close(); // the page is left: its models' tensors are freed
  }
}

async function visitWith(engine: DeviceEngine, simulated: SimulatedShopper, popular: Candidate, round: RoundContext): Promise<void> {
  const { catalog, candidates, sums, world } = round;
  const { shopper, random } = simulated;
  const status = await engine.start({ edge: round.edgeUrl, site: round.site, storage: 'persistent', reporting: true, reportTokenDelayMs: 0 });
  if (status.state !== 'ready') throw new Error(`a device could not start: ${status.reason}`);
  const moment: Moment = { round: round.round, rounds: round.rounds, lastPurchase: simulated.lastPurchase };
  const truth = candidates.map((c) => world.click(shopper, c, moment));
  const truthOf = new Map(candidates.map((c, i) => [c.id, truth[i]!]));
  const oracle = Math.max(...truth);
  const mean = truth.reduce((a, b) => a + b, 0) / truth.length;
  const popularity = world.click(shopper, popular, moment);
  const favourite = Math.max(...shopper.categories.values());
  let lastViewed = browse(shopper, catalog, random);
  const views = 1 + Math.floor(random() * 3);
  const events = [];
  for (let v = 0; v < views; v++) {
    lastViewed = v === 0 ? lastViewed : browse(shopper, catalog, random);
    events.push({
      type: 'product_view' as const,
      at: Date.now() - (views - v) * 30_000,
      productId: lastViewed.id,
      category: lastViewed.category,
      brand: lastViewed.brand,
      price: lastViewed.price,
    });
  }
  await engine.track(events);
  const page: PageContext = { pageType: 'product', category: lastViewed.category, hour: 12, device: 'desktop' };
  for (let k = 0; k < round.decisions; k++) {
    // The frozen first model in this very situation (same profile, page and eligibility), before the decision changes it.
    const frozenPolicy = await engine.distribution('hero', page, FROZEN_DRAWS, round.frozen);
    const [decision] = await engine.decide(['hero'], page);
    // The simulated site holds no device out (simulation.ts): every slot gets a creative.
    if (!decision || isHoldout(decision)) continue;
    const p = truthOf.get(decision.candidate.id) ?? world.click(shopper, decision.candidate, moment);
    sums.decisions++;
    sums.ctr += p;
    sums.frozen += frozenPolicy.reduce((e, x) => e + x.probability * (truthOf.get(x.creativeId) ?? 0), 0);
    sums.oracle += oracle;
    sums.random += mean;
    sums.popularity += popularity;
    const c = decision.candidate;
    if ((shopper.categories.get(c.category) ?? 0) === favourite) sums.topCategory++;
    if (c.brand === shopper.brand) sums.brand++;
    if (priceBandOf(c.price) === shopper.priceBand) sums.priceBand++;
    await engine.recordOutcome(decision.id, 'impression');
    if (random() < p) {
      sums.clicks++;
      await engine.recordOutcome(decision.id, 'click');
      // The click lands on the product's page, where the widget records the product view.
      const landing = catalog.products.find((x) => x.url === decision.candidate.url);
      if (landing)
        await engine.track([
          { type: 'product_view', at: Date.now(), productId: landing.id, category: landing.category, brand: landing.brand, price: landing.price },
        ]);
      if (random() < world.purchase(shopper, decision.candidate, moment)) {
        sums.purchases++;
        simulated.lastPurchase = { category: decision.candidate.category, round: round.round };
        await engine.track([
          {
            type: 'purchase',
            at: Date.now(),
            value: decision.candidate.price,
            quantity: 1,
            category: decision.candidate.category,
            brand: decision.candidate.brand,
            price: decision.candidate.price,
          },
        ]);
      }
    }
  }
  const prepared = await engine.prepareReport();
  if (prepared) {
    if (round.norms && prepared.report.head) round.norms.push(l2Norm(prepared.report.head.stats));
    if (round.opeNorms && prepared.report.ope) round.opeNorms.push(l2Norm(prepared.report.ope.flatMap((e) => e.sums)));
    if (round.offsetNorms && prepared.report.offsets) round.offsetNorms.push(l2Norm(offsetValues(prepared.report.offsets)));
    const { status: code, body } = await postReport(prepared.url, prepared.report);
    await engine.reportAnswered(prepared.reportId, code, body);
  }
}
