/**
 * `npm run simulate -- [--shoppers N] [--rounds R] [--epsilon E|none] [--seed S] [--categories C]
 * [--products P] [--decisions D] [--min-cohort K] [--drift F] [--head-clip C] [--carry C] [--tower-rate R] [--world NAME] [--promote gate|always] [--bounds calibrated|defaults] [--workers N] [--port PORT] [--chart FILE] [--json]`
 *
 * Runs the storefront simulation (simulation.ts) and prints each round's figures, or with --json
 * one object whose `summary` holds ctr_vs_random, ctr_vs_oracle and epsilon (spent). Writes the
 * click-rate chart (SVG) to --chart (default dist/simulation/ctr-by-round.svg).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ctrChart } from './chart.ts';
import { DEFAULT_SIMULATION, invalidOptions, runSimulation } from './simulation.ts';
import type { SimulationOptions } from './simulation.ts';

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      shoppers: { type: 'string' },
      rounds: { type: 'string' },
      epsilon: { type: 'string' },
      seed: { type: 'string' },
      categories: { type: 'string' },
      products: { type: 'string' },
      decisions: { type: 'string' },
      'min-cohort': { type: 'string' },
      drift: { type: 'string' },
      'head-clip': { type: 'string' },
      carry: { type: 'string' },
      'tower-rate': { type: 'string' },
      world: { type: 'string' },
      promote: { type: 'string' },
      bounds: { type: 'string' },
      workers: { type: 'string' },
      port: { type: 'string' },
      chart: { type: 'string', default: 'dist/simulation/ctr-by-round.svg' },
      json: { type: 'boolean', default: false },
    },
  }).values;
}

async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parseOptions>;
  try {
    values = parseOptions(argv);
  } catch (e) {
    process.stderr.write(`simulate: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const number = (text: string | undefined, fallback: number) => (text === undefined ? fallback : Number(text));
  const d = DEFAULT_SIMULATION;
  const shoppers = number(values.shoppers, d.shoppers);
  const options: Omit<SimulationOptions, 'log'> = {
    shoppers,
    rounds: number(values.rounds, d.rounds),
    epsilon: values.epsilon === 'none' ? null : number(values.epsilon, d.epsilon!),
    seed: number(values.seed, d.seed),
    categories: number(values.categories, d.categories),
    products: number(values.products, d.products),
    decisions: number(values.decisions, d.decisions),
    minCohort: number(values['min-cohort'], Math.min(d.minCohort, Number.isFinite(shoppers) ? Math.max(2, Math.floor(shoppers / 2)) : d.minCohort)),
    drift: number(values.drift, d.drift),
    headClip: values['head-clip'] === undefined ? null : Number(values['head-clip']),
    carry: number(values.carry, d.carry),
    towerRate: number(values['tower-rate'], d.towerRate),
    world: values.world ?? d.world,
    promote: (values.promote ?? d.promote) as SimulationOptions['promote'],
    bounds: (values.bounds ?? d.bounds) as SimulationOptions['bounds'],
    workers: number(values.workers, d.workers),
    port: number(values.port, d.port),
  };
  const problem = invalidOptions(options);
  if (problem) {
    process.stderr.write(`simulate: ${problem}\n`);
    return 2;
  }
  const log = values.json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => process.stdout.write(`${line}\n`);
  const result = await runSimulation({ ...options, log });
  const eps = options.epsilon === null ? 'the largest budget a site may set (epsilon 20)' : `epsilon ${options.epsilon}`;
  const chart = path.resolve(values.chart!);
  mkdirSync(path.dirname(chart), { recursive: true });
  writeFileSync(chart, ctrChart(result.rounds, `Click rate by round: world ${options.world}, ${options.shoppers} shoppers, ${eps}, seed ${options.seed}`));
  if (values.json) process.stdout.write(`${JSON.stringify({ ...result, chart })}\n`);
  else {
    const s = result.summary;
    log(
      `last round (world ${s.world}): ${(100 * s.ctr_vs_oracle).toFixed(1)}% of the oracle's click rate against the frozen first model's ${(100 * s.frozen_vs_oracle).toFixed(1)}% (${s.oracle_points_over_frozen >= 0 ? '+' : ''}${s.oracle_points_over_frozen.toFixed(1)} points; ` +
        `the worst round ${s.worst_points_below_frozen.toFixed(1)} points below it); ${s.ctr_vs_random.toFixed(2)}x random`,
    );
    log(
      `last round: Vitrine's click rate is ${s.ctr_vs_random.toFixed(2)}x random, ${(100 * s.ctr_vs_oracle).toFixed(0)}% of the oracle's, ${s.ctr_vs_popularity.toFixed(2)}x popularity; epsilon spent ${s.epsilon.toFixed(2)} (delta 1e-6, noise multiplier ${s.noise_multiplier.toFixed(2)})`,
    );
    log(`chart: ${chart}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`simulate: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
