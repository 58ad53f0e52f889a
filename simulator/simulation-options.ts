/**
 * What a simulation run is asked for, and the refusal of what makes no sense, checked with the
 * edge's own schema and the trainer's own option checks before anything starts.
 *
 * The budget is a site's: `--epsilon E` is E per 30-day period of daily rounds, the noise paced so
 * every round of the period fits (protocol/budget-pacing.ts), as at a real shop; `--rounds N` runs
 * the first N of them. The run's rounds all close within minutes of real time, so the ledger's
 * window holds every one of them: a run is at most one period.
 */
import * as v from 'valibot';
import { MAX_EPSILON_BUDGET, pacingOf } from '../protocol/budget-pacing.ts';
import { SiteSettingsSchema } from '../protocol/site-settings.ts';
import { DEFAULT_ROUND_FIT, fitOptionsProblem } from '../model-training/src/round-training.ts';
import { WORLDS } from './worlds.ts';

/** The simulated site's period and round length: a real shop's defaults. */
export const PERIOD_DAYS = 30;
export const ROUND_SECONDS = 86_400;

export interface SimulationOptions {
  shoppers: number;
  rounds: number;
  /** The site's (epsilon, 1e-6) budget per 30-day period of daily rounds; null: the largest a site may set (20). */
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
  /**
   * The site's clipping bounds: `calibrated`, chosen from throwaway devices before the first round
   * (simulation.ts, calibrate: what a merchant who tunes them gets); `defaults`, what a new site
   * gets without setting them (protocol/privacy.ts, DEFAULT_PRIVACY: a merchant's first day).
   */
  bounds: 'calibrated' | 'defaults';
  /** Threads the shoppers' devices run in (each a share of the shoppers, the engine's own code). */
  workers: number;
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
  bounds: 'calibrated',
  workers: 2,
  port: 8821,
};

/** The budget the run's site gets. */
export function budgetOf(o: Pick<SimulationOptions, 'epsilon'>): number {
  return o.epsilon ?? MAX_EPSILON_BUDGET;
}

/** The noise every round of the run gets: the site's pace for its budget. */
export function runNoise(o: Pick<SimulationOptions, 'epsilon'>): number {
  return pacingOf({ epsilonBudget: budgetOf(o), budgetPeriodDays: PERIOD_DAYS, roundSeconds: ROUND_SECONDS }).noiseMultiplier;
}

/** Why the configuration makes no sense, or null. */
export function invalidOptions(o: Omit<SimulationOptions, 'log'>): string | null {
  const whole = (name: string, x: number, min: number, max: number) =>
    !Number.isInteger(x) || x < min || x > max ? `--${name} must be a whole number from ${min} to ${max} (got ${x})` : null;
  return (
    whole('shoppers', o.shoppers, 10, 1_000_000) ??
    whole('rounds', o.rounds, 1, PERIOD_DAYS) ??
    whole('categories', o.categories, 2, 40) ??
    whole('products', o.products, 2, 100) ??
    whole('decisions', o.decisions, 1, 20) ??
    whole('seed', o.seed, 0, 2 ** 31) ??
    whole('min-cohort', o.minCohort, 2, 1_000_000) ??
    whole('workers', o.workers, 1, 16) ??
    whole('port', o.port, 1024, 65535) ??
    (WORLDS[o.world] ? null : `--world ${o.world} is not a world; the worlds are ${Object.keys(WORLDS).join(', ')}`) ??
    (o.promote === 'gate' || o.promote === 'always' ? null : `--promote is gate or always (got ${String(o.promote)})`) ??
    (o.bounds === 'calibrated' || o.bounds === 'defaults' ? null : `--bounds is calibrated or defaults (got ${String(o.bounds)})`) ??
    (o.minCohort > o.shoppers ? `--min-cohort ${o.minCohort} is above the population (${o.shoppers} shoppers): no round could ever be released` : null) ??
    (o.epsilon === null ? null : siteSettingProblem('epsilonBudget', o.epsilon, `--epsilon ${o.epsilon} (or none)`)) ??
    (!(o.drift >= 0 && o.drift <= 1) ? `--drift must be from 0 to 1 (got ${o.drift})` : null) ??
    (o.headClip === null ? null : siteSettingProblem('headClip', o.headClip, `--head-clip ${o.headClip}`)) ??
    fitOptionsProblem({ ...DEFAULT_ROUND_FIT, carry: o.carry, towerRate: o.towerRate })
  );
}

/** Why the edge would refuse `value` for a site setting (its own schema), or null: refused here before a run starts. */
function siteSettingProblem(setting: 'headClip' | 'epsilonBudget', value: number, what: string): string | null {
  const checked = v.safeParse(SiteSettingsSchema.entries[setting], value);
  return checked.success ? null : `${what} is not a ${setting} the edge accepts: ${checked.issues[0].message}`;
}
