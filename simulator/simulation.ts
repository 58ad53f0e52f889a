/**
 * The storefront simulator: a population of shoppers (population.ts) on the real system. Each
 * shopper is a device running the widget's engine code in Node (shopper-visits.ts), in device
 * threads that use every core asked for (device-pool.ts); the edge is the real worker in
 * `wrangler dev` (D1, the round's Durable Objects, noise, the privacy ledger), its test build, so
 * a round closes as soon as its shoppers have visited (its test controls) instead of at a deadline;
 * and the trainer's own functions pull, fit, publish and promote after every round.
 *
 * Per round it measures, on the very decisions the engine made, the expected click rate of the
 * engine's choices (the ground-truth probability of each shown creative), and of four other
 * policies in the same situations: the frozen first model, the oracle (the truly best creative
 * for that shopper), uniform random, and non-personalized popularity (round-figures.ts). Expected
 * rates (not sampled clicks) make the comparison free of click noise; realized clicks and
 * purchases are reported beside them, and are what the engine learns from.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_PRIVACY } from '../protocol/privacy.ts';
import { trainBootstrapModel } from '../model-training/src/bootstrap-model.ts';
import { EdgeAdminClient } from '../model-training/src/edge-admin-client.ts';
import { DEFAULT_ROUND_FIT, fitFromRounds, promoteIfBetter, publishCandidate } from '../model-training/src/round-training.ts';
import { pulledOpe, pullRounds, trainerPaths } from '../model-training/src/round-pull.ts';
import type { TrainerPaths } from '../model-training/src/round-pull.ts';
import { liftOver } from '../protocol/off-policy-estimate.ts';
import { fitSummary } from '../model-training/src/fit-summary.ts';
import type { Lift } from '../protocol/off-policy-estimate.ts';
import { seededRandom } from '../model-training/src/seeded-random.ts';
import { rateText } from '../protocol/rate-interval.ts';
import { applyMigrations, closeOpenRound, startLocalEdge } from '../scripts/local-edge.ts';
import { DevicePool } from './device-pool.ts';
import { makeCatalog } from './population.ts';
import { roundResult, summaryOf } from './round-figures.ts';
import type { RoundResult, SimulationResult } from './round-figures.ts';
import { budgetOf, invalidOptions, PERIOD_DAYS, ROUND_SECONDS, runNoise } from './simulation-options.ts';
import type { SimulationOptions } from './simulation-options.ts';

export { DEFAULT_SIMULATION, invalidOptions } from './simulation-options.ts';
export type { SimulationOptions } from './simulation-options.ts';
export type { RoundResult, SimulationResult } from './round-figures.ts';

const TOKEN = 'simulator-admin-token-0000000000';
const SITE = 'sim';
/** The site the throwaway devices that calibrate the bounds report to (its rounds are never released). */
const CALIBRATION_SITE = 'sim-calibration';
/** Throwaway devices' ids: far from the population's. */
const CALIBRATION_IDS = 1_000_000;
const DAY_MS = 86_400_000;

