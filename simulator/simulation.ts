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
import { IDBFactory } from 'fake-indexeddb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setBackend } from '@tensorflow/tfjs-core';
import * as v from 'valibot';
import { priceBandOf } from '../protocol/catalog.ts';
import type { PageContext } from '../protocol/features.ts';
import { COUNT_MECHANISMS, DEFAULT_PRIVACY, epsilonSpent, l2Norm, mechanismMultipliers, PRIVACY_DELTA, RELEASE_MECHANISMS } from '../protocol/privacy.ts';
import { MAX_EPSILON_BUDGET, MIN_NOISE_MULTIPLIER } from '../protocol/budget-pacing.ts';
import { SiteSettingsSchema } from '../protocol/wire.ts';
import type { Candidate } from '../protocol/wire.ts';
import { trainBootstrapModel } from '../model-training/src/bootstrap-model.ts';
import { EdgeAdminClient } from '../model-training/src/edge-admin-client.ts';
import {
  DEFAULT_ROUND_FIT,
  fitFromRounds,
  fitOptionsProblem,
  promoteIfBetter,
  publishCandidate,
  pulledOpe,
  pullRounds,
  trainerPaths,
} from '../model-training/src/round-training.ts';
import type { TrainerPaths } from '../model-training/src/round-training.ts';
import { liftOver } from '../model-training/src/off-policy-estimate.ts';
import type { Lift } from '../model-training/src/off-policy-estimate.ts';
import { seededRandom } from '../model-training/src/seeded-random.ts';
import { applyMigrations, closeOpenRound, startLocalEdge } from '../scripts/local-edge.ts';
import { DeviceEngine } from '../widget/engine/device-engine.ts';
import { postReport } from '../widget/engine/post-report.ts';
import { registerModelKernels } from '../widget/engine/tfjs-kernels.ts';
import { browse, drawShopper, drift, makeCatalog } from './population.ts';
import { WORLDS } from './worlds.ts';
import type { Moment, World } from './worlds.ts';
import { loadScoringModel } from '../widget/engine/scoring-model.ts';
import type { ScoringModel } from '../widget/engine/scoring-model.ts';
import { THOMPSON_DRAWS } from '../protocol/policy.ts';
import type { Catalog, Shopper } from './population.ts';
import { SimulatedDevices } from './device-environment.ts';
import type { DeviceContext } from './device-environment.ts';

export interface SimulationOptions {
  shoppers: number;
  rounds: number;
  /** Total (epsilon, 1e-6) budget the run may spend over all its rounds; null: the largest a site may set (MAX_EPSILON_BUDGET, 20). */
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
  /** The site's head bound (L2 of one device's last-layer statistics per round); null: the 90th percentile of the timing devices' norms. */
  headClip: number | null;
  /** The trainer's share of the serving model's evidence carried into each fit (round-training.ts). */
  carry: number;
  /** The trainer's learning rate for the towers' federated step (0: the towers are never moved). */
  towerRate: number;
  /** What shoppers really respond to (worlds.ts); the engine and trainer never see it. */
  world: string;
  /**
   * How a fitted candidate comes to serve: `gate`, the merchant's `vitrine-train promote --auto`
   * (published as a candidate, evaluated off-policy by the devices of the next round, promoted
   * only when the gate finds it better); `always`, every fit serves at once (the upper bound of
   * what promotion can give, with none of its protection).
   */
  promote: 'gate' | 'always';
  port: number;
  log: (line: string) => void;
}

export const DEFAULT_SIMULATION: Omit<SimulationOptions, 'log'> = {
  shoppers: 1000,
  rounds: 10,
  epsilon: 8,
  seed: 1,
  categories: 8,
  products: 6,
  decisions: 2,
  minCohort: 50,
  drift: 0.1,
  headClip: null,
  carry: DEFAULT_ROUND_FIT.carry,
  towerRate: DEFAULT_ROUND_FIT.towerRate,
  world: 'today',
  promote: 'gate',
  port: 8821,
};

/** Why the configuration makes no sense, or null. */
export function invalidOptions(o: Omit<SimulationOptions, 'log'>): string | null {
  const whole = (name: string, x: number, min: number, max: number) =>
    !Number.isInteger(x) || x < min || x > max ? `--${name} must be a whole number from ${min} to ${max} (got ${x})` : null;
  return (
    whole('shoppers', o.shoppers, 10, 1_000_000) ??
    whole('rounds', o.rounds, 1, 100) ??
    whole('categories', o.categories, 2, 40) ??
    whole('products', o.products, 2, 100) ??
    whole('decisions', o.decisions, 1, 20) ??
    whole('seed', o.seed, 0, 2 ** 31) ??
    whole('min-cohort', o.minCohort, 2, 1_000_000) ??
    whole('port', o.port, 1024, 65535) ??
    (WORLDS[o.world] ? null : `--world ${o.world} is not a world; the worlds are ${Object.keys(WORLDS).join(', ')}`) ??
    (o.promote === 'gate' || o.promote === 'always' ? null : `--promote is gate or always (got ${String(o.promote)})`) ??
    (o.minCohort > o.shoppers ? `--min-cohort ${o.minCohort} is above the population (${o.shoppers} shoppers): no round could ever be released` : null) ??
    (o.epsilon === null ? null : siteSettingProblem('epsilonBudget', o.epsilon, `--epsilon ${o.epsilon} (or none)`)) ??
    (!(o.drift >= 0 && o.drift <= 1) ? `--drift must be from 0 to 1 (got ${o.drift})` : null) ??
    (o.headClip === null ? null : siteSettingProblem('headClip', o.headClip, `--head-clip ${o.headClip}`)) ??
    fitOptionsProblem({ ...DEFAULT_ROUND_FIT, carry: o.carry, towerRate: o.towerRate }) ??
    (o.epsilon === null ? null : tooMuchNoise(o.epsilon, o.rounds))
  );
}

/** Why the noise `epsilon` over `rounds` full releases needs is more than a site may set, or null. */
function tooMuchNoise(epsilon: number, rounds: number): string | null {
  const z = noiseForEpsilon(epsilon, rounds);
  // noiseForEpsilon searches up to 200.
  const problem = siteSettingProblem(
    'noiseMultiplier',
    z,
    `the noise multiplier ${z >= 199.9 ? 'above 200' : z.toFixed(1)} that epsilon ${epsilon} over ${rounds} rounds needs`,
  );
  return problem && `${problem}: allow more epsilon or run fewer rounds`;
}

/** Why the edge would refuse `value` for a site setting (its own schema), or null: refused here before a run starts. */
function siteSettingProblem(setting: 'headClip' | 'noiseMultiplier' | 'epsilonBudget', value: number, what: string): string | null {
  const checked = v.safeParse(SiteSettingsSchema.entries[setting], value);
  return checked.success ? null : `${what} is not a ${setting} the edge accepts: ${checked.issues[0].message}`;
}

/** Mechanisms a round's release holds: counts, head statistics, off-policy sums, tower gradients, and the count vector its cohort check is made on. */
const MECHANISMS_PER_ROUND = RELEASE_MECHANISMS + COUNT_MECHANISMS;

/** The noise multiplier at which `rounds` full releases spend exactly `epsilon` (delta 1e-6). */
export function noiseForEpsilon(epsilon: number, rounds: number): number {
  let lo = MIN_NOISE_MULTIPLIER;
  let hi = 200;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (epsilonSpent(mechanismMultipliers(rounds * MECHANISMS_PER_ROUND, mid), PRIVACY_DELTA).epsilon > epsilon) lo = mid;
    else hi = mid;
  }
  return hi;
}