export async function runSimulation(o: SimulationOptions): Promise<SimulationResult> {
  const problem = invalidOptions(o);
  if (problem) throw new Error(problem);
  const catalog = makeCatalog(o.categories, o.products, seededRandom(o.seed));
  const noiseMultiplier = runNoise(o);
  const state = mkdtempSync(path.join(tmpdir(), 'vitrine-sim-'));
  applyMigrations(path.join(state, 'wrangler'));
  // The test build of the edge: a round closes when its shoppers have visited (its test controls).
  const edge = await startLocalEdge(
    o.port,
    path.join(state, 'wrangler'),
    { ADMIN_TOKENS: JSON.stringify({ [SITE]: TOKEN, [CALIBRATION_SITE]: TOKEN }) },
    { testControls: true },
  );
  let pool: DevicePool | null = null;
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
    const calibration = new EdgeAdminClient(edge.url, CALIBRATION_SITE, TOKEN);
    const settings = (minCohort: number, bounds: { headClip: number; opeClip: number; offsetClip: number }, learning: 'auto' | 'full' = 'auto') => ({
      ...bounds,
      name: 'Simulated storefront',
      allowedOrigins: [],
      minCohort,
      // A real shop's pacing: daily rounds, the budget per 30-day period, the noise paced so every round of it fits.
      roundSeconds: ROUND_SECONDS,
      budgetPeriodDays: PERIOD_DAYS,
      epsilonBudget: budgetOf(o),
      frequencyCapPerDay: 0,
      configRefreshSeconds: 1,
      learning,
      // No holdout: the worlds measure against the frozen first model and random; a shop's own slot content is not simulated.
      holdoutShare: 0,
    });
    const defaults = { headClip: o.headClip ?? DEFAULT_PRIVACY.headClip, opeClip: DEFAULT_PRIVACY.opeClip, offsetClip: DEFAULT_PRIVACY.offsetClip };
    // Never released; every part collected and (nearly) unclipped, so the timing devices' norms are what devices send.
    await calibration.putSite(settings(o.shoppers, { headClip: o.headClip ?? 1000, opeClip: 1000, offsetClip: 1000 }, 'full'));
    await client.putSite(settings(o.minCohort, defaults));
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
    const frozen = { version: versions[0]!, specHash: model.specHash, url: `/v1/models/${versions[0]}/model.json` };
    pool = await DevicePool.start(o.workers, { catalog, seed: o.seed, world: o.world, edgeUrl: edge.url, frozen });
    const calibrated = await calibrate(pool, calibration, o);
    // The bounds the site runs under: the calibrated ones, or the defaults a site gets without setting any.
    const bounds = o.bounds === 'defaults' ? defaults : { headClip: calibrated.headClip, opeClip: calibrated.opeClip, offsetClip: calibrated.offsetClip };
    await client.putSite(settings(o.minCohort, bounds));
    const served =
      o.bounds === 'defaults' ? `; the site keeps the default bounds: head ${bounds.headClip}, off-policy ${bounds.opeClip}, offsets ${bounds.offsetClip}` : '';
    o.log(
      `devices: ${calibrated.perShopperMs.toFixed(1)} ms per shopper's visit (${o.workers} device threads); noise ${noiseMultiplier.toFixed(2)} paced for epsilon ${budgetOf(o)} per ${PERIOD_DAYS} daily rounds; ${calibrated.bounds}${served}`,
    );

    const ids = Array.from({ length: o.shoppers }, (_, i) => i);
    const paths = trainerPaths(path.join(state, 'trainer'), SITE);
    const results: RoundResult[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const config = await client.config();
      const round = config.round.id;
      const started = Date.now();
      const { sums, opeNorms } = await pool.visit(ids, {
        site: SITE,
        candidates: config.candidates,
        ago: (o.rounds - 1 - r) * DAY_MS,
        round: r,
        rounds: o.rounds,
        decisions: o.decisions,
        drift: r > 0 ? o.drift : 0,
        norms: true,
      });
      // What the bound costs: the share of reports whose off-policy part was scaled down to it
      // (with the candidates under evaluation, whose paired sums add to the part's norm).
      // Within 1e-3 of the bound: a report keeps five significant digits, truncated towards zero
      // (report-outbox.ts), so a clipped part's norm lands up to about 1e-4 under its bound.
      const opeClipped = opeNorms.filter((x) => x >= bounds.opeClip * (1 - 1e-3)).length / Math.max(1, opeNorms.length);
      const perShopperMs = (Date.now() - started) / o.shoppers;
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
          `devices ${perShopperMs.toFixed(1)} ms each; off-policy part clipped on ${pct(opeClipped)} of reports; ${training}` +
          (dashboardLift ? `; the dashboard says personalized ${interval(dashboardLift.personalized)} against random ${interval(dashboardLift.uniform)}` : ''),
      );
    }
    return {
      options: { ...o, log: undefined } as unknown as Omit<SimulationOptions, 'log'>,
      noiseMultiplier,
      rounds: results,
      summary: summaryOf(results, o, noiseMultiplier, bounds.headClip, bounds.opeClip, bounds.offsetClip),
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await pool?.close();
    stopEdge();
  }
}

/**
 * The site's bounds from a sample of throwaway devices on a site of their own (never released),
 * before the first round: the 90th percentile of their reports' head norms (unless one was asked
 * for), and twice that of their off-policy norms. Chosen from synthetic devices, so choosing them
 * costs no shopper any privacy. Also times a visit.
 */