export interface RoundResult {
  round: number;
  decisions: number;
  /** Expected click rate of the engine's choices (ground truth), and of the other policies on the same situations. */
  ctr: number;
  /** The first model, never retrained, deciding in the very same situations (its policy's expected click rate). */
  frozenCtr: number;
  oracleCtr: number;
  randomCtr: number;
  popularityCtr: number;
  /** oracle - engine, per decision. */
  regret: number;
  /** Shares of the engine's choices in the shopper's favourite category, of their brand, in their price band: which tastes it has learned. */
  topCategoryShare: number;
  brandShare: number;
  priceBandShare: number;
  realizedCtr: number;
  conversionRate: number;
  /** Epsilon spent by the site so far (the ledger, delta 1e-6). */
  epsilon: number;
  model: string;
  /** What the trainer did after the round. */
  training: string;
  /**
   * What the merchant's dashboard shows for this round (its released off-policy sums): the
   * serving model's click rate against uniform random, each with its 95% interval; null when
   * the round was not released. Set beside `ctr` and `randomCtr`, the truth, it shows how far
   * the dashboard can be trusted.
   */
  dashboardLift: Lift | null;
}

export interface SimulationResult {
  options: Omit<SimulationOptions, 'log'>;
  noiseMultiplier: number;
  rounds: RoundResult[];
  summary: {
    world: string;
    ctr_vs_random: number;
    ctr_vs_oracle: number;
    ctr_vs_popularity: number;
    /** The served models' click rate over the frozen first model's, last round, same situations. */
    ctr_vs_frozen: number;
    /** The frozen model's share of the oracle, and how many points of it retraining added (last round). */
    frozen_vs_oracle: number;
    oracle_points_over_frozen: number;
    /** The worst round's points of oracle share below the frozen model (0 when none was below). */
    worst_points_below_frozen: number;
    epsilon: number;
    delta: number;
    noise_multiplier: number;
    head_clip: number;
    ope_clip: number;
    last_round_ctr: number;
  };
}

const TOKEN = 'simulator-admin-token-0000000000';
const SITE = 'sim';
/** The site the throwaway devices that time a visit report to (its rounds are never released). */
const CALIBRATION_SITE = 'sim-calibration';
/** The edge keeps site rows and the models a report may carry parts of for a while per isolate: changes are waited out. */
/** A round is a day, as at a real site (the shoppers' clocks move a day between rounds: RoundContext.ago); it closes by the test controls. */
const ROUND_SECONDS = 86_400;

/** Device visits in flight at once: enough to keep the edge busy while each waits on it. */
const CONCURRENT_VISITS = 12;

/** A shopper, their device's own storage and address, and their own random stream (so a run's draws do not depend on how visits interleave). */
interface SimulatedShopper {
  shopper: Shopper;
  device: DeviceContext;
  random: () => number;
  /** What worlds with memory need (purchase-fatigue): the last purchase, by round. */
  lastPurchase: Moment['lastPurchase'];
}

function simulatedShopper(id: number, catalog: Catalog, seed: number): SimulatedShopper {
  const random = seededRandom((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(id + 1, 0x85ebca6b)) >>> 0);
  const address = `10.${(id >> 16) & 255}.${(id >> 8) & 255}.${id & 255}`;
  return { shopper: drawShopper(id, catalog, random), device: { address, storage: new IDBFactory() }, random, lastPurchase: null };
}

/** Runs `run` over `items` with at most `limit` in flight. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

type Sums = {
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
};
const emptySums = (): Sums => ({
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

export async function runSimulation(o: SimulationOptions): Promise<SimulationResult> {
  const problem = invalidOptions(o);
  if (problem) throw new Error(problem);
  registerModelKernels();
  await setBackend('cpu');
  const random = seededRandom(o.seed);
  const catalog = makeCatalog(o.categories, o.products, random);
  const noiseMultiplier = noiseForEpsilon(o.epsilon ?? MAX_EPSILON_BUDGET, o.rounds);

  const state = mkdtempSync(path.join(tmpdir(), 'vitrine-sim-'));
  const devices = new SimulatedDevices();
  devices.install();
  applyMigrations(path.join(state, 'wrangler'));
  // The test build of the edge: a round closes when its shoppers have visited (its test
  // controls), so a run never waits for a deadline and rounds can be a real site's day.
  const edge = await startLocalEdge(
    o.port,
    path.join(state, 'wrangler'),
    { ADMIN_TOKENS: JSON.stringify({ [SITE]: TOKEN, [CALIBRATION_SITE]: TOKEN }) },
    { testControls: true },
  );
  // Ctrl-C (or a kill) reaches this process alone: wrangler runs in a process group of its own
  // (so that stop() ends its workerd children with it), and would outlive an interrupted run,
  // holding its port.
  const stopEdge = () => {
    edge.stop();
    rmSync(state, { recursive: true, force: true });
  };
  const interrupted = (signal: NodeJS.Signals) => {
    stopEdge();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const client = new EdgeAdminClient(edge.url, SITE, TOKEN);
    let headClip = o.headClip ?? DEFAULT_PRIVACY.headClip;
    let opeClip = DEFAULT_PRIVACY.opeClip;
    const settings = (minCohort: number) => ({
      headClip,
      opeClip,
      name: 'Simulated storefront',
      allowedOrigins: [],
      minCohort,
      roundSeconds: ROUND_SECONDS,
      noiseMultiplier,
      // The run's rounds all close within minutes: a one-day period holds them all, and the run
      // spends its epsilon over them (noise at the least that fits; one day-long round alone fits too).
      epsilonBudget: Math.min(MAX_EPSILON_BUDGET, (o.epsilon ?? MAX_EPSILON_BUDGET) * 1.0001),
      budgetPeriodDays: 1,
      frequencyCapPerDay: 0,
      configRefreshSeconds: 1,
    });
    const calibration = new EdgeAdminClient(edge.url, CALIBRATION_SITE, TOKEN);
    await calibration.putSite(settings(o.shoppers)); // never released
    await client.putSite(settings(o.minCohort));
    for (const c of [client, calibration]) {
      await c.putProducts(catalog.products);
      await c.putTemplates(catalog.templates);
      await c.putCreatives(catalog.creatives);
    }
    const { model, weights } = await trainBootstrapModel((await client.config()).candidates, { examples: 40_000, cacheDir: '.vitrine/models', log: o.log });
    const versions: string[] = [];
    for (const c of [client, calibration]) {
      const { version } = await c.uploadModel(model, weights);
      await c.promote(version);
      versions.push(version);
    }
    // The frozen baseline: this first model, never retrained, scored beside every decision.
    const frozen = await loadScoringModel(edge.url, { version: versions[0]!, specHash: model.specHash, url: `/v1/models/${versions[0]}/model.json` });
    const world = WORLDS[o.world]!;

    const calibrated = await calibrate(devices, {
      site: CALIBRATION_SITE,
      o,
      catalog,
      candidates: (await calibration.config()).candidates,
      edgeUrl: edge.url,
      world,
      frozen,
    });
    let perShopperMs = calibrated.perShopperMs;
    headClip = calibrated.headClip;
    opeClip = calibrated.opeClip;
    await client.putSite(settings(o.minCohort));
    o.log(`devices: ${perShopperMs.toFixed(1)} ms per shopper's visit (${CONCURRENT_VISITS} at once); ${calibrated.bounds}`);

    const shoppers = Array.from({ length: o.shoppers }, (_, i) => simulatedShopper(i, catalog, o.seed));
    const paths = trainerPaths(path.join(state, 'trainer'), SITE);
    const results: RoundResult[] = [];
    for (let r = 0; r < o.rounds; r++) {
      // The CDN's copy of the config names the model and the round: both may have changed.
      devices.purge();
      const config = await client.config();
      const candidates = config.candidates;
      const round = config.round.id;
      const started = Date.now();
      if (r > 0) for (const s of shoppers) drift(s.shopper, catalog, o.drift, s.random);
      const sums = emptySums();
      await visitAll(shoppers, devices, {
        site: SITE,
        o,
        catalog,
        candidates,
        sums,
        edgeUrl: edge.url,
        ago: (o.rounds - 1 - r) * DAY_MS,
        world,
        frozen,
        round: r,
      });
      perShopperMs = (Date.now() - started) / o.shoppers;
      // Every shopper has visited and reported: the round closes (the test controls), and the
      // trainer pulls, fits, publishes and serves.
      const closed = await closeOpenRound(edge.url, SITE, TOKEN);
      if (closed.closed !== round) throw new Error(`round ${round} was to close, but round ${closed.closed} was open`);
      const { training, dashboardLift } = await trainAfterRound(client, paths, round, o);
      const ledger = await client.privacy();
      const result = roundResult(r, sums, ledger.epsilon, config.model?.version ?? 'none', training, dashboardLift);
      results.push(result);
      o.log(
        `round ${result.round}: CTR ${pct(result.ctr)} (frozen first model ${pct(result.frozenCtr)}, oracle ${pct(result.oracleCtr)}, random ${pct(result.randomCtr)}, popularity ${pct(result.popularityCtr)}); ` +
          `realized ${pct(result.realizedCtr)}, conversions ${pct(result.conversionRate)}; ` +
          `chosen in the favourite category ${pct(result.topCategoryShare)}, of the shopper's brand ${pct(result.brandShare)}, price band ${pct(result.priceBandShare)}; epsilon ${result.epsilon.toFixed(2)}; ` +
          `devices ${(perShopperMs).toFixed(1)} ms each; ${training}` +
          (dashboardLift ? `; the dashboard says personalized ${interval(dashboardLift.personalized)} against random ${interval(dashboardLift.uniform)}` : ''),
      );
    }
    frozen.dispose();
    return {
      options: { ...o, log: undefined } as unknown as Omit<SimulationOptions, 'log'>,
      noiseMultiplier,
      rounds: results,
      summary: summaryOf(results, o, noiseMultiplier, headClip, opeClip),
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    devices.uninstall();
    stopEdge();
  }
}

/**
 * Times a sample of throwaway devices on a site of their own (never released) and reads the
 * norms of their reports' parts, before the first round.
 */