async function calibrate(
  pool: DevicePool,
  calibration: EdgeAdminClient,
  o: SimulationOptions,
): Promise<{ perShopperMs: number; headClip: number; opeClip: number; offsetClip: number; bounds: string }> {
  const sample = Array.from({ length: Math.min(o.shoppers, 200) }, (_, i) => CALIBRATION_IDS + i);
  const timing = Date.now();
  const { norms, opeNorms, offsetNorms } = await pool.visit(sample, {
    site: CALIBRATION_SITE,
    candidates: (await calibration.config()).candidates,
    ago: 0,
    round: 0,
    rounds: o.rounds,
    decisions: o.decisions,
    drift: 0,
    norms: true,
  });
  const perShopperMs = (Date.now() - timing) / sample.length;
  norms.sort((a, b) => a - b);
  const p90 = norms[Math.floor(0.9 * (norms.length - 1))] ?? DEFAULT_PRIVACY.headClip;
  const headClip = o.headClip ?? Math.ceil(p90);
  // The off-policy bound the same way, with room for the candidates the gate will have the
  // devices score beside the serving model and uniform random (the calibration site has none):
  // twice the 90th percentile.
  opeNorms.sort((a, b) => a - b);
  const opeP90 = opeNorms[Math.floor(0.9 * (opeNorms.length - 1))] ?? DEFAULT_PRIVACY.opeClip / 2;
  // At most 50: the uniform baseline's capped weights (up to 50 on an exploration pick) give a few
  // devices norms in the thousands, and a bound sized to them would drown everyone else.
  const opeClip = Math.min(50, Math.max(1, Math.ceil(2 * opeP90)));
  // The offsets bound: their 90th percentile, to a tenth.
  offsetNorms.sort((a, b) => a - b);
  const offsetP90 = offsetNorms[Math.floor(0.9 * (offsetNorms.length - 1))] ?? DEFAULT_PRIVACY.offsetClip;
  const offsetClip = Math.max(0.1, Math.ceil(10 * offsetP90) / 10);
  const median = (xs: number[], digits: number) => (xs[Math.floor(xs.length / 2)] ?? 0).toFixed(digits);
  return {
    perShopperMs,
    headClip,
    opeClip,
    offsetClip,
    bounds:
      `head norms median ${median(norms, 0)}, p90 ${p90.toFixed(0)}: head bound ${headClip}${o.headClip === null ? '' : ' (asked for)'}; ` +
      `off-policy norms median ${median(opeNorms, 1)}, p90 ${opeP90.toFixed(1)}: off-policy bound ${opeClip}; ` +
      `offsets norms median ${median(offsetNorms, 2)}, p90 ${offsetP90.toFixed(2)}: offsets bound ${offsetClip}`,
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
  let gateSaid = '';
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
                `${e.candidate.slice(0, 6)} ${e.verdict}${e.difference ? ` ${points(e.difference.estimate)} [${points(e.difference.lower)}, ${points(e.difference.upper)}]` : ''}${e.noiseShare === null ? '' : ` noise ${Math.round(100 * e.noiseShare)}%`}`,
            )
            .join(', ') || 'no candidate scored'
        : '';
      gateSaid = gate ? `gate: ${gate.promoted ? `promoted ${gate.promoted}` : 'kept the serving model'} (${verdicts}); ` : '';
      const fitted = await fitFromRounds(client, paths, SITE, { ...DEFAULT_ROUND_FIT, carry: o.carry, towerRate: o.towerRate });
      const { version } = await publishCandidate(client, paths);
      if (o.promote === 'always') await client.promote(version);
      const fit = fitSummary(fitted);
      training = o.promote === 'always' ? `${fit}; serving ${version}` : `${gateSaid}${fit}; candidate ${version}`;
    }
  } catch (e) {
    // What the gate did stays in the record when the fit after it has nothing to learn.
    training = `${gateSaid}no new candidate: ${e instanceof Error ? e.message : String(e)}`;
  }
  return { training, dashboardLift };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const interval = (i: Lift['personalized']) => rateText(i, '-');