async function calibrate(
  devices: SimulatedDevices,
  place: Pick<RoundContext, 'site' | 'o' | 'catalog' | 'candidates' | 'edgeUrl' | 'world' | 'frozen'>,
): Promise<{ perShopperMs: number; headClip: number; opeClip: number; bounds: string }> {
  const o = place.o;
  // Every device of a round must report inside it: time a sample of throwaway devices on a
  // site of their own, and make the first round 1.1 times what the whole population needs at
  // that pace (cold devices are 1.5-2.5 times slower than warm ones, so the margin is ample);
  // later rounds follow the pace measured in the round before.
  const sample = Array.from({ length: Math.min(o.shoppers, 200) }, (_, i) => simulatedShopper(1_000_000 + i, place.catalog, o.seed));
  // Their reports' head norms also give the site's head bound when none is asked for: the
  // bound is chosen from synthetic devices, so choosing it costs no shopper any privacy.
  const timing = Date.now();
  const norms: number[] = [];
  const opeNorms: number[] = [];
  await visitAll(sample, devices, { ...place, sums: emptySums(), ago: 0, norms, opeNorms, round: 0 });
  const perShopperMs = (Date.now() - timing) / sample.length;
  norms.sort((a, b) => a - b);
  const p90 = norms[Math.floor(0.9 * (norms.length - 1))] ?? DEFAULT_PRIVACY.headClip;
  const headClip = o.headClip ?? Math.ceil(p90);
  // The off-policy bound the same way, with room for the candidates the gate will have the
  // devices score beside the serving model and uniform random (the calibration site has none):
  // twice the 90th percentile.
  opeNorms.sort((a, b) => a - b);
  const opeP90 = opeNorms[Math.floor(0.9 * (opeNorms.length - 1))] ?? DEFAULT_PRIVACY.opeClip / 2;
  const opeClip = Math.min(DEFAULT_PRIVACY.opeClip, Math.max(1, Math.ceil(2 * opeP90)));
  const median = (xs: number[], digits: number) => (xs[Math.floor(xs.length / 2)] ?? 0).toFixed(digits);
  return {
    perShopperMs,
    headClip,
    opeClip,
    bounds:
      `head norms median ${median(norms, 0)}, p90 ${p90.toFixed(0)}: head bound ${headClip}${o.headClip === null ? '' : ' (asked for)'}; ` +
      `off-policy norms median ${median(opeNorms, 1)}, p90 ${opeP90.toFixed(1)}: off-policy bound ${opeClip}`,
  };
}

/**
 * After a round closes, what a merchant's trainer does: pull it (counting and releasing spend
 * budget), read the dashboard's lift from it, let the gate judge the candidates it scored, fit,
 * publish (and with `--promote always`, serve). Says what happened, in one line.
 */
async function trainAfterRound(
  client: EdgeAdminClient,
  paths: TrainerPaths,
  round: number,
  o: SimulationOptions,
): Promise<{ training: string; dashboardLift: Lift | null }> {
  let training: string;
  let dashboardLift: Lift | null = null;
  try {
    // Exactly the round that just closed (counting a round costs budget, even an empty one).
    const pulled = await pullRounds(client, paths, 1, true);
    const released = pulledOpe(paths).filter((p) => p.round === round);
    if (released.length > 0) dashboardLift = liftOver(released, released[0]!.loggingModel);
    if (pulled.budgetExhausted) training = `budget: ${pulled.budgetExhausted}`;
    else if (!pulled.released.includes(round))
      training = `kept the model: round ${round} was not released (${pulled.belowCohort.includes(round) ? `below K = ${o.minCohort}` : 'no reports'})`;
    else {
      // The merchant's gate first: candidates published after earlier rounds, judged on this
      // round's off-policy sums (the devices scored them beside the serving model).
      const gate = o.promote === 'gate' ? await promoteIfBetter(client, paths) : null;
      const points = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
      const verdicts = gate
        ? gate.evaluations
            .map(
              (e) =>
                `${e.candidate.slice(0, 6)} ${e.verdict}${e.difference ? ` ${points(e.difference.estimate)} [${points(e.difference.lower)}, ${points(e.difference.upper)}]` : ''}`,
            )
            .join(', ') || 'no candidate scored'
        : '';
      const fitted = await fitFromRounds(client, paths, SITE, { ...DEFAULT_ROUND_FIT, carry: o.carry, towerRate: o.towerRate });
      const { version } = await publishCandidate(client, paths);
      if (o.promote === 'always') await client.promote(version);
      const fit = `fitted on rounds ${fitted.rounds.join(', ')} (~${Math.round(fitted.examples)} examples, ${fitted.evidence.directions} of ${fitted.evidence.dim} directions above the noise); towers ${fitted.towers.skipped ? 'kept' : 'stepped'}`;
      training =
        o.promote === 'always'
          ? `${fit}; serving ${version}`
          : `gate: ${gate!.promoted ? `promoted ${gate!.promoted}` : 'kept the serving model'} (${verdicts}); ${fit}; candidate ${version}`;
    }
  } catch (e) {
    training = `kept the model: ${e instanceof Error ? e.message : String(e)}`;
  }
  return { training, dashboardLift };
}

/** The run's summary: the last round against random, the frozen first model and the oracle, and every round's worst shortfall below the frozen model. */
function summaryOf(
  results: readonly RoundResult[],
  o: SimulationOptions,
  noiseMultiplier: number,
  headClip: number,
  opeClip: number,
): SimulationResult['summary'] {
  const last = results.at(-1)!;
  const share = (r: RoundResult, x: number) => x / r.oracleCtr;
  return {
    world: o.world,
    ctr_vs_random: last.ctr / last.randomCtr,
    ctr_vs_frozen: last.ctr / last.frozenCtr,
    frozen_vs_oracle: share(last, last.frozenCtr),
    oracle_points_over_frozen: 100 * (share(last, last.ctr) - share(last, last.frozenCtr)),
    worst_points_below_frozen: Math.max(0, ...results.map((r) => 100 * (share(r, r.frozenCtr) - share(r, r.ctr)))),
    ctr_vs_oracle: last.ctr / last.oracleCtr,
    ctr_vs_popularity: last.ctr / last.popularityCtr,
    epsilon: last.epsilon,
    delta: PRIVACY_DELTA,
    noise_multiplier: noiseMultiplier,
    head_clip: headClip,
    ope_clip: opeClip,
    last_round_ctr: last.ctr,
  };
}

/** A round's figures: each policy's click rate on the same decisions, and what the round cost and served. */
function roundResult(r: number, sums: ReturnType<typeof emptySums>, epsilon: number, model: string, training: string, dashboardLift: Lift | null): RoundResult {
  const n = Math.max(1, sums.decisions);
  return {
    round: r + 1,
    decisions: sums.decisions,
    ctr: sums.ctr / n,
    frozenCtr: sums.frozen / n,
    oracleCtr: sums.oracle / n,
    randomCtr: sums.random / n,
    popularityCtr: sums.popularity / n,
    regret: (sums.oracle - sums.ctr) / n,
    topCategoryShare: sums.topCategory / n,
    brandShare: sums.brand / n,
    priceBandShare: sums.priceBand / n,
    realizedCtr: sums.clicks / n,
    conversionRate: sums.purchases / n,
    epsilon,
    model,
    training,
    dashboardLift,
  };
}

const interval = (i: Lift['personalized']) => (i ? `${pct(i.estimate)} (${pct(i.lower)}-${pct(i.upper)})` : 'n/a');

/** What every visit of one round shares. */
interface RoundContext {
  site: string;
  o: SimulationOptions;
  catalog: Catalog;
  candidates: Candidate[];
  sums: Sums;
  edgeUrl: string;
  /**
   * How long before the run's present this round's shopping happens (each visit's clock, see
   * device-environment.ts). A round is a day at the default round length (roundSeconds 86,400),
   * and the run compresses days into minutes: every time the engine keeps is the day's, so the
   * profile decays between rounds as it would between days (half-life 72 hours), and a taste
   * that drifted away fades as it would.
   */
  ago: number;
  /** Head norms of the reports, when asked for (the timing devices). */
  norms?: number[];
  /** Off-policy norms of the reports (all models together), when asked for (the timing devices). */
  opeNorms?: number[];
  world: World;
  /** The first model, never retrained: its policy is scored in every situation the engine decides in. */
  frozen: ScoringModel;
  /** 0-based round of the run (worlds that change over the run read it). */
  round: number;
}

const DAY_MS = 86_400_000;

/** Every shopper's visit of one round, several at once, each in its own device context. */
async function visitAll(shoppers: SimulatedShopper[], devices: SimulatedDevices, round: RoundContext): Promise<void> {
  const popular = round.candidates.reduce((best, c) => (c.popularity > best.popularity ? c : best), round.candidates[0]!);
  await forEachConcurrently(shoppers, CONCURRENT_VISITS, (s) => devices.visit(s.device, () => visit(s, popular, round), round.ago));
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

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
  const { o, catalog, candidates, sums, world } = round;
  const { shopper, random } = simulated;
  const status = await engine.start({ edge: round.edgeUrl, site: round.site, storage: 'persistent', reporting: true, reportTokenDelayMs: 0 });
  if (status.state !== 'ready') throw new Error(`a device could not start: ${status.reason}`);
  const moment: Moment = { round: round.round, rounds: o.rounds, lastPurchase: simulated.lastPurchase };
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
  for (let k = 0; k < o.decisions; k++) {
    // The frozen first model in this very situation (same profile, page and eligibility), before the decision changes it.
    const frozenPolicy = await engine.distribution('hero', page, THOMPSON_DRAWS, round.frozen);
    const [decision] = await engine.decide(['hero'], page);
    if (!decision) continue;
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
    const { status: code, body } = await postReport(prepared.url, prepared.report);
    await engine.reportAnswered(prepared.reportId, code, body);
  }
}
